import { describe, expect, it } from 'vitest';
import {
  connectionKey,
  frame,
  type KeptConnection,
  MAX_MESSAGE,
  MessageReader,
  unsafeDir,
} from '../../../src/host/keeper-protocol.js';

const conn = (over: Partial<KeptConnection> = {}): KeptConnection => ({
  target: {
    alias: 'web-1',
    host: '192.0.2.10',
    port: 22,
    user: 'root',
    identityFiles: ['/nonexistent/kf-unit/id_ed25519'],
    identitiesOnly: false,
    proxyJump: [],
  },
  jumps: {},
  knownHostsFiles: ['/nonexistent/kf-unit/known_hosts'],
  ...over,
});

describe('keeper messages', () => {
  it('are one JSON object per line, read back across any split of the stream', () => {
    const text =
      frame({ line: 'a\nb "quoted"', stream: 'stdout' }) +
      frame({ result: { code: 0, stdout: 'x', stderr: '' } });
    expect(text.split('\n')).toHaveLength(3); // two lines and the empty rest: no raw newline inside
    const bytes = Buffer.from(text);
    for (const cut of [1, 5, 17, bytes.length - 1]) {
      const r = new MessageReader();
      const got = [...r.push(bytes.subarray(0, cut)), ...r.push(bytes.subarray(cut))];
      expect(got).toEqual([
        { line: 'a\nb "quoted"', stream: 'stdout' },
        { result: { code: 0, stdout: 'x', stderr: '' } },
      ]);
    }
  });

  it('keeps multi-byte characters split between chunks whole', () => {
    const bytes = Buffer.from(frame({ line: 'größe ✓', stream: 'stderr' }));
    const r = new MessageReader();
    const at = bytes.indexOf(0xc3) + 1; // inside ö
    expect([...r.push(bytes.subarray(0, at)), ...r.push(bytes.subarray(at))]).toEqual([
      { line: 'größe ✓', stream: 'stderr' },
    ]);
  });

  it('refuses a line that is not a JSON object, and a message past the limit', () => {
    expect(() => new MessageReader().push(Buffer.from('[1,2]\n'))).toThrow('not an object');
    expect(() => new MessageReader().push(Buffer.from('nope\n'))).toThrow();
    const r = new MessageReader();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    expect(() => {
      for (let n = 0; n <= MAX_MESSAGE / chunk.length; n++) r.push(chunk);
    }).toThrow(`longer than ${MAX_MESSAGE} bytes`);
  });
});

describe('the socket directory', () => {
  const st = (o: { dir?: boolean; link?: boolean; uid?: number; mode?: number }) => ({
    isDirectory: () => o.dir ?? true,
    isSymbolicLink: () => o.link ?? false,
    uid: o.uid ?? 1000,
    mode: o.mode ?? 0o40700,
  });
  it("is the user's alone: a directory, not a link, owned by them, closed to others", () => {
    expect(unsafeDir(st({}), 1000)).toBeUndefined();
    expect(unsafeDir(st({ link: true }), 1000)).toBe('is a symbolic link');
    expect(unsafeDir(st({ dir: false }), 1000)).toBe('is not a directory');
    expect(unsafeDir(st({ uid: 0 }), 1000)).toBe('is owned by uid 0, not by you (uid 1000)');
    expect(unsafeDir(st({ mode: 0o40750 }), 1000)).toBe('can be entered by others (mode 750)');
    expect(unsafeDir(st({ mode: 0o41777 }), 1000)).toContain('mode 1777');
  });
});

describe('the connection key', () => {
  it('is the same for the same settings, and differs with anything that decides the connection', () => {
    const k = connectionKey(conn());
    expect(connectionKey(conn())).toBe(k);
    const t = conn().target;
    const others = [
      conn({ target: { ...t, user: 'deploy' } }),
      conn({ target: { ...t, port: 2222 } }),
      conn({ target: { ...t, host: '192.0.2.11' } }),
      conn({ target: { ...t, identityFiles: ['/nonexistent/kf-unit/other'] } }),
      conn({ target: { ...t, proxyJump: ['bastion'] }, jumps: { bastion: { ...t, alias: 'bastion' } } }),
      conn({ knownHostsFiles: ['/nonexistent/kf-unit/other_known_hosts'] }),
      conn({ agentSocket: '/nonexistent/kf-unit/agent.sock' }),
      conn({ connectTimeoutMs: 5000 }),
      conn({ commandTimeoutMs: 60_000 }),
    ].map(connectionKey);
    expect(new Set([k, ...others]).size).toBe(others.length + 1);
  });
});
