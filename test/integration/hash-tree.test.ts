/**
 * hashTree (src/compile/build.ts): every regular file of a build's artifacts with its sha256 and
 * size, hashed by sha256sum processes over shares of the files; names as they are, whatever they hold.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashTree } from '../../src/compile/build.js';

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
    const listed = await hashTree(dir, ['build.log']);
    const expected = Object.entries(files)
      .filter(([name]) => name !== 'build.log')
      .map(([path, bytes]) => ({
        path,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
      }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    expect(listed).toEqual(expected);
  });
});
