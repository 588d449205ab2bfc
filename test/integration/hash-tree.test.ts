/**
 * hashTree (src/compile/build.ts): every regular file of a build's artifacts with its sha256 and
 * size, hashed by sha256sum processes over shares of the files; names as they are, whatever they hold.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashTree } from '../../src/compile/build.js';
import type { ListedFile } from '../../src/compile/hash-cache.js';
import { headersNeed, headersNeedOf } from '../../src/compile/headers.js';

const dir = mkdtempSync(join(tmpdir(), 'kf-hash-tree-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashTree', () => {
  it('lists every regular file with its digest and size, sorted, whatever its name holds', async () => {
    const files: Record<string, Buffer> = {
      vmlinuz: Buffer.alloc(3 << 20, 7),
      'a name with spaces': Buffer.from('x'),
      'new\nline': Buffer.from('two\nlines\n'),
      '-looks-like-an-option': Buffer.from('--'),
      'back\\slash': Buffer.from('\\'),
      empty: Buffer.alloc(0),
      'headers/include/linux/a.h': Buffer.from('#define A 1\n'),
      'headers/include/linux/b.h': Buffer.from('#define B 2\n'),
      'modules/lib/modules/6.1.0/kernel/x.ko': Buffer.alloc(70_000, 1),
      'build.log': Buffer.from('skipped\n'),
    };
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    // Not a regular file: not listed.
    symlinkSync('vmlinuz', join(dir, 'link'));
    let seen: ListedFile[] = [];
    const listed = await hashTree(dir, ['build.log'], (l) => {
      seen = l;
    });
    const expected = Object.entries(files)
      .filter(([name]) => name !== 'build.log')
      .map(([path, bytes]) => ({
        path,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
      }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    expect(listed).toEqual(expected);
    // What the caller is given meanwhile: every regular file (the skipped ones too), size and mode.
    expect(seen.map((f) => f.path).sort()).toEqual(Object.keys(files).sort());
    const st = statSync(join(dir, 'a name with spaces'), { bigint: true });
    expect(seen.find((f) => f.path === 'a name with spaces')).toEqual({
      path: 'a name with spaces',
      size: 1,
      mode: Number(st.mode) & 0o7777,
      dev: String(st.dev),
      ino: String(st.ino),
      // find's %T@: seconds, a dot, ten digits of fraction
      mtime: `${st.mtimeNs / 1_000_000_000n}.${String(st.mtimeNs % 1_000_000_000n).padStart(9, '0')}0`,
    });
  });

  it('a headers tree: headersNeedOf over the listing is what headersNeed reads walking the tree', async () => {
    const h = mkdtempSync(join(tmpdir(), 'kf-hash-tree-h-'));
    try {
      // A real ELF executable (this machine's true), a script with an execute bit, a header.
      mkdirSync(join(h, 'headers/scripts/basic'), { recursive: true });
      mkdirSync(join(h, 'headers/include'), { recursive: true });
      copyFileSync(realpathSync('/bin/true'), join(h, 'headers/scripts/basic/fixdep'));
      chmodSync(join(h, 'headers/scripts/basic/fixdep'), 0o755);
      writeFileSync(join(h, 'headers/scripts/x.sh'), `#!/bin/sh\n${'# padding\n'.repeat(10)}`, {
        mode: 0o755,
      });
      writeFileSync(join(h, 'headers/include/a.h'), '#define A 1\n');
      let fromListing: unknown;
      await hashTree(h, [], (l) => {
        fromListing = headersNeedOf(
          l.filter((f) => f.path.startsWith('headers/')).map((f) => ({ ...f, path: join(h, f.path) })),
        );
      });
      const walked = headersNeed(join(h, 'headers'));
      expect(walked?.sonames).toContain('libc.so.6');
      expect(fromListing).toEqual(walked);
    } finally {
      rmSync(h, { recursive: true, force: true });
    }
  });
});
