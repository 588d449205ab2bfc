/** verify's initramfs: the cpio newc archive it writes, as cpio(1) lists it. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpioNewc } from '../../src/verify/initramfs-image.js';
import { run } from '../helpers/proc.js';

describe('verify: the initramfs archive', () => {
  it('writes cpio newc that cpio(1) lists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kf-cpio-'));
    try {
      const archive = cpioNewc([
        { path: 'bin', type: 'dir' },
        { path: 'bin/hello', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
        { path: 'bin/sh', type: 'symlink', target: 'busybox' },
        { path: 'dev/console', type: 'char', major: 5, minor: 1 },
      ]);
      await writeFile(join(dir, 'a.cpio'), archive);
      const r = await run(['sh', '-c', 'cpio -itv --quiet < "$1"', 'kf', join(dir, 'a.cpio')]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^drwxr-xr-x .* bin$/);
      expect(lines[1]).toMatch(/ bin\/hello$/);
      expect(lines[2]).toMatch(/^lrwxrwxrwx .* bin\/sh -> busybox$/);
      expect(lines[3]).toMatch(/ dev\/console$/);
      expect(lines).toHaveLength(4);
      expect(lines[1]).toMatch(/^-rwxr-xr-x\s+1 root\s+root\s+18 /);
      expect(lines[3]).toMatch(/^crw-------\s+1 root\s+root\s+5,\s+1 /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
