/**
 * Issue 12, defect 12: what a build's headers tree needs of a host to run its host tools, read from
 * the ELF bytes of every executable under it (never run), recorded in the manifest; for a manifest
 * written before that, worked out from the tree in the cache.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Manifest, manifestHeadersNeed } from '../../../src/compile/build.js';
import { BuildError } from '../../../src/compile/errors.js';
import { headersNeed } from '../../../src/compile/headers.js';
import { fakeManifest } from '../../helpers/fake-artifacts.js';
import { makeElf } from '../../helpers/make-elf.js';

const tmp = mkdtempSync(join(tmpdir(), 'kf-headers-need-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LIBC = ['libc.so.6', 'GLIBC_2.2.5', 'GLIBC_2.14'];
const tool = (needed: string[], versions: string[][]) =>
  makeElf({ is64: true, le: true, interp: '/lib64/ld-linux-x86-64.so.2', needed, versions });

function put(root: string, path: string, bytes: Uint8Array | string, mode = 0o755): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  chmodSync(p, mode);
}

/** A headers tree as installSourceHeaders and installBuildHeaders leave it: sources, scripts, and the build's host tools. */
function headersTree(name: string): string {
  const root = join(tmp, name, 'headers');
  put(root, 'scripts/basic/fixdep', tool(['libc.so.6'], [LIBC]));
  put(root, 'scripts/mod/modpost', tool(['libc.so.6'], [[...LIBC, 'GLIBC_2.33']]));
  put(
    root,
    'tools/objtool/objtool',
    tool(
      ['libelf.so.1', 'libc.so.6'],
      [
        ['libelf.so.1', 'ELFUTILS_1.0'],
        [...LIBC, 'GLIBC_2.34'],
      ],
    ),
  );
  put(root, 'scripts/checkpatch.pl', '#!/usr/bin/perl\nprint "not ELF";\n'.padEnd(200, '#'));
  // Not executable: an object file left in the tree is not a host tool.
  put(root, 'scripts/mod/empty.o', tool(['libnothere.so.9'], []), 0o644);
  put(root, 'include/linux/module.h', '/* a header */\n', 0o644);
  // A link out of the tree is not followed.
  const outside = join(tmp, name, 'outside');
  put(join(tmp, name), 'outside', tool(['liboutside.so.1'], []));
  symlinkSync(outside, join(root, 'scripts/link-to-outside'));
  return root;
}

describe('headersNeed', () => {
  it('is the union of the executables’ sonames and their highest GLIBC version', () => {
    expect(headersNeed(headersTree('a'))).toEqual({ sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.34' });
  });

  it('is null for a build without a headers tree', () => {
    expect(headersNeed(join(tmp, 'none'))).toBeNull();
  });

  it('a host tool that is not valid ELF is a BuildError naming it', () => {
    const root = headersTree('bad');
    const bad = tool(['libc.so.6'], [LIBC]);
    new DataView(bad.buffer).setBigUint64(0x20, 1n << 40n, true);
    put(root, 'scripts/sign-file', bad);
    expect(() => headersNeed(root)).toThrow(BuildError);
    expect(() => headersNeed(root)).toThrow(/cannot read the host tool .*scripts\/sign-file: offset/);
  });

  it('a manifest records it; one written before is worked out from its headers tree', () => {
    const root = headersTree('old');
    const dir = dirname(root);
    const old: Manifest = fakeManifest('c'.repeat(64), '6.1.119-kfcccccccc');
    expect(old.headersNeed).toBeUndefined();
    expect(manifestHeadersNeed(dir, old)).toEqual({ sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.34' });
    const recorded = { ...old, headersNeed: { sonames: ['libz.so.1'], glibc: null } };
    expect(manifestHeadersNeed(dir, recorded)).toEqual({ sonames: ['libz.so.1'], glibc: null });
    // Read once: kept beside the manifest, so the next plan does not walk the tree again.
    expect(JSON.parse(readFileSync(join(dir, 'headers-need.json'), 'utf8'))).toEqual({
      sonames: ['libc.so.6', 'libelf.so.1'],
      glibc: '2.34',
    });
    rmSync(join(dir, 'headers'), { recursive: true, force: true });
    expect(manifestHeadersNeed(dir, old)).toEqual({ sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.34' });
  });
});
