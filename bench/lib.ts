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
  console.log(
    `${name.padEnd(48)} ${mb.toFixed(1).padStart(8)} ms   ${baselineName.padEnd(34)} ${ma.toFixed(1).padStart(8)} ms   ratio ${(mb / ma).toFixed(2)}×`,
  );
  return { subject: mb, baseline: ma };
}
