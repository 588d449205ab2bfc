/**
 * The tarballs a build ships (modules.tar, headers.tar) are packed once per build on the controller.
 * The hosts of one batch ship the same build at the same time: they must share that pack, not race
 * for one temp file (before, the second host's rename failed with ENOENT and the host failed).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packDir, shipFiles } from '../../src/apply/ship.js';
import { sha256File } from '../../src/compile/hash.js';

const tmp = mkdtempSync(join(tmpdir(), 'kf-ship-pack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An artifacts directory as a build leaves it: boot files, a modules tree and the headers. */
function artifacts(name: string, release: string): string {
  const dir = join(tmp, name);
  const modules = join(dir, 'modules/lib/modules', release, 'kernel');
  mkdirSync(modules, { recursive: true });
  for (let i = 0; i < 200; i++) writeFileSync(join(modules, `m${i}.ko`), `module ${i}\n`.repeat(500));
  mkdirSync(join(dir, 'headers/include'), { recursive: true });
  writeFileSync(join(dir, 'headers/include/x.h'), '#define X 1\n');
  for (const f of ['vmlinuz', 'System.map', 'config']) writeFileSync(join(dir, f), `${f}\n`);
  return dir;
}

describe('shipFiles', () => {
  it('hosts shipping one build at once share one pack of it; no temp file is left', async () => {
    const dir = artifacts('a', '6.1.192-kf0');
    const all = await Promise.all(Array.from({ length: 5 }, () => shipFiles(dir, '6.1.192-kf0')));
    for (const files of all) expect(files).toEqual(all[0]);
    expect(readdirSync(join(dir, 'ship')).sort()).toEqual(['headers.tar', 'modules.tar']);
    // Packed once, reproducibly: packing the tree again gives the same bytes.
    await packDir(join(dir, 'modules/lib/modules/6.1.192-kf0'), join(tmp, 'again.tar'));
    expect(await sha256File(join(tmp, 'again.tar'))).toBe(await sha256File(join(dir, 'ship/modules.tar')));
  });

  it('two packs of one output at once (two controllers) each go through a temp name of their own', async () => {
    const dir = artifacts('b', '6.1.192-kf1');
    const out = join(tmp, 'b.tar');
    await Promise.all([packDir(join(dir, 'headers'), out), packDir(join(dir, 'headers'), out)]);
    expect(existsSync(out)).toBe(true);
    expect(readdirSync(tmp).filter((f) => f.startsWith('b.tar.'))).toEqual([]);
  });
});
