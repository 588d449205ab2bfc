/** Side-by-side timing: baseline and subject alternate, medians are compared as a ratio. */
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
  /** e.g. "1.84× ssh … true", "goal ≤ 500 ms: met". */
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

export function printSummary(): void {
  if (!figures.length) return;
  console.log('\nSummary (medians)');
  for (const f of figures)
    console.log(`  ${f.name.padEnd(50)} ${f.value.padStart(12)}${f.detail ? `   ${f.detail}` : ''}`);
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
