/**
 * Saved plans (`plan --out FILE`, `apply FILE`): read back with checks, and found stale when the
 * kernelfile or a host's facts changed since the plan was made. A saved plan is data from a file
 * anyone may have edited: every field apply uses is checked here (types, sizes, no control
 * characters, kernelfile paths inside the working directory); the engine then checks each host's
 * address and files (src/engine/saved-plan.ts) and compares each host's plan with a fresh one
 * (compare.ts). Pure: the caller reads the file, hashes the kernelfile and gathers the facts.
 */
import {
  type Action,
  type HostPlan,
  PLAN_FORMAT_VERSION,
  SAVED_PLAN_FORMAT_VERSION,
  type SavedConnection,
  type SavedHost,
  type SavedHostPlan,
  type SavedKernelfile,
  type SavedPlan,
} from './types.js';

const ACTIONS = new Set<Action>(['create', 'update', 'replace', 'delete', 'no-op']);

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

/** At most this many hosts in one saved plan. */
export const MAX_SAVED_HOSTS = 10_000;
/** A name, an address or a path: at most this long. */
const MAX_TEXT = 4096;
/** SSH timeouts: at most a day. */
const MAX_TIMEOUT_MS = 86_400_000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A value from the file, shown in a message: escaped (no control characters), cut at 80. */
export function shown(v: unknown, max = 80): string {
  const s = typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : (JSON.stringify(v) ?? String(v));
  const t = s.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

class Bad extends Error {}

const bad = (where: string, what: string): never => {
  throw new Bad(`${where}: ${what}`);
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A string of 1..max characters without control characters. */
function text(v: unknown, where: string, max = MAX_TEXT): string {
  if (typeof v !== 'string') return bad(where, `not a string (${shown(v)})`);
  if (v === '') return bad(where, 'empty');
  if (v.length > max) return bad(where, `longer than ${max} characters`);
  if (CONTROL.test(v)) return bad(where, `contains a control character (${shown(v)})`);
  return v;
}

const optional = <T>(v: unknown, read: (v: unknown) => T): T | undefined =>
  v === undefined ? undefined : read(v);

function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') return bad(where, `not true or false (${shown(v)})`);
  return v;
}

function paths(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) return bad(where, 'not a list');
  if (v.length > 32) return bad(where, 'more than 32 files');
  return v.map((p, i) => text(p, `${where}[${i}]`));
}

function timeout(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TIMEOUT_MS)
    return bad(where, `not a number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (${shown(v)})`);
  return v;
}

/**
 * A kernelfile path of a saved plan: relative to the working directory and inside it (the
 * repository apply runs in), so a file cannot make apply read a kernelfile from anywhere else.
 */
export function insideWorkingDirectory(p: string): boolean {
  if (p.startsWith('/')) return false;
  let depth = 0;
  for (const part of p.split('/')) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return false;
  }
  return depth > 0;
}

function connection(v: unknown, where: string): SavedConnection {
  if (!isObject(v)) return bad(where, 'missing (how to reach the host)');
  const identity = optional(v.identity, (x) => text(x, `${where}.identity`));
  const become = optional(v.become, (x) => bool(x, `${where}.become`));
  const sshConfig = optional(v.sshConfig, (x) => text(x, `${where}.sshConfig`));
  const knownHosts = optional(v.knownHosts, (x) => paths(x, `${where}.knownHosts`));
  const identities = optional(v.identities, (x) => paths(x, `${where}.identities`));
  const connectTimeoutMs = optional(v.connectTimeoutMs, (x) => timeout(x, `${where}.connectTimeoutMs`));
  const commandTimeoutMs = optional(v.commandTimeoutMs, (x) => timeout(x, `${where}.commandTimeoutMs`));
  return {
    host: text(v.host, `${where}.host`, 1024),
    sudo: bool(v.sudo, `${where}.sudo`),
    ...(identity !== undefined ? { identity } : {}),
    ...(become !== undefined ? { become } : {}),
    ...(sshConfig !== undefined ? { sshConfig } : {}),
    ...(knownHosts !== undefined ? { knownHosts } : {}),
    ...(identities !== undefined ? { identities } : {}),
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
    ...(commandTimeoutMs !== undefined ? { commandTimeoutMs } : {}),
  };
}

function kernelfile(v: unknown, where: string): SavedKernelfile {
  if (!isObject(v)) return bad(where, 'missing');
  const path = text(v.path, `${where}.path`);
  if (!insideWorkingDirectory(path))
    bad(
      `${where}.path`,
      `${shown(path)} is not inside the working directory (a saved plan names kernelfiles relative to it)`,
    );
  if (typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256))
    bad(`${where}.sha256`, 'not a sha256 (64 hexadecimal digits)');
  return { path, sha256: v.sha256 as string, name: text(v.name, `${where}.name`, 255) };
}

/** What apply and the staleness check read of a host's plan; the rest is compared with a fresh plan or not used. */
function hostPlan(v: unknown, where: string): HostPlan {
  if (!isObject(v)) return bad(where, 'missing');
  const h = v as Partial<HostPlan> & Record<string, unknown>;
  if (
    typeof h.host !== 'string' ||
    typeof h.factsDigest !== 'string' ||
    !Array.isArray(h.changes) ||
    !Array.isArray(h.problems) ||
    !isObject(h.summary) ||
    typeof h.summary.release !== 'string' ||
    typeof h.summary.buildId !== 'string'
  )
    bad(where, 'incomplete: a host plan needs host, factsDigest, changes, problems and summary');
  if (!isObject(h.factsFamilies) || !Object.values(h.factsFamilies).every((x) => typeof x === 'string'))
    bad(`${where}.factsFamilies`, 'not an object of digests');
  for (const [i, c] of (h.changes as unknown[]).entries()) {
    const o = isObject(c) ? c : {};
    // Saved plans of format 2 made before the JSON spelled it as Terraform does said `noop`.
    if (o.action === 'noop') o.action = 'no-op';
    if (
      typeof o.id !== 'string' ||
      !ACTIONS.has(o.action as Action) ||
      !Array.isArray(o.steps) ||
      !o.steps.every(isObject)
    )
      bad(
        `${where}.changes[${i}]`,
        `change ${shown(o.id)} has no valid id, action or steps (apply knows ${[...ACTIONS].join(', ')})`,
      );
    // Display only (apply shows and runs the fresh plan's); a plan saved before they existed has none.
    if (o.attributes === undefined) o.attributes = [];
    else if (!Array.isArray(o.attributes) || !o.attributes.every(validAttribute))
      bad(
        `${where}.changes[${i}]`,
        `change ${shown(o.id)} has attributes that are not {name, before, after}`,
      );
  }
  return v as unknown as HostPlan;
}

function savedHost(v: unknown, where: string): SavedHost {
  if (!isObject(v)) return bad(where, 'not an object');
  const name = text(v.name, `${where}.name`, 255);
  const at = `${where} (${name})`;
  const conn = connection(v.connection, `${at}.connection`);
  if ('plan' in v)
    return {
      name,
      state: typeof v.state === 'string' ? v.state : '',
      connection: conn,
      kernelfile: kernelfile(v.kernelfile, `${at}.kernelfile`),
      plan: hostPlan(v.plan, `${at}.plan`),
    };
  if (v.state !== 'unreachable' && v.state !== 'error')
    bad(`${at}.state`, 'a host without a plan must be `unreachable` or `error`');
  if (typeof v.error !== 'string') bad(`${at}.error`, 'missing (why the host could not be planned)');
  return {
    name,
    state: v.state as 'unreachable' | 'error',
    connection: conn,
    error: v.error as string,
    hint: typeof v.hint === 'string' ? v.hint : null,
  };
}

/**
 * Parse a saved plan; throws an Error whose message says what is wrong with it (where, and what),
 * values from the file escaped.
 */
export function parseSavedPlan(input: string): SavedPlan {
  let v: unknown;
  try {
    v = JSON.parse(input);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message}): is it a file written by \`kernelfile plan --out\`?`);
  }
  if (!isObject(v)) throw new Error('not a kernelfile plan (no "kind": "kernelfile-plan")');
  if (v.kind === 'kernelfile-fleet-plan')
    throw new Error(
      'this is the fleet plan `plan --inventory --json` prints, not a saved plan: save one with `kernelfile plan --inventory FILE --out PLAN`',
    );
  if (v.kind !== 'kernelfile-plan') throw new Error('not a kernelfile plan (no "kind": "kernelfile-plan")');
  if (v.formatVersion === PLAN_FORMAT_VERSION)
    throw new Error(
      `plan format ${PLAN_FORMAT_VERSION} (a plan saved by an older kernelfile, or the output of \`plan --json\`) does not record how to reach its hosts; this kernelfile applies plans of format ${SAVED_PLAN_FORMAT_VERSION}: make the plan again with \`kernelfile plan … --out FILE\``,
    );
  if (v.formatVersion !== SAVED_PLAN_FORMAT_VERSION) {
    const f = v.formatVersion;
    const which = f === undefined ? 'missing' : typeof f === 'string' ? `"${shown(f)}"` : shown(f);
    throw new Error(
      `plan format ${which}; this kernelfile reads format ${SAVED_PLAN_FORMAT_VERSION}: make the plan again`,
    );
  }
  try {
    const inventory =
      v.inventory === null || v.inventory === undefined ? null : text(v.inventory, 'inventory');
    const limit = v.limit === null || v.limit === undefined ? null : text(v.limit, 'limit');
    if (!Array.isArray(v.hosts)) return bad('hosts', 'missing or not a list');
    if (v.hosts.length === 0) return bad('hosts', 'empty: the plan names no host');
    if (v.hosts.length > MAX_SAVED_HOSTS) return bad('hosts', `more than ${MAX_SAVED_HOSTS} hosts`);
    const hosts = v.hosts.map((h, i) => savedHost(h, `hosts[${i}]`));
    const seen = new Set<string>();
    for (const h of hosts) {
      if (seen.has(h.name)) bad('hosts', `${shown(h.name)} is there twice`);
      seen.add(h.name);
    }
    return { formatVersion: SAVED_PLAN_FORMAT_VERSION, kind: 'kernelfile-plan', inventory, limit, hosts };
  } catch (e) {
    if (e instanceof Bad) throw new Error(`incomplete or invalid plan: ${e.message}`);
    throw e;
  }
}

/** Why a saved host plan no longer applies to its host; empty when it still does. */
export function staleReasons(
  saved: Pick<SavedHostPlan, 'kernelfile' | 'plan'>,
  now: { kernelfileSha256: string; factsDigest: string; factsFamilies: Record<string, string> },
): string[] {
  const out: string[] = [];
  const { kernelfile: kf, plan: host } = saved;
  if (now.kernelfileSha256 !== kf.sha256)
    out.push(
      `${kf.path} changed since the plan was made (sha256 ${kf.sha256.slice(0, 12)} → ${now.kernelfileSha256.slice(0, 12)})`,
    );
  if (now.factsDigest !== host.factsDigest) {
    const changed = Object.keys({ ...host.factsFamilies, ...now.factsFamilies })
      .filter((k) => host.factsFamilies[k] !== now.factsFamilies[k])
      .sort();
    out.push(
      `the facts of ${shown(host.host)} changed since the plan was made${changed.length ? ` (${changed.map((c) => shown(c)).join(', ')})` : ''}`,
    );
  }
  return out;
}
