/**
 * distcc (build.distcc, issue 18): a full compile of examples/qemu-tiny on this machine (make -j =
 * the cores) against the same build through two distccd in network namespaces (2 jobs each) plus
 * localhost/1, side by side in the same run, each a fresh object tree; the ratio and where the
 * compiles went. The daemons run on this machine's cores: on a small machine this measures distcc's
 * overhead (preprocessing here, sending, a second set of compilers competing for the same CPUs), not
 * a speed-up; a real build farm adds cores. Uses its own cache under the test cache directory
 * (bench-distcc-cache). BENCH_DISTCC_RUNS=N rounds (default 1: two full builds, ~5 min on 2 cores).
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { build, type Manifest, type Prepared } from '../src/compile/build.js';
import { distccSummary } from '../src/compile/distcc.js';
import { distccHosts, distccJobs } from '../src/spec/distcc.js';
import { startDistccd, stopAllDistccd } from '../test/helpers/distccd.js';
import { prepareExample, record, sideBySide } from './lib.js';

export async function benchDistcc(root: string): Promise<void> {
  const { dirs, p } = await prepareExample(root, 'bench-distcc-cache', 0);
  const runs = Number(process.env.BENCH_DISTCC_RUNS ?? 1);
  const [a, b] = await Promise.all([startDistccd({ jobs: 2 }), startDistccd({ jobs: 2 })]);
  try {
    const hosts = [`${a.address}/2`, `${b.address}/2`, 'localhost/1'];
    const through: Prepared = { ...p, spec: { ...p.spec, build: { ...p.spec.build, distcc: hosts } } };
    const fresh = () => {
      rmSync(join(dirs.artifacts, p.buildId), { recursive: true, force: true });
      rmSync(join(dirs.objects, p.buildId), { recursive: true, force: true });
    };
    const manifests: { local?: Manifest; distcc?: Manifest } = {};
    const r = await sideBySide(
      `kernelfile build through distcc (${hosts.length - 1} distccd + localhost/1)`,
      `the same build here (-j${availableParallelism()})`,
      async () => {
        fresh();
        manifests.local = (await build(p, undefined, { clean: true })).manifest;
      },
      async () => {
        fresh();
        manifests.distcc = (await build(through, undefined, { clean: true })).manifest;
      },
      runs,
    );
    const d = manifests.distcc?.distcc;
    const same = JSON.stringify(manifests.distcc?.files) === JSON.stringify(manifests.local?.files);
    console.log(
      `${''.padEnd(48)} make: distcc ${manifests.distcc?.compileSeconds} s (-j${distccJobs(distccHosts(hosts), availableParallelism())}), here ${manifests.local?.compileSeconds} s; compiles: ${d ? distccSummary(d) : '?'}; preflight ${d?.preflightSeconds ?? '?'} s; artifacts identical: ${same ? 'yes' : 'NO'}`,
    );
    record({
      name: 'build through 2 distccd (same machine)',
      value: `${(r.subject / 1000).toFixed(1)} s`,
      baseline: `build here ${(r.baseline / 1000).toFixed(1)} s`,
      ratio: r.subject / r.baseline,
      detail: `${d ? distccSummary(d) : ''}; identical: ${same ? 'yes' : 'NO'} (2 cores shared: overhead, not speed-up)`,
    });
  } finally {
    await stopAllDistccd();
  }
}
