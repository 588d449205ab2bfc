/**
 * A saved plan is a claim, not a program: `apply FILE` plans the host again and executes the fresh
 * plan, and only when the saved one says the same thing. This finds the first place where the
 * saved plan (read from a file anyone may have edited) and the fresh one differ in what apply
 * would do: the changes (id, resource, action, order, dependencies) and every field of every step
 * that reaches the host or the controller (kind, argv, path, content, mode, sudo, build id, to,
 * from, release, receipt data, module name and version).
 *
 * Decided: titles, reasons, before/after and attributes are display text and decide nothing. A saved plan
 * whose only difference is a title is applied, and progress shows the fresh plan's titles (the
 * executor never sees the file's), so an edited title cannot make a step look like another.
 * Pure.
 */
import { createHash } from 'node:crypto';
import type { Change, HostPlan, Step } from './types.js';

/** A value from the saved plan, shown in a message: escaped (no control characters), cut at 80. */
function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : (JSON.stringify(v) ?? String(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const digest = (s: unknown) =>
  `sha256 ${createHash('sha256')
    .update(typeof s === 'string' ? s : (JSON.stringify(s) ?? String(s)))
    .digest('hex')
    .slice(0, 12)}`;

/** Canonical JSON (keys sorted): receipt data compared by value, whatever order the file has. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}

/** How a step is named in a message: its kind and what it acts on. */
function stepLabel(s: Step): string {
  const o = s as Partial<Record<string, unknown>>;
  const what =
    typeof o.path === 'string'
      ? o.path
      : Array.isArray(o.argv)
        ? (o.argv as unknown[]).join(' ')
        : typeof o.to === 'string'
          ? o.to
          : typeof o.buildId === 'string'
            ? o.buildId.slice(0, 12)
            : typeof o.release === 'string'
              ? o.release
              : '';
  return show(`${String(o.kind)}${what ? ` ${what}` : ''}`);
}

/** The fields of a step that decide what it does (everything but its title), each with how to show it. */
const FIELDS: Record<string, { show: (v: unknown) => string }> = {
  kind: { show },
  argv: { show: (v) => (Array.isArray(v) ? show(v.join(' ')) : show(v)) },
  path: { show },
  content: { show: digest },
  mode: { show: (v) => (typeof v === 'number' ? `0${v.toString(8)}` : show(v)) },
  sudo: { show },
  buildId: { show: (v) => (typeof v === 'string' ? show(v.slice(0, 12)) : show(v)) },
  from: { show },
  to: { show },
  release: { show },
  name: { show },
  version: { show },
  data: { show: digest },
  certificate: { show: digest },
};

const DISPLAY = new Set(['title']);

function stepDifference(saved: Step, fresh: Step): string | null {
  const a = saved as unknown as Record<string, unknown>;
  const b = fresh as unknown as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(FIELDS), ...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    if (DISPLAY.has(k)) continue;
    if (canonical(a[k]) === canonical(b[k])) continue;
    const s = FIELDS[k]?.show ?? show;
    const mine = k in a ? `${k} ${s(a[k])}` : `no ${k}`;
    const theirs = k in b ? s(b[k]) : 'none';
    return k === 'kind'
      ? `${mine}, the fresh plan has a ${theirs} step`
      : `${mine}, the fresh plan has ${theirs}`;
  }
  return null;
}

function changeDifference(saved: Change, fresh: Change): string | null {
  const id = show(saved.id);
  if (saved.action !== fresh.action)
    return `change ${id}: action ${show(saved.action)}, the fresh plan has ${show(fresh.action)}`;
  if (saved.resource !== fresh.resource)
    return `change ${id}: resource ${show(saved.resource)}, the fresh plan has ${show(fresh.resource)}`;
  if (canonical(saved.dependsOn) !== canonical(fresh.dependsOn))
    return `change ${id}: depends on ${show((saved.dependsOn ?? []).join(', '))}, the fresh plan has ${show(fresh.dependsOn.join(', ')) || 'nothing'}`;
  const steps = Array.isArray(saved.steps) ? saved.steps : [];
  for (let i = 0; i < Math.max(steps.length, fresh.steps.length); i++) {
    const s = steps[i];
    const f = fresh.steps[i];
    if (!s)
      return `change ${id}: the saved plan has no step ${i + 1}, the fresh plan has ${stepLabel(f as Step)}`;
    if (!f)
      return `change ${id} step ${i + 1} (${stepLabel(s)}): the fresh plan has no such step (${fresh.steps.length} steps)`;
    const d = stepDifference(s, f);
    if (d) return `change ${id} step ${i + 1} (${stepLabel(s)}): ${d}`;
  }
  return null;
}

/**
 * The first difference between a saved host plan and a fresh one, in words (the saved plan's
 * values escaped and cut short, contents as digests); null when apply would do the same for both.
 */
export function planDifference(saved: HostPlan, fresh: HostPlan): string | null {
  const a = saved.changes;
  const b = fresh.changes;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const s = a[i];
    const f = b[i];
    if (!s) return `the saved plan lacks change ${show(f?.id)} (change ${i + 1} of the fresh plan)`;
    if (!f) return `change ${show(s.id)} is not in the fresh plan (${b.length} changes)`;
    if (s.id !== f.id) {
      const elsewhere = b.findIndex((c) => c.id === s.id);
      return elsewhere >= 0
        ? `change ${i + 1} is ${show(s.id)}, the fresh plan has ${show(f.id)} there (and ${show(s.id)} as change ${elsewhere + 1})`
        : `change ${i + 1} is ${show(s.id)}, the fresh plan has ${show(f.id)}`;
    }
    const d = changeDifference(s, f);
    if (d) return d;
  }
  return null;
}
