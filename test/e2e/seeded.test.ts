/**
 * Seeded object trees, end to end with the CLI on copies of examples/qemu-tiny: a one-option change
 * and a one-file patch change each build from the example's object tree (make recompiles a few dozen
 * files, not the whole kernel), and `build --check-reproducible` then builds the same kernelfile
 * clean, in a fresh object tree elsewhere: every artifact is identical (the patch change's copy
 * written into the files of another build's dropped tree). `cache prune --dry-run`
 * keeps the trees that seed later builds. The figures (seeded vs clean) are in the test's notes;
 * `npm run bench` (BENCH_ONLY=build) compares the seeded rebuild with make's own incremental one.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords } from '../../src/compile/seed.js';
import type { PruneReport } from '../../src/engine/cache.js';
import { kernelfile } from '../helpers/cli.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { EXAMPLE, ensureKernelArtifacts, TEST_BUILD_CACHE } from '../helpers/kernel-artifacts.js';
import { note } from '../helpers/proc.js';

const CACHE = join(TEST_BUILD_CACHE, 'kernelfile');
const PATCH = 'patches/0001-init-announce-kernelfile-build.patch';

let dir: string;
let exampleId: string;
/** The seeded builds of the tests below: the most recent object trees of the source. */
const seeded: string[] = [];
/** Builds of a value no other run has: forgotten after the suite. */
const optionBuilds: string[] = [];

/** A copy of the example that keeps every object tree (the tests' cache is shared by many builds). */
function copy(name: string, edit: (kernelfileText: string) => string = (t) => t): string {
  const to = join(dir, name);
  cpSync(join(EXAMPLE, '..'), to, { recursive: true });
  const kf = join(to, 'kernelfile.yaml');
  writeFileSync(kf, `${edit(readFileSync(kf, 'utf8'))}\nbuild:\n  keepObjectTrees: 100\n`);
  return kf;
}

async function buildIdOf(kf: string): Promise<string> {
  const r = await kernelfile(['build', kf, '--config-only', '--json']);
  expect(r.code, r.err).toBe(0);
  return jsonOutput(r.out, 'build').buildId;
}

/** Forget a build (artifacts, object tree, record), so the test builds it now. */
function forget(buildId: string): void {
  rmSync(join(CACHE, 'artifacts', buildId), { recursive: true, force: true });
  rmSync(join(CACHE, 'objects', buildId), { recursive: true, force: true });
  rmSync(join(CACHE, 'objects', `${buildId}.json`), { force: true });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-seeded-'));
  await ensureKernelArtifacts();
  const base = copy('tiny');
  exampleId = await buildIdOf(base);
  // A cache made before seeds were recorded (or one whose example tree was pruned): build the
  // example again in a fresh object tree, which records it.
  if (!readRecords(join(CACHE, 'objects')).some((r) => r.buildId === exampleId)) {
    forget(exampleId);
    const r = await kernelfile(['build', base, '--clean']);
    expect(r.code, r.err).toBe(0);
  }
}, 1_800_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const id of optionBuilds) forget(id);
});

/**
 * Build `kf` seeded, then again clean (--check-reproducible). `resolvedFirst`: its configuration is
 * resolved (cached) before, so the build knows its id and seed before it copies one; else the seed
 * is copied while the configuration resolves, a guess that names the copy until the id is known
 * (seed-early.ts).
 */
async function seededThenClean(kf: string, resolvedFirst: boolean) {
  if (resolvedFirst) forget(await buildIdOf(kf));
  const r = await kernelfile(['build', kf, '--check-reproducible', '--json']);
  expect(r.code, r.err).toBe(0);
  const doc = jsonOutput(r.out, 'build');
  const id = doc.buildId;
  // Every early copy was placed or removed.
  // (an early one beside the build directories, a late one in the build's directory, beside obj/)
  expect(readdirSync(join(CACHE, 'objects')).filter((n) => n.includes('.seed-'))).toEqual([]);
  const buildDir = join(CACHE, 'objects', id);
  expect(existsSync(buildDir) ? readdirSync(buildDir).filter((n) => n.includes('.seed-')) : []).toEqual([]);
  const manifest = doc.artifacts?.manifest;
  const rep = doc.reproducible;
  expect(rep?.identical, JSON.stringify(rep?.differences, null, 2)).toBe(true);
  expect(rep?.compared).toBeGreaterThan(1000);
  expect(rep?.first.cached).toBe(false);
  seeded.push(id);
  return { id, manifest, rep };
}

describe('a seeded build', () => {
  it('one option changed: seeded from the example (same patches), a few dozen files recompiled, equal to a clean build', async () => {
    // A value no earlier run resolved: the seed is copied while Kconfig resolves it.
    const kf = copy('option', (t) =>
      t.replace(
        'CONFIG_64BIT: y # tinyconfig on x86 is 32-bit otherwise',
        `CONFIG_64BIT: y # tinyconfig on x86 is 32-bit otherwise\n    CONFIG_DEFAULT_HOSTNAME: "kf-${randomBytes(4).toString('hex')}"`,
      ),
    );
    const { id, manifest, rep } = await seededThenClean(kf, false);
    // Its tree is removed after the suite: a new value each run would otherwise add one per run.
    optionBuilds.push(id);
    // From the example, or as near: an option build an earlier run left (also one option away).
    expect(manifest?.seed).toMatchObject({ samePatches: true, differingOptions: 1 });
    expect(readRecords(join(CACHE, 'objects')).map((r) => r.buildId)).toContain(manifest?.seed?.buildId);
    expect(manifest?.compiled).toBeGreaterThan(0);
    expect(manifest?.compiled).toBeLessThan(200); // the example compiles over 1,200 from scratch
    // Its configuration was synchronised in the copy while Kconfig resolved it (seed-early.ts), so
    // make did not synchronise it again (a clean build's log has `SYNC include/config/auto.conf…`).
    const log = readFileSync(join(CACHE, 'artifacts', id, 'build.log'), 'utf8');
    expect(log).toContain('CC      init/version.o');
    expect(log).not.toMatch(/^\s+SYNC\s+include\/config\/auto\.conf/m);
    note(
      `seeded (CONFIG_DEFAULT_HOSTNAME): ${manifest?.compiled} files recompiled, ${manifest?.seconds} s; the same build clean: ${rep?.second.seconds} s; ${rep?.compared} files identical`,
    );
  }, 1_800_000);

  it('one patch changed: seeded from the example (other patches), the patched file recompiled, equal to a clean build', async () => {
    const kf = copy('patch');
    const patch = join(dir, 'patch', PATCH);
    const text = readFileSync(patch, 'utf8');
    expect(text).toContain('qemu-tiny patch applied\\n');
    writeFileSync(patch, text.replace('qemu-tiny patch applied\\n', 'qemu-tiny patch applied (seeded)\\n'));
    // The copy writes into the files of a dropped tree (recycle.ts): here a copy of the option
    // build's, another kernel's objects, records and images at the same paths.
    const recycled = join(CACHE, 'objects', 'recycled');
    rmSync(recycled, { recursive: true, force: true });
    execFileSync('cp', ['-a', join(CACHE, 'objects', seeded[0] ?? exampleId, 'obj'), recycled]);
    const { manifest, rep } = await seededThenClean(kf, true);
    expect(existsSync(recycled)).toBe(false);
    expect(manifest?.seed).toMatchObject({ samePatches: false, differingOptions: 0 });
    expect(manifest?.seed?.buildId).toBe(exampleId);
    expect(manifest?.compiled).toBeGreaterThan(0);
    expect(manifest?.compiled).toBeLessThan(200);
    // The example's own tree is what it was: still a seed, its artifacts untouched.
    expect(existsSync(join(CACHE, 'objects', exampleId, 'obj', '.config'))).toBe(true);
    note(
      `seeded (patch of init/main.c): ${manifest?.compiled} files recompiled, ${manifest?.seconds} s; the same build clean: ${rep?.second.seconds} s; ${rep?.compared} files identical`,
    );
  }, 1_800_000);

  it('--clean is never seeded: make starts from an empty object tree (a patch that breaks init/main.c fails there)', async () => {
    // Seeded, this build would start from the example's tree (other patches) and fail within seconds.
    const kf = copy('clean');
    const patch = join(dir, 'clean', PATCH);
    const line = 'pr_info("kernelfile: qemu-tiny patch applied\\n");';
    const text = readFileSync(patch, 'utf8');
    expect(text).toContain(line);
    writeFileSync(patch, text.replace(line, 'kf_clean_test_undefined("kernelfile: --clean\\n");'));
    const id = await buildIdOf(kf);
    try {
      const r = await kernelfile(['build', kf, '--clean']);
      expect(r.code).toBe(1);
      // It failed where the patch broke the source, in the log the error names.
      expect(r.err).toContain(join(CACHE, 'failed', `${id}.log`));
      expect(readFileSync(join(CACHE, 'failed', `${id}.log`), 'utf8')).toContain('kf_clean_test_undefined');
      expect(`${r.out}${r.err}`).not.toMatch(/seeding the object tree|seeded from/);
    } finally {
      forget(id);
      rmSync(join(CACHE, 'failed', `${id}.log`), { force: true });
    }
  }, 1_800_000);

  it('cache prune --dry-run keeps the trees that seed later builds and removes nothing', async () => {
    const before = readRecords(join(CACHE, 'objects')).map((r) => r.buildId);
    expect(before).toContain(exampleId);
    const r = await kernelfile(['cache', 'prune', '--dry-run', '--cache-dir', CACHE, '--json']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as PruneReport;
    expect(report.dryRun).toBe(true);
    expect(report.kept.trees).toBeGreaterThanOrEqual(1);
    const named = report.groups.flatMap((g) => g.entries.map((e) => e.path));
    expect(seeded).toHaveLength(2);
    for (const id of seeded) expect(named).not.toContain(join(CACHE, 'objects', id));
    expect(readRecords(join(CACHE, 'objects')).map((x) => x.buildId)).toEqual(before);
  });
});
