/**
 * A plan as Markdown for a pull-request comment (`plan --format markdown`), one host or a fleet:
 * a summary table (host, running, target, changes, state), then per host its problems with their
 * hints, its changes with the attributes they change, the Kconfig options the kernelfile requests
 * and the full Kconfig difference in a collapsed `<details>` block, and notes.
 *
 * It fits a GitHub comment (65,536 characters): when it would not, the largest details go first
 * (full Kconfig differences, then whole host sections, converged hosts before the others, hosts
 * with problems last, then summary rows), and a visible notice says what was left out and where
 * the full plan is.
 *
 * Host and kernelfile strings never reach the Markdown as markup: names, releases, ids and values
 * go in code spans or fenced blocks (no HTML, mention or link is made inside them; backtick runs
 * get a longer fence, pipes in table cells are escaped); prose that quotes them (problems, notes,
 * errors) has every ASCII punctuation character backslash-escaped and `@` mentions broken; control
 * and bidirectional characters are written as escapes everywhere (escape.ts). Pure.
 */
import { counts, type HostPlan, hasChanges, type PlanProblem } from '../plan/types.js';
import { configPath } from '../resources/layout.js';
import { attributeLine, printable } from './escape.js';
import { secureBootLine } from './secure-boot.js';

/** GitHub's limit on the body of an issue or pull-request comment, in characters. */
export const GITHUB_COMMENT_LIMIT = 65_536;

/** The first line of the document: a CI job finds its earlier comment by it to update it. */
export const MARKDOWN_MARKER = '<!-- kernelfile plan -->';

export interface MarkdownHost {
  /** The inventory name, or the host as given. */
  name: string;
  /** null: the host could not be planned (`error` says why). */
  plan: HostPlan | null;
  error?: { message: string; hint: string | null; unreachable: boolean };
  /** Problems found beside the plan (requested Kconfig values that would not survive): they block it too. */
  problems?: PlanProblem[];
}

export interface MarkdownOptions {
  /** Characters the document may take (default GITHUB_COMMENT_LIMIT). */
  limit?: number;
  /** Where the whole plan is (the saved plan's path): named when something is left out. */
  artifact?: string | null;
  /** Where the hosts came from (`inventory.yml, limit web`), for the header. */
  source?: string | null;
}

// ── escaping ────────────────────────────────────────────────────────────────────────────────────

/**
 * The characters that start inline Markdown: code, emphasis, links and images, autolinks and HTML,
 * entities, strikethrough, URL autolinks (`:`), math, table cells, and the escape itself. Block
 * syntax cannot start: the text never begins a line and holds no line break (printable).
 */
const INLINE = /[\\`*_[\]<>&~:$|]/g;

/** Prose with host strings in it: escaped so it stays text (no markup, HTML, table cell break or mention). */
export function mdText(s: string): string {
  return printable(s)
    .replace(INLINE, (c) => `\\${c}`)
    .replace(/@(?=[A-Za-z0-9])/g, '@\u2060');
}

/** A code span holding any string: a fence longer than its backtick runs; `table`: pipes escaped too. */
export function mdCode(s: string, o: { table?: boolean } = {}): string {
  let t = printable(s);
  if (o.table) t = t.replace(/\|/g, '\\|');
  const run = Math.max(0, ...(t.match(/`+/g) ?? []).map((x) => x.length));
  const fence = '`'.repeat(run + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || (t.startsWith(' ') && t.endsWith(' ')) ? ' ' : '';
  return t === '' ? '` `' : `${fence}${pad}${t}${pad}${fence}`;
}

/** A fenced block of lines (each made printable), fenced with more backticks than any line holds. */
export function mdBlock(lines: readonly string[], info = ''): string {
  const body = lines.map((l) => printable(l));
  const run = Math.max(0, ...body.flatMap((l) => (l.match(/`+/g) ?? []).map((x) => x.length)));
  const fence = '`'.repeat(Math.max(3, run + 1));
  return `${fence}${info}\n${body.join('\n')}\n${fence}`;
}

// ── the pieces ──────────────────────────────────────────────────────────────────────────────────

const SYMBOL = { create: '+', update: '~', replace: '-/+', delete: '-', 'no-op': ' ' } as const;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const num = (n: number) => n.toLocaleString('en-US');

function problemsOf(h: MarkdownHost): PlanProblem[] {
  return [...(h.plan?.problems ?? []), ...(h.problems ?? [])];
}

interface Row {
  state: string;
  kind: 'ok' | 'change' | 'error';
}

function rowState(h: MarkdownHost): Row {
  if (!h.plan) return { state: h.error?.unreachable ? 'unreachable' : 'error', kind: 'error' };
  const problems = problemsOf(h);
  if (problems.length)
    return { state: `not possible: ${[...new Set(problems.map((p) => p.code))].join(', ')}`, kind: 'error' };
  return hasChanges(h.plan)
    ? { state: 'changes pending', kind: 'change' }
    : { state: 'converged', kind: 'ok' };
}

const ICON = { ok: '✅', change: '🟡', error: '❌' } as const;

function tableRow(h: MarkdownHost): string {
  const p = h.plan;
  const r = rowState(h);
  const n = p ? counts(p.changes) : null;
  const cells = [
    mdCode(h.name, { table: true }),
    p?.summary.running ? mdCode(p.summary.running, { table: true }) : '–',
    p ? mdCode(p.summary.release, { table: true }) : '–',
    n ? `+${n.add} ~${n.change} -${n.destroy}` : '–',
    `${ICON[r.kind]} ${mdText(r.state)}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

const TABLE_HEAD = '| host | running | target | changes | state |\n| --- | --- | --- | --- | --- |';

function planLine(h: MarkdownHost): string {
  const p = h.plan;
  if (!p) return '';
  const problems = problemsOf(h);
  if (problems.length) return `**Plan: not possible** (${plural(problems.length, 'problem')}).`;
  const n = counts(p.changes);
  if (n.add + n.change + n.destroy === 0) return '**No changes.** The host matches the kernelfile.';
  return `**Plan:** ${n.add} to add, ${n.change} to change, ${n.destroy} to destroy.`;
}

function changesBlock(p: HostPlan): string {
  const visible = p.changes.filter((c) => c.action !== 'no-op');
  const lines: string[] = [];
  const width = Math.min(60, Math.max(0, ...visible.map((c) => c.id.length)));
  for (const c of visible) {
    lines.push(`${SYMBOL[c.action].padEnd(3)} ${c.id.padEnd(width)}  ${c.reason}`);
    for (const a of c.attributes ?? []) lines.push(`      ${attributeLine(a)}`);
  }
  const unchanged = p.changes.filter((c) => c.action === 'no-op');
  if (unchanged.length)
    lines.push(`    (${unchanged.length} unchanged: ${unchanged.map((c) => c.resource).join(', ')})`);
  return lines.length ? mdBlock(lines, 'diff') : '';
}

type ConfigLine = { symbol: string; line: string; requested: boolean };

function configLines(p: HostPlan): ConfigLine[] {
  const c = p.config;
  return [
    ...c.added.map((x) => ({ symbol: x.symbol, line: `+ ${x.symbol}=${x.value}`, requested: x.requested })),
    ...c.removed.map((x) => ({ symbol: x.symbol, line: `- ${x.symbol}=${x.value}`, requested: x.requested })),
    ...c.changed.map((x) => ({
      symbol: x.symbol,
      line: `~ ${x.symbol}: ${x.before} → ${x.after}`,
      requested: x.requested,
    })),
  ].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/** The Kconfig header and the requested options (kept when the full difference is left out). */
function configHead(p: HostPlan): string {
  const c = p.config;
  if (!c.from)
    return `**Kconfig:** the running kernel's config is not readable on this host (no /proc/config.gz or /boot/config-\\*): no difference shown.`;
  const all = configLines(p);
  const requested = all.filter((x) => x.requested);
  const total = c.added.length + c.removed.length + c.changed.length;
  const against =
    c.base === 'installed' && c.release
      ? `against the installed build ${mdCode(c.release)} (${mdCode(configPath(c.release))}, build ${mdCode((c.buildId ?? '').slice(0, 12))})`
      : c.release
        ? `against the running kernel ${mdCode(c.release)} (${mdCode(c.from)})`
        : `against ${mdCode(c.from)}`;
  const out = [
    `**Kconfig** ${against} → ${mdCode(p.summary.release)}: ${total === 0 ? 'no difference' : `${num(c.added.length)} added, ${num(c.removed.length)} removed, ${num(c.changed.length)} changed`}`,
  ];
  if (c.fallback) out.push('', `Not against the kernelfile's installed build: ${mdText(c.fallback)}.`);
  if (requested.length)
    out.push(
      '',
      `Of the options the kernelfile requests (${num(requested.length)}):`,
      '',
      mdBlock(
        requested.map((x) => x.line),
        'diff',
      ),
    );
  else if (all.length) out.push('', 'None of the options the kernelfile requests changes.');
  return out.join('\n');
}

function configDetails(p: HostPlan): string {
  const all = configLines(p);
  if (!p.config.from || all.length === 0) return '';
  return [
    `<details><summary>The full Kconfig difference (${plural(all.length, 'option')})</summary>`,
    '',
    mdBlock(
      all.map((x) => x.line),
      'diff',
    ),
    '',
    '</details>',
  ].join('\n');
}

function problemsPart(h: MarkdownHost): string {
  const problems = problemsOf(h);
  if (!problems.length) return '';
  const out = [`**${plural(problems.length, 'problem')}: apply would refuse this plan**`, ''];
  for (const x of problems) {
    // a hard line break (a backslash at the end of the line) puts the hint under its message
    out.push(`- ❌ ${mdCode(x.code)}: ${mdText(x.message)}${x.hint ? '\\' : ''}`);
    if (x.hint) out.push(`  hint: ${mdText(x.hint)}`);
  }
  return out.join('\n');
}

function notesPart(p: HostPlan): string {
  const warnings = p.warnings ?? [];
  const parts: string[] = [];
  if (p.secureBoot) parts.push(`**Secure Boot:** ${mdText(secureBootLine(p.secureBoot))}`);
  if (warnings.length)
    parts.push(['**Warnings**', '', ...warnings.map((w) => `- ⚠️ ${mdText(w)}`)].join('\n'));
  if (p.notes.length) parts.push(['**Notes**', '', ...p.notes.map((n) => `- ${mdText(n)}`)].join('\n'));
  return parts.join('\n\n');
}

/** One host's section, in pieces: `details` (the full Kconfig difference) is the first thing dropped. */
interface Section {
  name: string;
  head: string;
  /** Before and after the full Kconfig difference. */
  body: string;
  after: string;
  details: string;
  /** What the details block is (for the notice), and the host whose identical block it points to. */
  sameAs: string | null;
  priority: number;
}

function section(h: MarkdownHost): Omit<Section, 'sameAs'> {
  const p = h.plan;
  const head = `### ${mdCode(h.name)}`;
  if (!p) {
    const e = h.error;
    const body = [
      `**${e?.unreachable ? 'Unreachable' : 'Could not be planned'}:** ${mdText(e?.message ?? 'unknown error')}`,
      ...(e?.hint ? ['', `hint: ${mdText(e.hint)}`] : []),
    ].join('\n');
    return { name: h.name, head, body, after: '', details: '', priority: 3 };
  }
  const s = p.summary;
  const facts = [
    s.distro ? mdCode(s.distro) : null,
    s.arch ? mdCode(s.arch) : null,
    `loader ${mdCode(s.loaderMode ?? s.loader ?? 'none')}`,
    `initramfs ${mdCode(s.initramfs ?? 'none')}`,
    `build ${mdCode(s.buildId.slice(0, 12))}`,
  ].filter(Boolean);
  const body = [planLine(h), facts.join(' · '), problemsPart(h), changesBlock(p), configHead(p)]
    .filter((x) => x !== '')
    .join('\n\n');
  const priority = problemsOf(h).length ? 2 : hasChanges(p) ? 1 : 0;
  return { name: h.name, head, body, after: notesPart(p), details: configDetails(p), priority };
}

// ── the document, and what is left out to fit ──────────────────────────────────────────────────

interface Cut {
  details: Set<number>;
  sections: Set<number>;
  rows: number;
}

function header(hosts: readonly MarkdownHost[], o: MarkdownOptions): string {
  const planned = hosts.flatMap((h) => (h.plan ? [h.plan] : []));
  const t = { add: 0, change: 0, destroy: 0 };
  for (const p of planned) {
    const n = counts(p.changes);
    t.add += n.add;
    t.change += n.change;
    t.destroy += n.destroy;
  }
  const changed = planned.filter(hasChanges).length;
  const unplanned = hosts.length - planned.length;
  const impossible = hosts.filter((h) => h.plan && problemsOf(h).length).length;
  const what = [
    planned.length === 0
      ? 'none could be planned'
      : t.add + t.change + t.destroy === 0
        ? 'no changes'
        : `${t.add} to add, ${t.change} to change, ${t.destroy} to destroy on ${changed} of ${plural(hosts.length, 'host')}`,
    planned.length && unplanned ? `${unplanned} could not be planned` : '',
    impossible ? `${impossible} cannot be applied (problems)` : '',
  ].filter(Boolean);
  return [
    MARKDOWN_MARKER,
    '## kernelfile plan',
    '',
    `**${plural(hosts.length, 'host')}**${o.source ? ` from ${mdCode(o.source)}` : ''}: ${what.join('; ')}.`,
  ].join('\n');
}

function names(list: string[]): string {
  const shown = list.slice(0, 10).map((n) => mdCode(n));
  return list.length > 10 ? `${shown.join(', ')} and ${list.length - 10} more` : shown.join(', ');
}

function notice(sections: readonly Section[], cut: Cut, hiddenRows: number, o: MarkdownOptions): string {
  if (!cut.details.size && !cut.sections.size && !hiddenRows) return '';
  const what: string[] = [];
  const detailHosts = [...cut.details]
    .filter((i) => !cut.sections.has(i) && sections[i]?.details)
    .sort((a, b) => a - b)
    .map((i) => sections[i]?.name ?? '');
  if (detailHosts.length) what.push(`the full Kconfig difference of ${names(detailHosts)}`);
  if (cut.sections.size)
    what.push(
      `the sections of ${names([...cut.sections].sort((a, b) => a - b).map((i) => sections[i]?.name ?? ''))}`,
    );
  if (hiddenRows) what.push(`${plural(hiddenRows, 'row')} of the summary table`);
  const where = o.artifact
    ? `the saved plan ${mdCode(o.artifact)} (\`kernelfile apply\` takes it)`
    : '`kernelfile plan --json` (or the plan saved with `--out`)';
  const limit = num(o.limit ?? GITHUB_COMMENT_LIMIT);
  return `> [!WARNING]\n> This plan is cut to fit a comment (${limit} characters). Left out: ${what.join('; ')}. The full plan: ${where}.`;
}

/** One host's section as shown: whole, with its full Kconfig difference left out, or a pointer to an equal one. */
function sectionText(s: Section, detailsCut: boolean): string {
  const details = detailsCut
    ? s.details
      ? '_The full Kconfig difference is left out here (see the notice)._'
      : ''
    : s.sameAs !== null
      ? `_The full Kconfig difference is the same as for ${mdCode(s.sameAs)}._`
      : s.details;
  return [s.head, s.body, details, s.after].filter((x) => x !== '').join('\n\n');
}

/** The document's parts (joined by blank lines); measured before they are joined. */
function compose(
  head: string,
  rows: readonly string[],
  sections: readonly Section[],
  shown: readonly { full: string; cut: string }[],
  cut: Cut,
  o: MarkdownOptions,
): string[] {
  const parts = [head];
  const warn = notice(sections, cut, cut.rows, o);
  if (warn) parts.push(warn);
  parts.push(
    [
      TABLE_HEAD,
      ...rows.slice(0, rows.length - cut.rows),
      ...(cut.rows ? [`| … | | | | ${num(cut.rows)} more hosts |`] : []),
    ].join('\n'),
  );
  shown.forEach((x, i) => {
    if (!cut.sections.has(i)) parts.push(cut.details.has(i) ? x.cut : x.full);
  });
  if (warn && sections.length > 1) parts.push(warn);
  return parts;
}

const size = (parts: readonly string[]) => parts.reduce((n, p) => n + p.length + 2, -2) + 1;
const join = (parts: readonly string[]) => `${parts.join('\n\n')}\n`;

/** The plan of one host or a fleet as Markdown, at most `o.limit` characters. */
export function renderPlanMarkdown(hosts: readonly MarkdownHost[], o: MarkdownOptions = {}): string {
  const limit = o.limit ?? GITHUB_COMMENT_LIMIT;
  const head = header(hosts, o);
  const rows = hosts.map(tableRow);
  // Hosts that share a build and a running config get the same Kconfig difference: shown once.
  const seen = new Map<string, string>();
  const sections: Section[] = hosts.map((h) => {
    const s = section(h);
    let sameAs: string | null = null;
    if (s.details && h.plan) {
      const key = `${h.plan.summary.running}\u0000${h.plan.summary.release}\u0000${s.details}`;
      const first = seen.get(key);
      if (first !== undefined) sameAs = first;
      else seen.set(key, h.name);
    }
    return { ...s, sameAs };
  });
  const shown = sections.map((x) => ({ full: sectionText(x, false), cut: sectionText(x, true) }));
  const cut: Cut = { details: new Set(), sections: new Set(), rows: 0 };
  let parts = compose(head, rows, sections, shown, cut, o);
  const fits = () => {
    parts = compose(head, rows, sections, shown, cut, o);
    return size(parts) <= limit;
  };
  if (size(parts) <= limit) return join(parts);
  // 1. the full Kconfig differences, largest first (with the pointers of hosts that share one)
  const withDetails = sections
    .flatMap((x, i) => (x.details && x.sameAs === null ? [i] : []))
    .sort((a, b) => (sections[b]?.details.length ?? 0) - (sections[a]?.details.length ?? 0) || a - b);
  for (const i of withDetails) {
    cut.details.add(i);
    sections.forEach((x, j) => {
      if (x.sameAs !== null && x.sameAs === sections[i]?.name) cut.details.add(j);
    });
    if (fits()) return join(parts);
  }
  // 2. whole host sections: converged hosts first, hosts with problems or errors last; within, the
  // largest first, then the last in the table
  const order = sections
    .map((_, i) => i)
    .sort(
      (a, b) =>
        (sections[a]?.priority ?? 0) - (sections[b]?.priority ?? 0) ||
        (shown[b]?.cut.length ?? 0) - (shown[a]?.cut.length ?? 0) ||
        b - a,
    );
  for (const i of order) {
    cut.sections.add(i);
    if (fits()) return join(parts);
  }
  // 3. rows of the summary table, from the end
  while (cut.rows < rows.length) {
    cut.rows = Math.min(rows.length, cut.rows + Math.max(1, Math.ceil((size(parts) - limit) / 40)));
    if (fits()) return join(parts);
  }
  // 4. a header alone over the limit: cut it, saying so
  const tail = '\n\n> [!WARNING]\n> Cut at the comment limit.\n';
  return `${join(parts).slice(0, Math.max(0, limit - tail.length))}${tail}`;
}
