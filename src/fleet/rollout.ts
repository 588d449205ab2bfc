/**
 * Rolling applies, pure: batch sizes (`--serial 1 | N | P%`), the failure budget (`--max-fail P%`)
 * and the canary rule (the first batch failing as a whole stops the rollout).
 */

export type Serial = { kind: 'count'; n: number } | { kind: 'percent'; percent: number };

export function parseSerial(v: string): Serial | { error: string } {
  const m = /^(\d+)(%?)$/.exec(v.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || n <= 0 || (m[2] && n > 100))
    return { error: `--serial takes a number of hosts (1, 5) or a percentage (25%), got \`${v}\`` };
  return m[2] ? { kind: 'percent', percent: n } : { kind: 'count', n };
}

export function parsePercent(v: string, flag: string): number | { error: string } {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(v.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || n < 0 || n > 100) return { error: `${flag} takes a percentage from 0% to 100%, got \`${v}\`` };
  return n;
}

/** Batch size for `total` hosts: a percentage rounds down (at least one host), as Ansible's serial. */
export function batchSize(serial: Serial | null, total: number): number {
  if (!serial || total === 0) return Math.max(1, total);
  const n = serial.kind === 'count' ? serial.n : Math.floor((total * serial.percent) / 100);
  return Math.max(1, Math.min(total, n));
}

export function batches<T>(items: readonly T[], serial: Serial | null): T[][] {
  const size = batchSize(serial, items.length);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface Tally {
  total: number;
  failed: number;
  /** The batch just finished: its index, size and failures. */
  batch: { index: number; size: number; failed: number };
}

/**
 * Whether the rollout stops after a batch, and why. The failure budget counts failed hosts over
 * the whole fleet (unreachable ones included): `--max-fail 10%` of 50 hosts allows 5 failures, and
 * the sixth stops it. Without --max-fail, a failed canary (every host of the first batch, when
 * there are more batches) stops it; other failures are reported at the end and the rest carry on.
 */
export function stopReason(t: Tally, maxFailPercent: number | null, moreBatches: boolean): string | null {
  if (maxFailPercent !== null && (t.failed / t.total) * 100 > maxFailPercent)
    return `${t.failed} of ${t.total} hosts failed, more than --max-fail ${maxFailPercent}% allows`;
  if (t.batch.index === 0 && moreBatches && t.batch.size > 0 && t.batch.failed === t.batch.size)
    return `the canary batch failed (${t.batch.failed} of ${t.batch.size} host${t.batch.size === 1 ? '' : 's'})`;
  return null;
}

/** Run `fn` over items with at most `limit` at once; results in input order, never rejects. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { status: 'fulfilled', value: await fn(items[i] as T, i) };
      } catch (reason) {
        out[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
