/**
 * Issue 12, defect 12: the `libs` fact on a real Debian 12 root through the root-filesystem
 * transport. The root has libelf1 (objtool needs libelf.so.1); with the library removed from a
 * copy, the fact says it is missing, and the headers check names it, although ld.so.cache still
 * lists it (which is why the fact lists the directories instead of reading `ldconfig -p`).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gather } from '../../src/facts/gather.js';
import { ChrootTransport } from '../../src/host/chroot.js';
import { headersGap } from '../../src/resources/host-libs.js';
import { copyRoot, ensureDebianRoot } from '../helpers/rootfs.js';

const NEED = { sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.34' };

describe('the libs fact on a Debian 12 root', () => {
  let root: { dir: string; cleanup(): Promise<void> };
  let t: ChrootTransport;
  beforeAll(async () => {
    root = await copyRoot(await ensureDebianRoot());
    t = new ChrootTransport(root.dir);
  }, 300_000);
  afterAll(() => root?.cleanup());

  it('finds libelf.so.1 and glibc 2.36; the headers check passes', async () => {
    const f = await gather(t);
    expect(f.libs?.glibc).toBe('2.36');
    expect(f.libs?.dirs).toContain('/usr/lib/x86_64-linux-gnu');
    expect(f.libs?.sonames).toEqual(expect.arrayContaining(['libc.so.6', 'libelf.so.1', 'libz.so.1']));
    expect(headersGap(NEED, f.libs)).toBeNull();
  });

  it('with libelf.so.1 removed from the copy, it is missing (ld.so.cache still names it)', async () => {
    rmSync(`${root.dir}/usr/lib/x86_64-linux-gnu/libelf.so.1`);
    const cache = await t.run(['ldconfig', '-p']);
    expect(cache.stdout).toContain('libelf.so.1');
    const f = await gather(t);
    expect(f.libs?.sonames).not.toContain('libelf.so.1');
    expect(f.libs?.sonames).toContain('libc.so.6');
    expect(headersGap(NEED, f.libs)).toEqual({ missing: ['libelf.so.1'], glibc: null });
  });
});
