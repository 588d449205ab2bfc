/**
 * Build overhead: `kernelfile build` (compile + artifacts) against raw `make -j2 bzImage modules` on
 * the same patched tree and the same .config, run side by side (goal ≤ 1.03×); a cache hit through
 * the CLI (goal ≤ 2 s); Kconfig resolution (`build --config-only`) on a cached source, cold and warm.
 * Uses examples/qemu-tiny and its own cache under the test cache directory.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { build, prepare } from '../src/compile/build.js';
import { cacheDirs } from '../src/compile/cache.js';
import { compileArgs } from '../src/compile/make.js';
import { nodeFileView } from '../src/engine/fsview.js';
import { resolvePath } from '../src/spec/paths.js';
import { validate } from '../src/spec/validate.js';
import { median, sideBySide, time } from './lib.js';

export async function benchBuild(root: string): Promise<void> {
  const cacheHome = join(
    process.env.KERNELFILE_TEST_CACHE ?? join(homedir(), '.cache', 'kernelfile-tests'),
    'bench-build-cache',
  );
  const kernelfile = join(root, 'examples/qemu-tiny/kernelfile.yaml');
  const v = validate(readFileSync(kernelfile), 'kernelfile.yaml', {
    fs: nodeFileView,
    kernelfile,
    home: homedir(),
  });
  if (!v.ok) throw new Error('examples/qemu-tiny does not validate');
  const dirs = cacheDirs(join(cacheHome, 'kernelfile'));
  const p = await prepare({
    spec: v.value.spec,
    arch: 'x86_64',
    dirs,
    resolvePath: (w) => resolvePath(w, { kernelfile, home: homedir() }),
    setOrigin: () => ({ file: kernelfile, line: 1 }),
  });
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
      const { manifest } = await build({ ...p, spec: { ...p.spec, build: { ...p.spec.build, jobs: 2 } } });
      phases.push(
        `make ${manifest.compileSeconds} s + artifacts ${(manifest.seconds - manifest.compileSeconds).toFixed(1)} s`,
      );
    },
    runs,
  );
  console.log(`${''.padEnd(48)} kernelfile's runs: ${phases.join('; ')}`);
  rmSync(raw, { recursive: true, force: true });

  const bin = join(root, 'bin/kernelfile.js');
  const cli = (extra: string[]) => {
    const r = spawnSync(process.execPath, [bin, 'build', ...extra, kernelfile], {
      env: { ...process.env, XDG_CACHE_HOME: cacheHome },
    });
    if (r.status !== 0) throw new Error(String(r.stderr));
  };
  const hits: number[] = [];
  for (let i = 0; i < 5; i++) hits.push(await time(() => cli([])));
  console.log(
    `${'kernelfile build, cache hit (CLI)'.padEnd(48)} ${median(hits).toFixed(1).padStart(8)} ms   goal ≤ 2000 ms`,
  );
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    rmSync(join(dirs.configs, p.config.key), { recursive: true, force: true });
    cold.push(await time(() => cli(['--config-only'])));
    warm.push(await time(() => cli(['--config-only'])));
  }
  console.log(
    `${'build --config-only, cached source, config cold'.padEnd(48)} ${median(cold).toFixed(1).padStart(8)} ms`,
  );
  console.log(`${'build --config-only, config cached'.padEnd(48)} ${median(warm).toFixed(1).padStart(8)} ms`);
}
