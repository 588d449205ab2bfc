/**
 * A plan as text, Terraform-style: per host a header, one line per change (`+` create, `~` update,
 * `-/+` replace, `-` delete) with its reason and, under it, each attribute it changes
 * (`~ cmdline: "a" → "b"`), the Kconfig difference, the DKMS modules, the boot entry, problems and
 * notes, then `Plan: X to add, Y to change, Z to destroy.` Host strings are escaped (escape.ts).
 */
import { type Action, counts, type HostPlan } from '../plan/types.js';
import { configPath } from '../resources/layout.js';
import { attributeLine, attributeSymbol, printable } from './escape.js';
import { secureBootLine } from './secure-boot.js';
import type { Style } from './style.js';

export type ConfigDiffMode = 'summary' | 'full' | 'none';

export interface PlanTextOptions {
  style: Style;
  configDiff: ConfigDiffMode;
}

const SYMBOL: Record<Action, string> = {
  create: '+',
  update: '~',
  replace: '-/+',
  delete: '-',
  'no-op': ' ',
};
const KIND: Record<Action, 'add' | 'change' | 'remove' | 'dim'> = {
  create: 'add',
  update: 'change',
  replace: 'change',
  delete: 'remove',
  'no-op': 'dim',
};

const ATTRIBUTE_KIND = { '+': 'add', '-': 'remove', '~': 'change' } as const;

/**
 * The Kconfig difference: what it compares with (the kernelfile's installed build, else the
 * running kernel), the counts, then the options the kernelfile requests (and with `full` every
 * other option after them).
 */
function configLines(p: HostPlan, o: PlanTextOptions): string[] {
  if (o.configDiff === 'none') return [];
  // Hosts that run the same config share one ConfigDiff (plan/planner.ts): its lines are made once.
  const key = `${o.configDiff ?? ''}\0${p.summary.release}`;
  const made = linesOf.get(p.config) ?? [];
  const hit = made.find((m) => m.key === key && m.style === o.style);
  if (hit) return hit.lines;
  const lines = makeConfigLines(p, o);
  made.push({ key, style: o.style, lines });
  linesOf.set(p.config, made);
  return lines;
}

/** The config lines made for a ConfigDiff, by options and release. */
const linesOf = new WeakMap<
  HostPlan['config'],
  { key: string; style: PlanTextOptions['style']; lines: string[] }[]
>();

function makeConfigLines(p: HostPlan, o: PlanTextOptions): string[] {
  const { style } = o;
  const c = p.config;
  const fallback = c.fallback
    ? [style('dim', `    (not against the kernelfile's installed build: ${c.fallback})`)]
    : [];
  if (!c.from)
    return [
      `  Kconfig: the running kernel's config is not readable on this host (no /proc/config.gz or /boot/config-*): no diff`,
      ...fallback,
    ];
  const against =
    c.base === 'installed' && c.release
      ? `against the installed build ${c.release} (${configPath(c.release)}, build ${(c.buildId ?? '').slice(0, 12)})`
      : c.release
        ? `against the running kernel ${c.release} (${c.from})`
        : `against ${c.from}`;
  const total = c.added.length + c.removed.length + c.changed.length;
  const tally =
    total === 0
      ? 'no difference'
      : `${style('add', `${c.added.length} added`)}, ${style('remove', `${c.removed.length} removed`)}, ${style('change', `${c.changed.length} changed`)}`;
  const lines = [`  Kconfig ${against} → ${p.summary.release}: ${tally}`, ...fallback];
  const all = [
    ...c.added.map((x) => ({ s: x.symbol, r: x.requested, t: style('add', `    + ${x.symbol}=${x.value}`) })),
    ...c.removed.map((x) => ({
      s: x.symbol,
      r: x.requested,
      t: style('remove', `    - ${x.symbol}=${x.value}`),
    })),
    ...c.changed.map((x) => ({
      s: x.symbol,
      r: x.requested,
      t: style('change', `    ~ ${x.symbol}: ${x.before} → ${x.after}`),
    })),
  ].sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
  const requested = all.filter((x) => x.r);
  const others = all.filter((x) => !x.r);
  if (requested.length)
    lines.push('    of the options the kernelfile requests:', ...requested.map((x) => x.t));
  if (o.configDiff === 'full') {
    if (requested.length && others.length) lines.push('    other options:');
    lines.push(...others.map((x) => x.t));
  } else if (others.length)
    lines.push(style('dim', `    (${others.length} more; --config-diff full lists every option)`));
  return lines;
}

export function renderHostPlan(p: HostPlan, o: PlanTextOptions): string {
  const { style } = o;
  const s = p.summary;
  const out: string[] = [];
  out.push(style('bold', `Host ${p.host}`));
  const facts: [string, string][] = [
    ['system', [s.distro, s.arch].filter(Boolean).join(', ') || 'unknown'],
    ['running', s.running ?? 'unknown'],
    ['loader', s.loaderMode ?? s.loader ?? 'none'],
    ['initramfs', s.initramfs ?? 'none'],
    ['target', `${s.release} (build ${s.buildId.slice(0, 12)})`],
  ];
  for (const [k, v] of facts) out.push(`  ${`${k}:`.padEnd(11)}${v}`);
  out.push('');
  const visible = p.changes.filter((c) => c.action !== 'no-op');
  const width = Math.min(60, Math.max(0, ...visible.map((c) => c.id.length)));
  for (const c of visible) {
    const sym = SYMBOL[c.action].padStart(3);
    out.push(`${style(KIND[c.action], `${sym} ${printable(c.id).padEnd(width)}`)}  ${printable(c.reason)}`);
    for (const a of c.attributes ?? [])
      out.push(`      ${style(ATTRIBUTE_KIND[attributeSymbol(a)], attributeLine(a))}`);
  }
  const unchanged = p.changes.length - visible.length;
  if (unchanged)
    out.push(
      style(
        'dim',
        `    (${unchanged} unchanged: ${p.changes
          .filter((c) => c.action === 'no-op')
          .map((c) => c.resource)
          .join(', ')})`,
      ),
    );
  if (visible.length || unchanged) out.push('');
  out.push(...configLines(p, o));
  if (p.modules.length)
    out.push(
      `  DKMS modules for ${p.summary.release}: ${p.modules.map((m) => `${m.name} ${m.version}${m.action === 'no-op' ? '' : ` (${SYMBOL[m.action].trim()})`}`).join(', ')}`,
    );
  if (p.entry) {
    const flags = [p.entry.default ? 'default' : null, p.entry.trial ? 'trial boot first' : null].filter(
      Boolean,
    );
    out.push(
      `  Boot entry: "${printable(p.entry.title)}" (${printable(p.entry.id)})${flags.length ? ` [${flags.join(', ')}]` : ''}`,
    );
    out.push(`    cmdline: ${printable(p.entry.cmdline) || '(empty)'}`);
  }
  const kept = p.kept ?? [];
  if (kept.length) {
    const marks = (k: (typeof kept)[number]) =>
      [k.default ? 'default' : null, k.running ? 'running' : null].filter(Boolean).join(', ');
    out.push(
      `  Kept kernels: ${kept.map((k) => `${k.release}${marks(k) ? ` (${marks(k)})` : ''}`).join(', ')}; a rollback would choose ${p.rollback ?? 'none'}`,
    );
  }
  if (p.secureBoot) out.push(`  Secure Boot: ${printable(secureBootLine(p.secureBoot))}`);
  for (const w of p.warnings ?? []) out.push(`  ${style('warning', 'warning:')} ${printable(w)}`);
  for (const n of p.notes) out.push(`  note: ${printable(n)}`);
  if (p.problems.length) {
    out.push('');
    out.push(
      style(
        'error',
        `  ${p.problems.length} problem${p.problems.length === 1 ? '' : 's'}: apply would refuse this plan`,
      ),
    );
    for (const x of p.problems) {
      out.push(`  ${style('error', 'error:')} ${printable(x.message)}`);
      out.push(`    hint: ${printable(x.hint)}`);
    }
  }
  out.push('');
  out.push(planLine(p, style));
  return `${out.join('\n')}\n`;
}

export function planLine(p: HostPlan, style: Style): string {
  if (p.problems.length)
    return style(
      'error',
      `Plan: not possible (${p.problems.length} problem${p.problems.length === 1 ? '' : 's'} above).`,
    );
  const n = counts(p.changes);
  if (n.add + n.change + n.destroy === 0) return style('ok', 'No changes. The host matches the kernelfile.');
  return `${style('bold', 'Plan:')} ${n.add} to add, ${n.change} to change, ${n.destroy} to destroy.`;
}
