/** Side-by-side timing: baseline and subject alternate, medians are compared as a ratio. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Prepared } from '../src/compile/build.js';
import { type CacheDirs, cacheDirs } from '../src/compile/cache.js';
import { prepareKernelfile } from '../test/helpers/kernel-artifacts.js';
import type { SshHost } from '../test/helpers/sshd.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function time(fn: () => unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** One figure for the summary printed at the end of the run. */
export interface Figure {
  name: string;
  /** The figure as printed, e.g. "412.3 ms" or "182 MB/s". */
  value: string;
  /** The baseline measured side by side in the same run, as printed: "ssh host true 250.1 ms". */
  baseline?: string;
  /** subject / baseline (a time ratio: lower is better). */
  ratio?: number;
  /** The goal as printed ("≤ 1.3×", "1 connection, 1 command") and whether this run met it. */
  goal?: { text: string; met: boolean };
  /** Anything else, e.g. "1.84× ssh … true", "goal ≤ 500 ms: met". */
  detail?: string;
}

const figures: Figure[] = [];

/** Remember a figure for the summary (printSummary). */
export function record(f: Figure): void {
  figures.push(f);
}

/** "goal ≤ 500 ms: met" / "… missed" (information only: benchmarks never fail a run). */
export function goal(ms: number, max: number, unit = 'ms'): string {
  return `goal ≤ ${max} ${unit}: ${ms <= max ? 'met' : 'MISSED'}`;
}

/** A ratio goal: subject / baseline at most `max` (e.g. 1.3). */
export function ratioGoal(ratio: number, max: number): { text: string; met: boolean } {
  return { text: `≤ ${max}×`, met: ratio <= max };
}

/** The figures of this run as one table (one screen): value, baseline, ratio, goal. */
export function printSummary(): void {
  if (!figures.length) return;
  const rows = figures.map((f) => [
    f.name,
    f.value,
    f.baseline ?? '',
    f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}×`,
    f.goal ? `${f.goal.text}: ${f.goal.met ? 'met' : 'MISSED'}` : '',
    f.detail ?? '',
  ]);
  const head = ['figure', 'value', 'baseline (same run)', 'ratio', 'goal', ''];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 1 || i === 3 ? c.padStart(width[i] as number) : c.padEnd(width[i] as number)))
      .join('  ')
      .trimEnd();
  console.log('\nSummary (medians; each ratio against its baseline measured in the same run)');
  console.log(fmt(head));
  for (const r of rows) console.log(fmt(r));
}

/** The side-by-side line: subject, then baseline, then their ratio. */
export function line(name: string, subject: number, baselineName: string, baseline: number): string {
  return `${name.padEnd(48)} ${subject.toFixed(1).padStart(8)} ms   ${baselineName.padEnd(34)} ${baseline.toFixed(1).padStart(8)} ms   ratio ${(subject / baseline).toFixed(2)}×`;
}

export async function sideBySide(
  name: string,
  baselineName: string,
  baseline: () => unknown,
  subject: () => unknown,
  runs: number,
): Promise<{ subject: number; baseline: number }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await time(baseline));
    b.push(await time(subject));
  }
  const ma = median(a);
  const mb = median(b);
  console.log(line(name, mb, baselineName, ma));
  return { subject: mb, baseline: ma };
}

/**
 * Like sideBySide, with several baselines: each run times every baseline, then the subject; one
 * line per baseline (the subject's median repeated), so each ratio reads on its own.
 */
export async function sideBySideMany(
  name: string,
  baselines: ReadonlyArray<readonly [string, () => unknown]>,
  subject: () => unknown,
  runs: number,
): Promise<{ subject: number; baselines: number[]; runs: number[] }> {
  const a: number[][] = baselines.map(() => []);
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [j, [, fn]] of baselines.entries()) a[j]?.push(await time(fn));
    b.push(await time(subject));
  }
  const mb = median(b);
  const mas = a.map(median);
  baselines.forEach(([bn], j) => {
    console.log(line(j === 0 ? name : '', mb, bn, mas[j] as number));
  });
  return { subject: mb, baselines: mas, runs: b };
}

/** The hosts for bench/ssh-floor.mjs: address, user, key and the host key expected. */
export function floorHosts(hosts: SshHost[]): string {
  return JSON.stringify(
    hosts.map((h) => ({
      host: h.address,
      port: h.port,
      user: 'root',
      privateKeyPath: h.keys.root.privateKeyPath,
      hostKey: h.knownHostsLine().trim().split(/\s+/)[2],
    })),
  );
}

/**
 * The example kernelfile (examples/qemu-tiny) prepared for a build in a bench cache of its own
 * under the tests' cache (`KERNELFILE_TEST_CACHE`, else ~/.cache/kernelfile-tests/NAME), keeping
 * `keepObjectTrees` object trees.
 */
export async function prepareExample(
  root: string,
  name: string,
  keepObjectTrees: number,
): Promise<{ kernelfile: string; cacheHome: string; dirs: CacheDirs; p: Prepared }> {
  const cacheHome = join(
    process.env.KERNELFILE_TEST_CACHE ?? join(homedir(), '.cache', 'kernelfile-tests'),
    name,
  );
  const kernelfile = join(root, 'examples/qemu-tiny/kernelfile.yaml');
  const dirs = cacheDirs(join(cacheHome, 'kernelfile'));
  const p = await prepareKernelfile(kernelfile, dirs, (spec) => ({
    ...spec,
    build: { ...spec.build, keepObjectTrees },
  }));
  return { kernelfile, cacheHome, dirs, p };
}
