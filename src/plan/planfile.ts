/**
 * Saved plans (`plan --out FILE`, `apply FILE`): read back with checks, and found stale when the
 * kernelfile or a host's facts changed since the plan was made. Pure: the caller reads the file,
 * hashes the kernelfile and gathers the facts.
 */
import { type Action, type HostPlan, PLAN_FORMAT_VERSION, type PlanFile } from './types.js';

const ACTIONS = new Set<Action>(['create', 'update', 'replace', 'delete', 'noop']);

const validValue = (v: unknown): boolean =>
  v === null ||
  typeof v === 'string' ||
  typeof v === 'number' ||
  typeof v === 'boolean' ||
  (Array.isArray(v) && v.every((x) => typeof x === 'string'));

function validAttribute(a: unknown): boolean {
  if (a === null || typeof a !== 'object') return false;
  const o = a as Record<string, unknown>;
  return typeof o.name === 'string' && validValue(o.before) && validValue(o.after);
}

/** Parse a saved plan; throws an Error whose message says what is wrong with it. */
export function parsePlanFile(text: string): PlanFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message}): is it a file written by \`kernelfile plan --out\`?`);
  }
  const o = v as Partial<PlanFile> & Record<string, unknown>;
  if (!o || typeof o !== 'object' || o.kind !== 'kernelfile-plan')
    throw new Error('not a kernelfile plan (no "kind": "kernelfile-plan")');
  if (o.formatVersion !== PLAN_FORMAT_VERSION)
    throw new Error(
      `plan format ${String(o.formatVersion)}; this kernelfile reads format ${PLAN_FORMAT_VERSION}: make the plan again`,
    );
  if (!o.kernelfile || typeof o.kernelfile.sha256 !== 'string' || !Array.isArray(o.hosts))
    throw new Error('incomplete plan (kernelfile or hosts missing)');
  for (const h of o.hosts as HostPlan[]) {
    if (
      typeof h.host !== 'string' ||
      typeof h.factsDigest !== 'string' ||
      !Array.isArray(h.changes) ||
      !Array.isArray(h.problems) ||
      !h.summary ||
      typeof h.summary.release !== 'string' ||
      typeof h.summary.buildId !== 'string'
    )
      throw new Error('incomplete plan: a host entry lacks host, factsDigest, changes, problems or summary');
    for (const c of h.changes) {
      if (!ACTIONS.has(c.action) || !Array.isArray(c.steps))
        throw new Error(`incomplete plan: change ${String(c.id)} has no valid action or steps`);
      // Display only (apply shows and runs the fresh plan's); a plan saved before they existed has none.
      if (c.attributes === undefined) c.attributes = [];
      else if (!Array.isArray(c.attributes) || !c.attributes.every(validAttribute))
        throw new Error(
          `incomplete plan: change ${String(c.id)} has attributes that are not {name, before, after}`,
        );
    }
  }
  return o as PlanFile;
}

/** Why a saved plan no longer applies to a host; empty when it still does. */
export function staleReasons(
  file: PlanFile,
  host: HostPlan,
  now: { kernelfileSha256: string; factsDigest: string; factsFamilies: Record<string, string> },
): string[] {
  const out: string[] = [];
  if (now.kernelfileSha256 !== file.kernelfile.sha256)
    out.push(
      `${file.kernelfile.path} changed since the plan was made (sha256 ${file.kernelfile.sha256.slice(0, 12)} → ${now.kernelfileSha256.slice(0, 12)})`,
    );
  if (now.factsDigest !== host.factsDigest) {
    const changed = Object.keys({ ...host.factsFamilies, ...now.factsFamilies })
      .filter((k) => host.factsFamilies[k] !== now.factsFamilies[k])
      .sort();
    out.push(
      `the facts of ${host.host} changed since the plan was made${changed.length ? ` (${changed.join(', ')})` : ''}`,
    );
  }
  return out;
}
