/**
 * gather(): failures named after the host, and the digest, over a fake transport that answers
 * with canned output (test/integration/facts-gather.test.ts runs the script with the local sh).
 */
import { describe, expect, it } from 'vitest';
import { factsDigest, gather, parseFacts } from '../../../src/facts/gather.js';
import { HostError } from '../../../src/host/transport.js';
import { gatherTransport } from '../../helpers/gather-transport.js';

const fakeTransport = gatherTransport;

describe('gather', () => {
  it('refuses output that stops before the trailer, naming the host and the stderr', async () => {
    const { t } = fakeTransport((stdin) => {
      const nonce = stdin.match(/kf__nonce='(\w+)'/)?.[1];
      return { code: 255, stdout: `${nonce} system arch\nx86_64\n`, stderr: 'Connection to web-1 closed.\n' };
    });
    const err = await gather(t).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
    expect((err as HostError).message).toMatch(/^ssh:\/\/root@web-1:22: gathering facts failed \(exit 255\)/);
    expect((err as HostError).message).toContain('Connection to web-1 closed.');
  });

  it('refuses a host without sh (nothing gathered)', async () => {
    const { t } = fakeTransport(() => ({ code: 127, stdout: '', stderr: 'sh: not found' }));
    await expect(gather(t)).rejects.toThrow(/exit 127.*sh: not found/);
  });
});

describe('the facts digest', () => {
  const N = 'kfDIGEST0001';
  const out = (body: string) => `${body}${N} - end\nok\n`;
  const base = `${N} system arch\nx86_64\n${N} system arch#rc\n0\n${N} kernels modules\nd 6.1.0-18-amd64\n\n${N} kernels modules/6.1.0-18-amd64\nf modules.dep\n\n`;
  const df = (avail: number) =>
    `${N} space boot\nFilesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda1 1000 10 ${avail} 1% /\n\n${N} space boot#rc\n0\n`;

  it('does not change with free space or with the name the host was reached by', () => {
    const a = parseFacts(out(base + df(900)), N, 'ssh://web-1');
    const b = parseFacts(out(base + df(100)), N, 'ssh://root@web-1:22');
    expect(a.space.boot?.freeBytes).not.toBe(b.space.boot?.freeBytes);
    expect(a.digest).toBe(b.digest);
  });

  it('changes when a fact a plan depends on changes', () => {
    const a = parseFacts(out(base), N, 'h');
    const b = parseFacts(out(base.replace('f modules.dep\n', '')), N, 'h');
    expect(a.kernels[0]?.modules?.modulesDep).toBe(true);
    expect(b.kernels[0]?.modules?.modulesDep).toBe(false);
    expect(a.digest).not.toBe(b.digest);
  });

  it('does not depend on key order', () => {
    const f = parseFacts(out(base), N, 'h');
    const { digest, ...rest } = f;
    const reordered = Object.fromEntries(Object.entries(rest).reverse()) as typeof rest;
    expect(factsDigest(reordered)).toBe(digest);
  });
});
