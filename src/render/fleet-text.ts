/** A fleet as text: a summary table (one row per host), the distinct builds, then totals. */
import { counts } from '../plan/types.js';
import type { Style } from './style.js';

export interface FleetRow {
  name: string;
  running: string | null;
  target: string | null;
  /** null when the host could not be planned. */
  counts: { add: number; change: number; destroy: number } | null;
  state: string;
  kind: 'ok' | 'change' | 'error';
}

export interface FleetBuild {
  buildId: string;
  release: string;
  kernelfile: string;
  hosts: string[];
  cached: boolean;
}

export function table(rows: string[][]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd(),
  );
}

export function renderFleetSummary(rows: FleetRow[], builds: FleetBuild[], style: Style): string {
  const head = ['HOST', 'RUNNING', 'TARGET', 'CHANGES', 'STATE'];
  const body = rows.map((r) => [
    r.name,
    r.running ?? '-',
    r.target ?? '-',
    r.counts ? `+${r.counts.add} ~${r.counts.change} -${r.counts.destroy}` : '-',
    r.state,
  ]);
  const lines = table([head, ...body]);
  const out = [
    style('bold', lines[0] ?? ''),
    ...lines.slice(1).map((l, i) => {
      const k = rows[i]?.kind;
      return k === 'error' ? style('error', l) : k === 'change' ? style('change', l) : l;
    }),
  ];
  if (builds.length) {
    out.push('', style('bold', `Builds (${builds.length}, each built once):`));
    out.push(
      ...table(
        builds.map((b) => [
          `  ${b.buildId.slice(0, 12)}`,
          b.release,
          b.kernelfile,
          b.hosts.length <= 3
            ? b.hosts.join(', ')
            : `${b.hosts.slice(0, 2).join(', ')} and ${b.hosts.length - 2} more`,
          b.cached ? 'cached' : 'to build',
        ]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

export function fleetTotals(plans: { changes: Parameters<typeof counts>[0] }[]): {
  add: number;
  change: number;
  destroy: number;
} {
  const t = { add: 0, change: 0, destroy: 0 };
  for (const p of plans) {
    const n = counts(p.changes);
    t.add += n.add;
    t.change += n.change;
    t.destroy += n.destroy;
  }
  return t;
}
