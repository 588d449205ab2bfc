import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HOST_KEY_ALGORITHMS,
  fingerprint,
  hostField,
  hostKeyAlgorithms,
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
  it('matches a name without wildcards as the expression would: ASCII case folded, nothing folded into ASCII', () => {
    const lines = (host: string) => parseKnownHosts(`${host} ssh-ed25519 ${KEY.toString('base64')}\n`, 'kh');
    expect(verifyHostKey(lines('WEB-1.Example'), 'web-1.example', 22, KEY).status).toBe('known');
    expect(verifyHostKey(lines('web-1'), 'WEB-1', 22, KEY).status).toBe('known');
    // The Kelvin sign lower-cases to `k`; OpenSSH and the expression do not take it for one.
    expect(verifyHostKey(lines('web-k'), 'web-\u212a', 22, KEY).status).toBe('unknown');
    expect(verifyHostKey(lines('web-k'), 'web-kk', 22, KEY).status).toBe('unknown');
    expect(verifyHostKey(lines('web-1,!web-1'), 'web-1', 22, KEY).status).toBe('unknown');
    // The same pattern again (made once) still answers for each name.
    expect(verifyHostKey(lines('web-?'), 'web-2', 22, KEY).status).toBe('known');
    expect(verifyHostKey(lines('web-?'), 'web-22', 22, KEY).status).toBe('unknown');
  });

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

  it('one list, many hosts: each finds its own lines in file order, plain names, hashed and patterns alike', () => {
    const b64 = (k: Buffer) => k.toString('base64');
    const THIRD = blob('ssh-ed25519', 'yet-another-key-material-32byte!');
    const text = [
      `${hashed('web-3')} ssh-ed25519 ${b64(OTHER)}`,
      `web-3,WEB-1 ssh-ed25519 ${b64(OTHER)}`,
      `web-? ssh-ed25519 ${b64(KEY)}`,
      ...Array.from(
        { length: 200 },
        (_, i) => `[h-${i}]:2222 ssh-ed25519 ${b64(blob('ssh-ed25519', `key-${i}`))}`,
      ),
    ].join('\n');
    const lines = parseKnownHosts(text, 'kh');
    expect(verifyHostKey(lines, 'web-1', 22, KEY)).toMatchObject({ status: 'known', line: { line: 3 } });
    expect(verifyHostKey(lines, 'web-3', 22, THIRD)).toMatchObject({ status: 'changed', line: { line: 1 } });
    expect(verifyHostKey(lines, 'web-1', 22, THIRD)).toMatchObject({ status: 'changed', line: { line: 2 } });
    expect(verifyHostKey(lines, 'web-9', 22, THIRD)).toMatchObject({ status: 'changed', line: { line: 3 } });
    expect(verifyHostKey(lines, 'db', 22, KEY).status).toBe('unknown');
    for (let i = 0; i < 200; i += 37) {
      expect(verifyHostKey(lines, `h-${i}`, 2222, blob('ssh-ed25519', `key-${i}`))).toMatchObject({
        status: 'known',
        line: { line: 4 + i },
      });
      expect(verifyHostKey(lines, `h-${i}`, 2222, KEY)).toMatchObject({
        status: 'changed',
        line: { line: 4 + i },
      });
      expect(verifyHostKey(lines, `h-${i}`, 22, KEY).status).toBe('unknown');
    }
    // a key accepted meanwhile is appended to the same list: it is found
    lines.push(...parseKnownHosts(`db ssh-ed25519 ${b64(KEY)}`, 'kh'));
    expect(verifyHostKey(lines, 'db', 22, KEY).status).toBe('known');
    expect(hostKeyAlgorithms(lines, 'db', 22)[0]).toBe('ssh-ed25519');
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

describe('mixed key types (issue 12, defect 9)', () => {
  const ECDSA = blob('ecdsa-sha2-nistp256', 'the-ecdsa-key-material');
  const ECDSA_OTHER = blob('ecdsa-sha2-nistp256', 'another-ecdsa-key');
  const RSA = blob('ssh-rsa', 'an-rsa-key');
  const line = (b: Buffer, host = 'web-1') => `${host} ${keyTypeOf(b)} ${b.toString('base64')}`;

  it('an ed25519 key the file does not hold is unknown, not changed, when only an ecdsa key is recorded', () => {
    const v = verifyHostKey(parseKnownHosts(line(ECDSA), 'kh'), 'web-1', 22, KEY);
    expect(v.status).toBe('unknown');
    expect(v.status === 'unknown' && v.others.map((l) => l.keyType)).toEqual(['ecdsa-sha2-nistp256']);
  });

  it('is changed only when a recorded key of the presented type differs', () => {
    const lines = parseKnownHosts(`${line(OTHER)}\n${line(ECDSA)}\n`, 'kh');
    expect(verifyHostKey(lines, 'web-1', 22, ECDSA).status).toBe('known');
    expect(verifyHostKey(lines, 'web-1', 22, ECDSA_OTHER)).toMatchObject({
      status: 'changed',
      line: { line: 2 },
    });
    expect(verifyHostKey(lines, 'web-1', 22, KEY)).toMatchObject({ status: 'changed', line: { line: 1 } });
  });

  it('offers OpenSSH’s default order when known_hosts holds nothing for the host', () => {
    expect(hostKeyAlgorithms(parseKnownHosts(line(ECDSA, 'db-1'), 'kh'), 'web-1', 22)).toEqual([
      ...DEFAULT_HOST_KEY_ALGORITHMS,
    ]);
    expect(DEFAULT_HOST_KEY_ALGORITHMS[0]).toBe('ssh-ed25519');
  });

  it('puts the types known_hosts holds for the host first, in the default order, then the rest', () => {
    expect(hostKeyAlgorithms(parseKnownHosts(line(ECDSA), 'kh'), 'web-1', 22)).toEqual([
      'ecdsa-sha2-nistp256',
      'ssh-ed25519',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
  });

  it('an RSA key brings its three signature algorithms forward; several types keep the default order', () => {
    const lines = parseKnownHosts(`${line(RSA)}\n${line(ECDSA)}\n`, 'kh');
    expect(hostKeyAlgorithms(lines, 'web-1', 22)).toEqual([
      'ecdsa-sha2-nistp256',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
    ]);
  });

  it('matches the host as verification does: [host]:port, hashed names; @revoked and @cert-authority lines bring nothing forward', () => {
    const text = [
      `${hashed('[10.0.0.5]:2222')} ecdsa-sha2-nistp384 ${ECDSA.toString('base64')}`,
      `@revoked [10.0.0.5]:2222 ssh-rsa ${RSA.toString('base64')}`,
      `@cert-authority * ecdsa-sha2-nistp521 ${ECDSA.toString('base64')}`,
    ].join('\n');
    expect(hostKeyAlgorithms(parseKnownHosts(text, 'kh'), '10.0.0.5', 2222).slice(0, 2)).toEqual([
      'ecdsa-sha2-nistp384',
      'ssh-ed25519',
    ]);
  });
});
