/** Credentials from docker's config.json format, the environment first; helpers named, never run. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsFromConfig, findCredentials, registryKey } from '../../../src/store/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'kf-creds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docker config.json', () => {
  it('registry keys as docker writes them', () => {
    expect(registryKey('https://Reg.Example.com:5000/v1/')).toBe('reg.example.com:5000');
    expect(registryKey('reg.example.com')).toBe('reg.example.com');
  });

  it('auth (base64 user:password, a colon in the password kept) or username and password', () => {
    const cfg = JSON.stringify({
      auths: {
        'https://a.example': { auth: b64('alice:pa:ss') },
        'b.example:5000': { username: 'bob', password: 'pw' },
      },
    });
    expect(credentialsFromConfig(cfg, 'a.example', 'f')).toEqual({
      credentials: { username: 'alice', password: 'pa:ss', source: 'f' },
    });
    expect(credentialsFromConfig(cfg, 'b.example:5000', 'f').credentials?.username).toBe('bob');
    expect(credentialsFromConfig(cfg, 'b.example', 'f')).toEqual({});
  });

  it('a credential helper or an identity token is named, not used', () => {
    expect(credentialsFromConfig(JSON.stringify({ credsStore: 'desktop' }), 'a.example', 'f').note).toMatch(
      /docker-credential-desktop, which kernelfile does not run/,
    );
    expect(
      credentialsFromConfig(
        JSON.stringify({ auths: { 'a.example': { identitytoken: 't' } } }),
        'a.example',
        'f',
      ).note,
    ).toMatch(/identity token/);
    expect(credentialsFromConfig('not json', 'a.example', 'f')).toEqual({ note: 'f is not JSON' });
    expect(
      credentialsFromConfig(
        JSON.stringify({ auths: { 'a.example': { auth: b64('nocolon') } } }),
        'a.example',
        'f',
      ).note,
    ).toMatch(/not base64 of user:password/);
  });

  it('the order: environment, REGISTRY_AUTH_FILE, $DOCKER_CONFIG, ~/.docker', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(
      join(home, '.docker/config.json'),
      JSON.stringify({ auths: { r: { auth: b64('home:1') } } }),
    );
    mkdirSync(join(dir, 'dc'));
    writeFileSync(
      join(dir, 'dc/config.json'),
      JSON.stringify({ auths: { r: { auth: b64('dockerconfig:1') } } }),
    );
    writeFileSync(join(dir, 'auth.json'), JSON.stringify({ auths: { r: { auth: b64('authfile:1') } } }));
    const user = (vars: Record<string, string>) =>
      findCredentials('r', { HOME: home, ...vars }).credentials?.username;
    expect(user({})).toBe('home');
    expect(user({ DOCKER_CONFIG: join(dir, 'dc') })).toBe('dockerconfig');
    expect(user({ DOCKER_CONFIG: join(dir, 'dc'), REGISTRY_AUTH_FILE: join(dir, 'auth.json') })).toBe(
      'authfile',
    );
    expect(
      user({
        REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
        KERNELFILE_STORE_USERNAME: 'env',
        KERNELFILE_STORE_PASSWORD: 'p',
      }),
    ).toBe('env');
    expect(findCredentials('other', { HOME: home })).toEqual({});
  });
});
