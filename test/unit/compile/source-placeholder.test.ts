/**
 * The placeholder sha256 (64 zeros, what `kernelfile import` writes for a source it cannot checksum)
 * is refused before anything is downloaded or hashed: no request, no cache entry, the reason and
 * what to do.
 */
import { describe, expect, it } from 'vitest';
import type { CacheDirs } from '../../../src/compile/cache.js';
import { BuildError } from '../../../src/compile/errors.js';
import { fetchFile } from '../../../src/compile/source.js';
import { PLACEHOLDER_SHA256 } from '../../../src/spec/format.js';

// Nothing may be read or written: a cache without directories fails any attempt to.
const dirs = {} as CacheDirs;

describe('fetchFile and the placeholder sha256', () => {
  it.each([
    ['https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.18.44.tar.xz', undefined],
    [undefined, '/usr/src/linux-6.18.44.tar.xz'],
  ])('%s %s: refused before any download', async (url, path) => {
    const e = await fetchFile(
      { ...(url ? { url } : {}), ...(path ? { path } : {}), sha256: PLACEHOLDER_SHA256.toUpperCase() },
      'kernel source',
      dirs,
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BuildError);
    expect((e as BuildError).message).toBe(
      `kernel source ${url ?? path}: its sha256 is the placeholder 0000…0000 (kernelfile import writes it for a checksum it cannot know): nothing was downloaded`,
    );
    expect((e as BuildError).hint).toMatch(/sha256sum/);
  });
});
