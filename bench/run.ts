/**
 * Benchmarks, reported as ratios against a baseline measured side by side in the same run (never
 * as timed assertions in tests). `npm run bench` (as root: the SSH hosts run in namespaces). A
 * summary of the figures is printed at the end.
 *
 * Sections, in order (bench/<file>.ts):
 *   validate  `kernelfile --version` and `validate` vs `node -e 0`, validate() in process (seconds)
 *   facts     connect + gather over SSH, 1 and 10 hosts                                  (seconds)
 *   plan      plan() for 1,000 hosts' facts, fixture facts and Debian's full config      (~1 min)
 *   apply     `kernelfile plan` / `apply` on a converged SSH host                   (~1 min; slow)
 *   ship      ship() of the build vs scp, same host                                      (~20 s)
 *   build     `kernelfile build` vs raw make, cache hit, --config-only vs olddefconfig (~10 min; slow)
 *   distcc    a full compile here vs through two distccd in network namespaces (+ localhost/1):
 *             the ratio, compiles per host, artifacts identical (as root)              (~5 min; slow)
 *   fleet     `plan --inventory` vs `ansible -m setup` and the SSH floors at 10 and 50 hosts; peak
 *             RSS at 200 hosts                                                          (~6 min)
 *   store     one build installed on 1, 10 and 20 namespace hosts, shipped from the controller vs
 *             fetched by the hosts from a registry (cache.store): wall time, bytes sent by the
 *             controller and by the registry                                            (~5 min)
 * `apply` and `ship` need the example kernel (examples/qemu-tiny) in the tests' build cache:
 * about 2.5 min to build the first time (test/helpers/kernel-artifacts.ts), a cache hit after.
 * `fleet` needs Ansible and GNU time (scripts/install-deps.sh --bench; without Ansible only kernelfile
 * is measured), and its hosts need python3: a copy of the test root with it, built once (~10 s).
 *
 * Environment:
 *   BENCH_ONLY=plan,ship       run only these sections (comma-separated names from the list above)
 *   BENCH_SKIP_BUILD=1         skip `build` (compiles the kernel twice per run)
 *   BENCH_SKIP_APPLY=1         skip `apply` (converges a host first; may build the example kernel)
 *   BENCH_SKIP_SHIP=1          skip `ship`
 *   BENCH_SKIP_DISTCC=1        skip `distcc` (two full kernel compiles)
 *   BENCH_DISTCC_RUNS=N        rounds for the distcc comparison (default 1)
 *   BENCH_SKIP_FLEET=1         skip `fleet` (starts 200 SSH hosts; runs Ansible)
 *   BENCH_SKIP_PLAN_DEBIAN=1   skip the plan() line with Debian's full config (~40 s)
 *   BENCH_PLAN_RUNS=N          rounds for plan() (default 15; 3 with Debian's config)
 *   BENCH_HOST_RUNS=N          rounds for `plan` and `apply` on the host (default 10)
 *   BENCH_SHIP_RUNS=N          rounds for ship() vs scp (default 5)
 *   BENCH_BUILD_RUNS=N         rounds for the build comparison (default 1)
 *   BENCH_BUILD_CONFIG_ONLY=1  in `build`, only the Kconfig comparison (no kernel compile; ~2 min)
 *   BENCH_BUILD_INCREMENTAL_ONLY=1  in `build`, only the rebuilds after a one-option and a one-patch
 *                              change (seeded) against make's own incremental rebuild (~3 min)
 *   BENCH_INCR_RUNS=N          rounds for the incremental rebuilds (default 3)
 *   BENCH_INCR_CHANGES=patch   which incremental rebuilds: option, patch (default both)
 *   BENCH_CONFIG_RUNS=N        rounds for the Kconfig comparison (default 3)
 *   BENCH_FLEET_RUNS=N         rounds for plan --inventory vs ansible (default 5)
 *   BENCH_FLEET_HOSTS=10,50    fleet sizes compared with Ansible and the SSH floors (default 10,50)
 *   BENCH_FLEET_CPU_PROF=DIR   keep a V8 CPU profile of one more fleet plan per size, in DIR/<hosts>
 *   BENCH_FLEET_MEM_HOSTS=N    hosts for the peak-RSS measurement (default 200; 0 skips it)
 *   BENCH_STORE_HOSTS=1,10,20  fleet sizes of `store`
 *   BENCH_SKIP_STORE=1         skip `store`
 *   KERNELFILE_TEST_CACHE=DIR  the tests' cache (Debian root, build cache; default ~/.cache/kernelfile-tests)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleCli } from '../scripts/bundle.js';
import { benchBuild } from './build.js';
import { benchDistcc } from './distcc.js';
import { benchFacts } from './facts.js';
import { benchFleet } from './fleet.js';
import { benchHost } from './host.js';
import { printSummary } from './lib.js';
import { benchPlan } from './plan.js';
import { benchStore } from './store.js';
import { benchValidate } from './validate.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const only = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const on = (section: string, skip?: string) =>
  (only ? only.has(section) : true) && (skip === undefined || env[skip] !== '1');

spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
await bundleCli(); // what bin/kernelfile.cjs runs: `npm run build` does both
console.log(`node ${process.version}, ${new Date().toISOString()}; medians, subject then baseline`);
if (on('validate')) await benchValidate(root);
if (on('facts')) await benchFacts(root);
if (on('plan')) await benchPlan();
const apply = on('apply', 'BENCH_SKIP_APPLY');
const ship = on('ship', 'BENCH_SKIP_SHIP');
if (apply || ship) await benchHost(root, { apply, ship });
if (on('build', 'BENCH_SKIP_BUILD')) await benchBuild(root);
if (on('distcc', 'BENCH_SKIP_DISTCC')) await benchDistcc(root);
if (on('fleet', 'BENCH_SKIP_FLEET')) await benchFleet(root);
if (on('store', 'BENCH_SKIP_STORE')) await benchStore();
printSummary();
