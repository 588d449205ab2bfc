/**
 * gather(): one round trip over the transport. The fake transport runs what it is given with the
 * local sh, so the facts are real (split from test/unit/facts/gather.test.ts: it starts sh).
 */

import { describe, expect, it } from 'vitest';
import { gather } from '../../src/facts/gather.js';
import type { RunResult } from '../../src/host/transport.js';
import { gatherTransport } from '../helpers/gather-transport.js';
import { runSh } from '../helpers/sh.js';

function fakeTransport(respond?: (stdin: string) => RunResult) {
  return gatherTransport(respond ?? runSh);
}

describe('gather', () => {
  it('makes exactly one run call: sh -s with the whole script on stdin', async () => {
    const { t, calls } = fakeTransport();
    const facts = await gather(t);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.argv).toEqual(['sh', '-s']);
    const stdin = String(calls[0]?.opts?.stdin);
    for (const family of [
      'system',
      'kernels',
      'config',
      'dkms',
      'initramfs',
      'boot',
      'space',
      'receipts',
      'tools',
      'libs',
    ])
      expect(stdin).toContain(`kf__fam=${family}\n`);
    expect(calls[0]?.opts?.sudo).toBeUndefined();
    expect(facts.host).toBe('ssh://root@web-1:22');
    expect(facts.system.arch).toBeTruthy();
    expect(JSON.parse(JSON.stringify(facts))).toEqual(facts);
  });

  it('uses a fresh nonce each time and passes sudo through', async () => {
    const { t, calls } = fakeTransport();
    await gather(t, { sudo: true });
    await gather(t);
    const nonce = (i: number) => String(calls[i]?.opts?.stdin).match(/kf__nonce='(\w+)'/)?.[1];
    expect(nonce(0)).toMatch(/^kf[0-9a-f]{24}$/);
    expect(nonce(0)).not.toBe(nonce(1));
    expect(calls[0]?.opts?.sudo).toBe(true);
  });
});
