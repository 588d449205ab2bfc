import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  hostField,
  keyTypeOf,
  knownHostsEntry,
  parseKnownHosts,
  verifyHostKey,
} from '../../../src/host/known-hosts.js';

function blob(type: string, body: string): Buffer {
  const t = Buffer.from(type);
  const b = Buffer.from(body);
  const out = Buffer.alloc(8 + t.length + b.length);
  out.writeUInt32BE(t.length, 0);
  t.copy(out, 4);
  out.writeUInt32BE(b.length, 4 + t.length);
  b.copy(out, 8 + t.length);
  return out;
}
const KEY = blob('ssh-ed25519', 'the-real-key-material-32-bytes!!');
const OTHER = blob('ssh-ed25519', 'some-other-key-material-32bytes!');

function hashed(name: string, salt = Buffer.from('0123456789abcdefghij')): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  it('names hosts the way OpenSSH does', () => {
    expect(hostField('web-1', 22)).toBe('web-1');
    expect(hostField('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostsEntry('web-1', 22, KEY)).toBe(`web-1 ssh-ed25519 ${KEY.toString('base64')}`);
    expect(keyTypeOf(KEY)).toBe('ssh-ed25519');
    expect(fingerprint(KEY)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it.each([
    ['plain name', `web-1 ssh-ed25519 ${KEY.toString('base64')}`, 'web-1', 22, 'known'],
    ['name list', `db,web-1,10.0.0.5 ssh-ed25519 ${KEY.toString('base64')}`, '10.0.0.5', 22, 'known'],
    ['port form', `[web-1]:2222 ssh-ed25519 ${KEY.toString('base64')}`, 'web-1', 2222, 'known'],
    [
      'port form does not match port 22',
      `[web-1]:2222 ssh-ed25519 ${KEY.toString('base64')}`,
      'web-1',
      22,
      'unknown',
    ],
    ['wildcard', `*.example.org ssh-ed25519 ${KEY.toString('base64')}`, 'web-1.example.org', 22, 'known'],
    [
      'negation',
      `*.example.org,!bad.example.org ssh-ed25519 ${KEY.toString('base64')}`,
      'bad.example.org',
      22,
      'unknown',
    ],
    ['hashed', `${hashed('web-1')} ssh-ed25519 ${KEY.toString('base64')}`, 'web-1', 22, 'known'],
    [
      'hashed with port',
      `${hashed('[web-1]:2222')} ssh-ed25519 ${KEY.toString('base64')}`,
      'web-1',
      2222,
      'known',
    ],
    ['a different key recorded', `web-1 ssh-ed25519 ${OTHER.toString('base64')}`, 'web-1', 22, 'changed'],
    ['revoked', `@revoked web-1 ssh-ed25519 ${KEY.toString('base64')}`, 'web-1', 22, 'revoked'],
    [
      'cert authority lines are not host keys',
      `@cert-authority web-1 ssh-ed25519 ${OTHER.toString('base64')}`,
      'web-1',
      22,
      'unknown',
    ],
    [
      'comments and blanks',
      `# comment\n\nweb-1 ssh-ed25519 ${KEY.toString('base64')} user@laptop`,
      'web-1',
      22,
      'known',
    ],
  ])('%s', (_name, text, host, port, status) => {
    expect(verifyHostKey(parseKnownHosts(text, 'kh'), host, port, KEY).status).toBe(status);
  });

  it('points at the line that holds the other key', () => {
    const v = verifyHostKey(
      parseKnownHosts(`# x\nweb-1 ssh-ed25519 ${OTHER.toString('base64')}\n`, '/home/u/.ssh/known_hosts'),
      'web-1',
      22,
      KEY,
    );
    expect(v).toMatchObject({ status: 'changed', line: { file: '/home/u/.ssh/known_hosts', line: 2 } });
  });
});
