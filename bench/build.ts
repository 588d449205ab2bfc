/**
 * Build overhead: `kernelfile build` (compile + artifacts) against raw `make -j2 bzImage modules` on
 * the same patched tree and the same .config, run side by side (goal ≤ 1.03×); a cache hit through
 * the CLI (goal ≤ 2 s); Kconfig resolution (`build --config-only`) of a configuration not seen
 * before, on a cached source, against the kernel's own `make olddefconfig` on the same tree (goal
 * ≤ 3×, issue 15). Uses examples/qemu-tiny and its own cache under the test cache directory.
 * BENCH_BUILD_CONFIG_ONLY=1 runs only the Kconfig comparison (no kernel compile: about a minute);
 * BENCH_BUILD_INCREMENTAL_ONLY=1 only the incremental rebuilds (seeded object trees, issue 20) against
 * make's own (BENCH_INCR_RUNS rounds, default 3; the example is built once first when it is not).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Prepared } from '../src/compile/build.js';
import { buildDirOf, objtreeIn } from '../src/compile/build-dir.js';
import type { CacheDirs } from '../src/compile/cache.js';
import { makeArgs } from '../src/compile/config.js';
import { compile, compileArgs } from '../src/compile/make.js';
import { readRecords, removeObjtree, seedObjtree } from '../src/compile/seed.js';
import { median, prepareExample, ratioGoal, record, sideBySide, time } from './lib.js';

export async function benchBuild(root: string): Promise<void> {
  // The bench's cache keeps every object tree: the incremental rows start from the example's.
  const { kernelfile, cacheHome, dirs, p } = await prepareExample(root, 'bench-build-cache', 100);
  const bin = join(root, 'bin/kernelfile.cjs');
  const cli = (extra: string[], file = kernelfile) => {
    const r = spawnSync(process.execPath, [bin, 'build', ...extra, file], {
      env: { ...process.env, XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout;
  };
  if (process.env.BENCH_BUILD_INCREMENTAL_ONLY === '1') {
    await benchIncremental(root, p, dirs, cli);
    return;
  }
  if (process.env.BENCH_BUILD_CONFIG_ONLY !== '1') {
    await benchCompile(p, dirs, cacheHome);
    const hits: number[] = [];
    for (let i = 0; i < 5; i++) hits.push(await time(() => cli([])));
    console.log(
      `${'kernelfile build, cache hit (CLI)'.padEnd(48)} ${median(hits).toFixed(1).padStart(8)} ms   goal ≤ 2000 ms`,
    );
  }
  if (process.env.BENCH_BUILD_CONFIG_ONLY !== '1') await benchIncremental(root, p, dirs, cli);
  await benchConfig(root, p, dirs, cacheHome, cli);
}

async function benchCompile(p: Prepared, dirs: CacheDirs, cacheHome: string): Promise<void> {
  const runs = Number(process.env.BENCH_BUILD_RUNS ?? 1);
  const raw = join(cacheHome, 'raw-objects');
  const { args, env } = compileArgs(p);
  const phases: string[] = [];
  await sideBySide(
    'kernelfile build (compile + artifacts)',
    'make -j2 bzImage modules (raw)',
    () => {
      rmSync(raw, { recursive: true, force: true });
      mkdirSync(raw, { recursive: true });
      copyFileSync(p.config.file, join(raw, '.config'));
      const r = spawnSync(
        'make',
        ['-s', '-C', p.tree.dir, `O=${raw}`, '-j2', ...args, 'bzImage', 'modules'],
        { env: { ...process.env, ...env }, stdio: 'ignore' },
      );
      if (r.status !== 0) throw new Error('raw make failed');
    },
    async () => {
      rmSync(join(dirs.artifacts, p.buildId), { recursive: true, force: true });
      rmSync(join(dirs.objects, p.buildId), { recursive: true, force: true });
      // --clean: a fresh object tree, as raw make's (not seeded from an earlier build).
      const { manifest } = await build(
        { ...p, spec: { ...p.spec, build: { ...p.spec.build, jobs: 2 } } },
        undefined,
        { clean: true },
      );
      phases.push(
        `make ${manifest.compileSeconds} s + artifacts ${(manifest.seconds - manifest.compileSeconds).toFixed(1)} s`,
      );
    },
    runs,
  );
  console.log(`${''.padEnd(48)} kernelfile's runs: ${phases.join('; ')}`);
  rmSync(raw, { recursive: true, force: true });
}

/**
 * Kconfig resolution of a configuration the cache has not seen (each run a fresh
 * `kernel.localversion`, so a new config key; the source and patched tree are cached), through the
 * CLI, against the kernel's own `make olddefconfig` on the same patched tree with the same .config:
 *  - baseline: `make olddefconfig` in an output directory whose kconfig tools are built (the
 *    kernel's everyday case; the goal's baseline), and in a fresh output directory (builds them);
 *  - new configuration: what a user sees after editing the kernelfile (base, tools and the Kconfig
 *    database of this tree already resolved once);
 *  - new configuration with a value Kconfig drops (`onDropped: warn`): the dropped-value report
 *    needs the Kconfig database;
 *  - everything Kconfig cold: the Kconfig part of the cache emptied (configs/ and kconfig/: base
 *    config, tools, database), only source and tree cached; compared with the fresh-directory
 *    baseline.
 */
async function benchConfig(
  root: string,
  p: Prepared,
  dirs: CacheDirs,
  cacheHome: string,
  cli: (extra: string[], file?: string) => string,
): Promise<void> {
  const runs = Number(process.env.BENCH_CONFIG_RUNS ?? 3);
  const work = mkdtempSync(join(tmpdir(), 'kf-bench-config-'));
  cpSync(join(root, 'examples/qemu-tiny'), join(work, 'qemu-tiny'), { recursive: true });
  const example = readFileSync(join(work, 'qemu-tiny/kernelfile.yaml'), 'utf8');
  /** A kernelfile whose configuration no cache has seen: a fresh localversion (and maybe one more value). */
  const variant = (extraSet = ''): string => {
    const tag = randomBytes(4).toString('hex');
    const file = join(work, 'qemu-tiny', `v-${tag}.yaml`);
    let y = example.replace(/^ {2}localversion: .*$/m, `  localversion: -b${tag}`);
    if (extraSet) y = y.replace(/^ {4}CONFIG_64BIT: y.*$/m, `    CONFIG_64BIT: y\n${extraSet}`);
    if (y === example) throw new Error('examples/qemu-tiny changed: the bench cannot make a variant of it');
    writeFileSync(file, y);
    return file;
  };
  const configOnly = (file: string) => {
    const j = JSON.parse(cli(['--config-only', '--json'], file)) as {
      configKey: string;
      dropped: unknown[];
    };
    rmSync(join(dirs.configs, j.configKey), { recursive: true, force: true });
    return j;
  };
  const kconfigParts = () => {
    rmSync(dirs.configs, { recursive: true, force: true });
    mkdirSync(dirs.configs, { recursive: true });
    // Base configs, kconfig tools and the Kconfig database of the tree.
    rmSync(join(dirs.root, 'kconfig'), { recursive: true, force: true });
  };

  const args = makeArgs(p.spec, p.arch);
  const warmDir = join(cacheHome, 'raw-kconfig');
  const freshDir = join(cacheHome, 'raw-kconfig-fresh');
  const olddefconfig = (dir: string) => {
    writeFileSync(join(dir, '.config'), p.config.text);
    const r = spawnSync('make', ['-s', '-C', p.tree.dir, `O=${dir}`, ...args, 'olddefconfig'], {
      stdio: 'ignore',
    });
    if (r.status !== 0) throw new Error('make olddefconfig failed');
  };
  rmSync(warmDir, { recursive: true, force: true });
  mkdirSync(warmDir, { recursive: true });
  olddefconfig(warmDir); // builds the kconfig tools once: the baseline's output directory is warm

  const dropping = () => variant('    CONFIG_INET: { value: y, onDropped: warn }');
  // Warm-up: base config, tools and Kconfig database of this tree are in the cache.
  configOnly(variant());
  configOnly(dropping());
  const t = { warm: [] as number[], fresh: [] as number[], novel: [] as number[], drop: [] as number[] };
  const freshOlddefconfig = () => {
    rmSync(freshDir, { recursive: true, force: true });
    mkdirSync(freshDir, { recursive: true });
    olddefconfig(freshDir);
  };
  for (let i = 0; i < runs; i++) {
    t.warm.push(await time(() => olddefconfig(warmDir)));
    const a = variant();
    t.novel.push(await time(() => configOnly(a)));
    const b = dropping();
    let dropped = 0;
    t.drop.push(
      await time(() => {
        dropped = configOnly(b).dropped.length;
      }),
    );
    if (dropped !== 1)
      throw new Error(`the variant with CONFIG_INET should drop one value, dropped ${dropped}`);
  }
  // Last: each run empties the Kconfig part of the cache.
  const cold: number[] = [];
  for (let i = 0; i < runs; i++) {
    t.fresh.push(await time(freshOlddefconfig));
    const c = variant();
    kconfigParts();
    cold.push(await time(() => configOnly(c)));
  }
  rmSync(freshDir, { recursive: true, force: true });
  const warm = median(t.warm);
  const fresh = median(t.fresh);
  const row = (name: string, ms: number[], base: number, baseName: string) => {
    const m = median(ms);
    console.log(
      `${name.padEnd(48)} ${m.toFixed(1).padStart(8)} ms   ${baseName.padEnd(34)} ${base.toFixed(1).padStart(8)} ms   ratio ${(m / base).toFixed(2)}×   runs ${ms.map((x) => (x / 1000).toFixed(1)).join(', ')} s`,
    );
    return m / base;
  };
  console.log(
    `${'make olddefconfig, kconfig tools built'.padEnd(48)} ${warm.toFixed(1).padStart(8)} ms   runs ${t.warm.map((x) => (x / 1000).toFixed(1)).join(', ')} s`,
  );
  console.log(
    `${'make olddefconfig, fresh O= (builds the tools)'.padEnd(48)} ${fresh.toFixed(1).padStart(8)} ms   runs ${t.fresh.map((x) => (x / 1000).toFixed(1)).join(', ')} s`,
  );
  const r = row('build --config-only, new configuration', t.novel, warm, 'make olddefconfig (tools built)');
  row('  … with a value Kconfig drops (report)', t.drop, warm, 'make olddefconfig (tools built)');
  row('  … Kconfig cache empty (source cached)', cold, fresh, 'make olddefconfig (fresh O=)');
  record({
    name: 'build --config-only, new configuration',
    value: `${median(t.novel).toFixed(0)} ms`,
    detail: `${r.toFixed(2)}× make olddefconfig; goal ≤ 3×: ${r <= 3 ? 'met' : 'MISSED'}`,
  });
  const hits: number[] = [];
  const same = variant();
  cli(['--config-only'], same);
  for (let i = 0; i < 3; i++) hits.push(await time(() => cli(['--config-only'], same)));
  console.log(`${'build --config-only, config cached'.padEnd(48)} ${median(hits).toFixed(1).padStart(8)} ms`);
  rmSync(work, { recursive: true, force: true });
}

/**
 * Incremental rebuilds (issue 20): after a one-option change (CONFIG_DEFAULT_HOSTNAME) and after a
 * one-file patch change (the example's patch of init/main.c), `kernelfile build` of the changed
 * kernelfile (through the CLI: Kconfig resolution, the seeded object tree, make, artifacts) against
 * the limit, the kernel's own `make` in the same object tree after the same change (a copy of the
 * example's tree, the change made in place: .config edited, or init/main.c edited in a copy of the
 * patched tree; the release unchanged, as a developer's rebuild). Goal ≤ 1.5× make. Each run is a
 * change no cache has seen; its builds are removed after.
 */
async function benchIncremental(
  root: string,
  p: Prepared,
  dirs: CacheDirs,
  cli: (extra: string[], file?: string) => string,
): Promise<void> {
  const runs = Number(process.env.BENCH_INCR_RUNS ?? 3);
  const changes = (process.env.BENCH_INCR_CHANGES ?? 'option,patch').split(',');
  // The example built (and recorded) in a fresh object tree: the seed of every run below.
  const recorded = readRecords(dirs.objects).some((r) => r.buildId === p.buildId);
  if (!recorded) rmSync(join(dirs.artifacts, p.buildId), { recursive: true, force: true });
  const full = await build(p, undefined, { clean: !recorded });
  const seed = readRecords(dirs.objects).find((r) => r.buildId === p.buildId);
  if (!seed || !p.pristine) throw new Error('the example has no recorded object tree to seed from');
  const work = mkdtempSync(join(tmpdir(), 'kf-bench-incr-'));
  cpSync(join(root, 'examples/qemu-tiny'), join(work, 'qemu-tiny'), { recursive: true });
  const yaml = `${readFileSync(join(work, 'qemu-tiny/kernelfile.yaml'), 'utf8')}\nbuild:\n  keepObjectTrees: 100\n`;
  const patchFile = 'patches/0001-init-announce-kernelfile-build.patch';
  const patchText = readFileSync(join(work, 'qemu-tiny', patchFile), 'utf8');
  const LINE = 'qemu-tiny patch applied\\n';
  if (!patchText.includes(LINE))
    throw new Error('examples/qemu-tiny changed: the bench cannot change its patch');
  const built = (file: string) =>
    JSON.parse(cli(['--json'], file)) as {
      buildId: string;
      artifacts: {
        dir: string;
        manifest: {
          seed?: { samePatches: boolean };
          compiled?: number;
          seconds: number;
          compileSeconds: number;
        };
      };
    };
  const forget = (id: string) => {
    rmSync(join(dirs.artifacts, id), { recursive: true, force: true });
    removeObjtree(dirs.objects, id);
  };
  /** Where a round of kernelfile went: before make (start, Kconfig, seed), make, after make. */
  const parts = (ms: number, m: { seconds: number; compileSeconds: number }) =>
    `${(ms / 1000 - m.seconds).toFixed(1)}+${m.compileSeconds.toFixed(1)}+${(m.seconds - m.compileSeconds).toFixed(1)}`;
  /** make in a copy of the seed's tree (paths its own, as seed.ts makes it), after the change. */
  const makeAfter = async (change: 'option' | 'patch', configText: string, tag: string, buildId: string) => {
    const objtree = objtreeIn(join(dirs.objects, `bench-make-${tag}`));
    let tree = p.tree;
    if (change === 'patch') {
      tree = { key: `bench-tree-${tag}`, dir: join(dirs.trees, `bench-tree-${tag}`) };
      spawnSync('cp', ['-al', p.tree.dir, tree.dir]);
      const main = join(tree.dir, 'init/main.c');
      const text = readFileSync(main, 'utf8');
      rmSync(main);
      writeFileSync(main, text.replace(LINE, `qemu-tiny patch applied (${tag})\\n`));
    }
    await seedObjtree(
      { record: seed, samePatches: change === 'option', differing: 0 },
      { objects: dirs.objects, objtree, tree, pristine: p.pristine as { key: string; dir: string } },
    );
    const log = join(objtree, 'bench-make.log');
    let compiled = 0;
    const ms = await time(async () => {
      compiled = (
        await compile({
          spec: p.spec,
          arch: p.arch,
          srctree: tree.dir,
          objtree,
          configText,
          buildId,
          logFile: log,
        })
      ).compiled;
    });
    rmSync(buildDirOf(objtree), { recursive: true, force: true });
    if (change === 'patch') rmSync(tree.dir, { recursive: true, force: true });
    return { ms, compiled };
  };
  const series = () => ({
    kf: [] as number[],
    make: [] as number[],
    release: [] as number[],
    files: [] as string[],
    parts: [] as string[],
  });
  const t = { option: series(), patch: series() };
  for (let i = 0; i < runs; i++) {
    const tag = randomBytes(4).toString('hex');
    if (changes.includes('option')) await oneOption(tag);
    if (changes.includes('patch')) await onePatch(tag);
  }
  async function oneOption(tag: string): Promise<void> {
    const optionFile = join(work, 'qemu-tiny', `option-${tag}.yaml`);
    writeFileSync(
      optionFile,
      yaml.replace(
        /^ {4}CONFIG_64BIT: y.*$/m,
        `    CONFIG_64BIT: y\n    CONFIG_DEFAULT_HOSTNAME: "kfb-${tag}"`,
      ),
    );
    let o: ReturnType<typeof built> | undefined;
    t.option.kf.push(
      await time(() => {
        o = built(optionFile);
      }),
    );
    if (!o?.artifacts.manifest.seed?.samePatches) throw new Error('the one-option build was not seeded');
    const configText = readFileSync(join(o.artifacts.dir, 'config'), 'utf8');
    const m = await makeAfter('option', configText, tag, p.buildId);
    t.option.make.push(m.ms);
    t.option.release.push((await makeAfter('option', configText, `${tag}r`, o.buildId)).ms);
    t.option.files.push(`${o.artifacts.manifest.compiled}/${m.compiled}`);
    t.option.parts.push(parts(t.option.kf.at(-1) ?? 0, o.artifacts.manifest));
    forget(o.buildId);
  }
  /** One patch (one file). */
  async function onePatch(tag: string): Promise<void> {
    const dir = join(work, `patch-${tag}`);
    cpSync(join(work, 'qemu-tiny'), dir, { recursive: true });
    writeFileSync(join(dir, 'kernelfile.yaml'), yaml);
    writeFileSync(join(dir, patchFile), patchText.replace(LINE, `qemu-tiny patch applied (${tag})\\n`));
    let q: ReturnType<typeof built> | undefined;
    t.patch.kf.push(
      await time(() => {
        q = built(join(dir, 'kernelfile.yaml'));
      }),
    );
    if (!q?.artifacts.manifest.seed || q.artifacts.manifest.seed.samePatches)
      throw new Error('the one-patch build was not seeded from the example');
    const mp = await makeAfter('patch', p.config.text, tag, p.buildId);
    t.patch.make.push(mp.ms);
    t.patch.release.push((await makeAfter('patch', p.config.text, `${tag}r`, q.buildId)).ms);
    t.patch.files.push(`${q.artifacts.manifest.compiled}/${mp.compiled}`);
    t.patch.parts.push(parts(t.patch.kf.at(-1) ?? 0, q.artifacts.manifest));
    forget(q.buildId);
  }
  rmSync(work, { recursive: true, force: true });
  const fullS = full.manifest.seconds;
  console.log(
    `${'kernelfile build, the example in full'.padEnd(48)} ${fullS.toFixed(1).padStart(8)} s    (the seed)`,
  );
  for (const [what, x] of [
    ['one option (CONFIG_DEFAULT_HOSTNAME)', t.option],
    ['one patch (init/main.c)', t.patch],
  ] as const) {
    if (!x.kf.length) continue;
    const kf = median(x.kf);
    const mk = median(x.make);
    const rel = median(x.release);
    console.log(
      `${`rebuild after ${what}`.padEnd(48)} ${kf.toFixed(1).padStart(8)} ms   ${'make, same object tree, same change'.padEnd(34)} ${mk.toFixed(1).padStart(8)} ms   ratio ${(kf / mk).toFixed(2)}×   files recompiled (kernelfile/make) ${x.files.join(', ')}`,
    );
    console.log(
      `${''.padEnd(48)} ${kf.toFixed(1).padStart(8)} ms   ${'… and the new release (-kf<id>)'.padEnd(34)} ${rel.toFixed(1).padStart(8)} ms   ratio ${(kf / rel).toFixed(2)}×   (make doing what kernelfile's make does: the rest is Kconfig, the seed, artifacts)`,
    );
    // Each round, in order: this machine's noise is as large as the differences measured.
    const s = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(1)).join(' ');
    console.log(
      `${''.padEnd(48)} rounds (s): kernelfile ${s(x.kf)}; make ${s(x.make)}; with the new release ${s(x.release)}`,
    );
    console.log(
      `${''.padEnd(48)} kernelfile's rounds as before make + make + after (s): ${x.parts.join(' ')}`,
    );
    record({
      name: `rebuild after ${what}`,
      value: `${(kf / 1000).toFixed(1)} s`,
      baseline: `make ${(mk / 1000).toFixed(1)} s`,
      ratio: kf / mk,
      goal: ratioGoal(kf / mk, 1.5),
      detail: `make with the new release too ${(rel / 1000).toFixed(1)} s (${(kf / rel).toFixed(2)}×); full build ${fullS.toFixed(0)} s (${(fullS / (kf / 1000)).toFixed(0)}× the seeded rebuild)`,
    });
  }
}
