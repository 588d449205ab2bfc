/**
 * engine/store.ts around compile/build.ts with a real registry: a build id missing from the cache
 * and present in the store is pulled under the build's lock and never compiled; one the store holds
 * damaged is a warning naming the store and goes on to the compile (which, here, has no tree to
 * compile and fails: the warning came first); a cached build the store lacks is pushed (`build`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prepared } from '../../src/compile/build.js';
import { cacheDirs } from '../../src/compile/cache.js';
import { buildWithStore } from '../../src/engine/store.js';
import { pushBuild } from '../../src/store/artifact.js';
import { openStore } from '../../src/store/open.js';
import { type Registry, startRegistry } from '../helpers/registry.js';
import { buildFiles, FAKE_RELEASE, makeBuildDir } from '../helpers/store-builds.js';

const work = mkdtempSync(join(tmpdir(), 'kf-store-engine-'));
let reg: Registry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});
const id = (n: string) => createHash('sha256').update(n).digest('hex');

/** What build() reads of a prepared build before it compiles (no source tree: a compile would fail). */
function prepared(cache: string, buildId: string): Prepared {
  return {
    buildId,
    release: FAKE_RELEASE(buildId),
    dirs: cacheDirs(join(work, cache)),
    config: { dropped: [], effective: {}, text: '' },
    spec: { apiVersion: 'kernelfile/v1', name: 't', kernel: { version: '6.1.0' } },
    store: { url: reg.url(), vars: { HOME: work } },
  } as unknown as Prepared;
}

describe('a build through the store', () => {
  it('missing here, in the store: pulled, not compiled', async () => {
    const buildId = id('engine-pull');
    const src = await makeBuildDir(join(work, 'src'), buildId);
    await pushBuild(
      openStore({ url: reg.url(), vars: { HOME: work } }),
      src.manifest,
      await buildFiles(src.dir, src.manifest.release),
    );
    const stages: string[] = [];
    const p = prepared('cache-b', buildId);
    const built = await buildWithStore(p, (e) => stages.push(e.stage));
    expect(built.cached).toBe(true);
    expect(built.store).toMatchObject({ url: reg.url(), pulled: true, warnings: [] });
    expect(stages.at(-1)).toMatch(
      new RegExp(
        `^pulled from store ${reg.url().replace(/[+.]/g, '\\$&')}: [\\d.]+ MiB, every file checked$`,
      ),
    );
    expect(readdirSync(p.dirs.objects)).toEqual([]);
    expect(readFileSync(join(built.dir, 'vmlinuz')).equals(readFileSync(join(src.dir, 'vmlinuz')))).toBe(
      true,
    );
    // A second time: the local cache, the store not asked.
    const before = reg.requests().length;
    const again = await buildWithStore(p);
    expect(again.store).toMatchObject({ pulled: false, warnings: [] });
    expect(reg.requests().length).toBe(before);
  });

  it('in the store but damaged: a warning naming the store, then the compile is tried', async () => {
    const buildId = id('engine-damaged');
    const src = await makeBuildDir(join(work, 'src2'), buildId, 'd');
    // manifest.json claims a vmlinuz with other bytes
    const m = JSON.parse(readFileSync(join(src.dir, 'manifest.json'), 'utf8'));
    m.files.find((f: { path: string }) => f.path === 'vmlinuz').sha256 = '0'.repeat(64);
    writeFileSync(join(src.dir, 'manifest.json'), JSON.stringify(m));
    await pushBuild(
      openStore({ url: reg.url(), vars: { HOME: work } }),
      src.manifest,
      await buildFiles(src.dir, src.manifest.release),
    );
    const stages: string[] = [];
    const p = prepared('cache-c', buildId);
    await expect(buildWithStore(p, (e) => stages.push(e.stage))).rejects.toThrow();
    expect(stages).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^could not pull build ${buildId.slice(0, 12)} from the store .*: the store .* holds build ${buildId}, but vmlinuz is not the file its manifest.json lists .*: refused; compiling it here$`,
        ),
      ),
    );
    expect(existsSync(join(p.dirs.artifacts, buildId))).toBe(false);
  });

  it('cached here, not in the store: build pushes it; the next time the store has it', async () => {
    const buildId = id('engine-push');
    const p = prepared('cache-d', buildId);
    await makeBuildDir(p.dirs.artifacts, buildId, 'p');
    const built = await buildWithStore(p, () => {}, { pushCached: true });
    // Its own vmlinuz, System.map, config and manifest.json are sent; the tarballs and the provenance
    // are byte for byte those of the builds above: the registry has them, they are not sent again.
    expect(built.store?.pushed).toMatchObject({ uploaded: 4, skipped: 3 });
    const again = await buildWithStore(p, () => {}, { pushCached: true });
    expect(again.store).toMatchObject({ present: true, warnings: [] });
    expect(again.store?.pushed).toBeUndefined();
  });
});
