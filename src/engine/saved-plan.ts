/**
 * Saved plans (`plan --out FILE`, `apply FILE`), one host or an inventory's: written as versioned
 * JSON naming each host with how to reach it, and read back as untrusted data: bounded, validated
 * (src/plan/planfile.ts), each host's address read as `--host` reads it and each file it names
 * checked. Applying one is planning its hosts again and holding each to its saved plan: a host
 * whose facts or kernelfile changed, or whose fresh plan says anything else, is refused by name.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { type HostAddress, parseHostAddress, restoreAddress, saveAddress } from '../host/address.js';
import { AddressError } from '../host/kind.js';
import type { HostOptions } from '../host/open.js';
import { quoteArg } from '../host/quote.js';
import { planDifference } from '../plan/compare.js';
import { insideWorkingDirectory, parseSavedPlan, shown, staleReasons } from '../plan/planfile.js';

export { shown } from '../plan/planfile.js';
export { isPlanned } from '../plan/types.js';

import {
  hasChanges,
  isPlanned,
  SAVED_PLAN_FORMAT_VERSION,
  type SavedConnection,
  type SavedHost,
  type SavedHostPlan,
  type SavedPlan,
  type SavedUnplanned,
} from '../plan/types.js';
import type { PlanJson, SavedHostPlanEntryJson, SavedPlanJson } from '../render/json-documents.js';
import { planFile, planJson, savedHostPlanJson, totalsOf } from '../render/plan-json.js';
import type { Env } from './env.js';
import { describe, PlanMismatchError, StalePlanError, UserError } from './errors.js';
import { blocked, type FleetHost, type PlannedHost, type PlanningSession } from './planning.js';
import { DEFAULT_KERNELFILE, type Selection, selectTargets, type Target } from './targets.js';
import { type Clock, stampOf } from './version.js';

/** A saved plan larger than this is refused unread (a fleet's plan is about 200 KB a host). */
export const MAX_PLAN_BYTES = 256 * 1024 * 1024;
/** A file a saved plan names (a key, known_hosts, an ssh config) larger than this is refused. */
const MAX_NAMED_FILE_BYTES = 16 * 1024 * 1024;

const REPLAN = 'make a new one with `kernelfile plan … --out FILE`';

/**
 * The saved plan at `file`, or undefined when the file is not one (a kernelfile: it does not
 * start with `{`; or not a regular file). A file that starts like JSON but is not a usable plan
 * is refused, saying what is wrong with it.
 */
export function readSavedPlan(file: string, env: Env): SavedPlan | undefined {
  const path = resolve(env.cwd, file);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const head = Buffer.alloc(Math.min(st.size, 4096));
    const n = readSync(fd, head, 0, head.length, 0);
    if (!head.subarray(0, n).toString('utf8').trimStart().startsWith('{')) return undefined;
    if (st.size > MAX_PLAN_BYTES)
      throw new UserError(
        `${file} is not a usable plan: it is larger than ${MAX_PLAN_BYTES / 1048576} MiB`,
        REPLAN,
      );
    const bytes = Buffer.alloc(st.size);
    let got = 0;
    while (got < bytes.length) {
      const k = readSync(fd, bytes, got, bytes.length - got, got);
      if (k === 0) break;
      got += k;
    }
    return parseSavedPlan(bytes.subarray(0, got).toString('utf8'));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file} is not a usable plan: ${(e as Error).message}`, REPLAN);
  } finally {
    closeSync(fd);
  }
}

/** The `plan --json` document of planned hosts sharing one kernelfile (format 1). */
export function planDocument(hosts: readonly PlannedHost[], clock: Clock = {}): PlanJson {
  const first = hosts[0];
  if (!first) throw new UserError('no host was planned: nothing to save');
  const d = first.desired;
  return planJson(
    planFile(
      { path: d.kernelfile.path, sha256: d.kernelfile.sha256, name: d.name },
      hosts.map((h) => h.plan),
    ),
    stampOf(clock),
  );
}

function connectionOf(t: Target): SavedConnection {
  const a = saveAddress(t.address);
  const o = t.hostOptions;
  return {
    host: a.host,
    ...(a.identity !== undefined ? { identity: a.identity } : {}),
    ...(a.become ? { become: true } : {}),
    sudo: t.sudo,
    ...(o.sshConfig ? { sshConfig: o.sshConfig } : {}),
    ...(o.knownHosts?.length ? { knownHosts: [...o.knownHosts] } : {}),
    ...(o.identities?.length ? { identities: [...o.identities] } : {}),
    ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    ...(o.commandTimeoutMs ? { commandTimeoutMs: o.commandTimeoutMs } : {}),
  };
}

/** A kernelfile's path relative to the working directory, where `apply FILE` reads it again. */
function savedKernelfilePath(t: Target, env: Env): string {
  if (t.kernelfile === '-')
    throw new UserError(
      `cannot save the plan of ${t.name}: its kernelfile was read from standard input, and a saved plan names its kernelfile by path`,
      'name the kernelfile file instead of `-`',
    );
  const rel = relative(env.cwd, resolve(env.cwd, t.kernelfile));
  if (!insideWorkingDirectory(rel))
    throw new UserError(
      `cannot save the plan of ${t.name}: its kernelfile ${t.kernelfile} is outside the working directory`,
      'a saved plan names kernelfiles relative to the working directory, where `apply FILE` reads them again: run kernelfile from the directory that holds them (the repository)',
    );
  return rel;
}

/**
 * The targets as `plan --out` plans them: each kernelfile named relative to the working directory,
 * as the saved plan names it and `apply FILE` reads it again (the path is in the receipt a plan
 * writes, so the plan must be made with the path apply will use). Refuses a kernelfile outside the
 * working directory, or read from standard input.
 */
export function targetsForSaving(targets: readonly Target[], env: Env): Target[] {
  return targets.map((t) => ({ ...t, kernelfile: savedKernelfilePath(t, env) }));
}

function stateOf(h: PlannedHost): string {
  if (blocked(h))
    return `not possible: ${h.plan.problems.map((x) => x.code).join(', ') || 'config values dropped'}`;
  return hasChanges(h.plan) ? 'changes pending' : 'converged';
}

/**
 * The saved plan of planned hosts (`plan --out`), one host or an inventory's: each planned host
 * with how to reach it, its kernelfile and its plan (every step whole); each host that could not
 * be planned with why.
 */
export function savedPlanDocument(
  hosts: readonly FleetHost[],
  selection: { inventory?: string; limit?: string },
  env: Env,
): SavedPlanJson {
  if (hosts.length === 0) throw new UserError('no host was selected: nothing to save');
  const entries = hosts.map((h): SavedHostPlanEntryJson | SavedUnplanned => {
    const connection = connectionOf(h.target);
    if (!h.ok)
      return {
        name: h.target.name,
        state: h.unreachable ? 'unreachable' : 'error',
        connection,
        error: h.error,
        hint: h.hint ?? null,
      };
    const path = savedKernelfilePath(h.target, env);
    if (h.desired.kernelfile.path !== path)
      throw new UserError(
        `cannot save the plan of ${h.target.name}: it was made from ${h.desired.kernelfile.path}, which \`apply FILE\` would read as ${path}`,
        'plan the targets of targetsForSaving() (the kernelfile named relative to the working directory, as the plan saves it)',
      );
    return {
      name: h.target.name,
      state: stateOf(h),
      connection,
      kernelfile: {
        path,
        sha256: h.desired.kernelfile.sha256,
        name: h.desired.name,
      },
      plan: savedHostPlanJson(h.plan, !blocked(h)),
    };
  });
  const planned = entries.flatMap((h) => ('plan' in h ? [h.plan] : []));
  const t = totalsOf(planned);
  return {
    formatVersion: SAVED_PLAN_FORMAT_VERSION,
    kind: 'kernelfile-plan',
    ...stampOf(env),
    inventory: selection.inventory ?? null,
    limit: selection.limit ?? null,
    hosts: entries,
    counts: t.counts,
    changed: t.changed,
    possible: t.possible && planned.length === entries.length,
  };
}

export function writePlanDocument(file: string, doc: unknown, env: Env): void {
  try {
    // Written whole under a temporary name, then renamed: a reader never sees half a plan.
    const path = resolve(env.cwd, file);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`);
    renameSync(tmp, path);
  } catch (e) {
    throw new UserError(`cannot write the plan to ${file}: ${(e as Error).message}`);
  }
}

/** The command that makes the plan again, for hints (values from the file quoted for sh). */
export function replanCommand(saved: SavedPlan, file: string, entry?: SavedHost): string {
  const out = `--out ${quoteArg(file)}`;
  if (saved.inventory !== null)
    return `kernelfile plan --inventory ${quoteArg(saved.inventory)}${saved.limit !== null ? ` --limit ${quoteArg(saved.limit)}` : ''} ${out}`;
  const kf = entry && isPlanned(entry) ? `${quoteArg(entry.kernelfile.path)} ` : '';
  return `kernelfile plan ${kf}--host ${quoteArg(entry?.name ?? saved.hosts[0]?.name ?? 'HOST')} ${out}`;
}

/** A file a saved plan names for a host: a regular file of sensible size when it exists (ssh skips a missing one). */
function checkNamedFile(p: string, what: string, host: string, file: string, env: Env): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(resolve(env.cwd, p));
  } catch {
    return;
  }
  if (!st.isFile() || st.size > MAX_NAMED_FILE_BYTES)
    throw new UserError(
      `the plan ${file} names ${what} ${shown(p)} for ${shown(host)}, which is ${st.isFile() ? `larger than ${MAX_NAMED_FILE_BYTES / 1048576} MiB` : 'not a regular file'}`,
      `a saved plan names files only; check the plan, or ${REPLAN}`,
    );
}

function addressOf(entry: SavedHost, file: string): HostAddress {
  const c = entry.connection;
  try {
    return restoreAddress({
      host: c.host,
      ...(c.identity !== undefined ? { identity: c.identity } : {}),
      ...(c.become ? { become: true } : {}),
    });
  } catch (e) {
    if (e instanceof AddressError)
      throw new UserError(`the plan ${file}: host ${shown(entry.name)}: ${e.message}`, e.hint);
    throw e;
  }
}

/** What the command line (or a library caller) says about connecting, over the plan's settings. */
export interface SavedTargetOptions {
  /** SSH settings given now: each one present replaces the plan's (`acceptNewHostKeys` only comes from here). */
  hostOptions?: HostOptions;
  /** Gather facts with `sudo -n` (besides the hosts the plan gathers so for). */
  sudo?: boolean;
}

export interface SavedTarget {
  entry: SavedHost;
  target: Target;
}

/**
 * The hosts of a saved plan, in its order, each with the connection it names (its address read as
 * `--host` reads it; the files it names checked), the settings given now over the plan's.
 */
export function savedTargets(
  saved: SavedPlan,
  file: string,
  env: Env,
  o: SavedTargetOptions = {},
): SavedTarget[] {
  const now = o.hostOptions ?? {};
  return saved.hosts.map((entry) => {
    const c = entry.connection;
    const address = addressOf(entry, file);
    if (c.identity !== undefined) checkNamedFile(c.identity, 'the identity file', entry.name, file, env);
    for (const p of c.identities ?? []) checkNamedFile(p, 'the identity file', entry.name, file, env);
    for (const p of c.knownHosts ?? []) checkNamedFile(p, 'the known_hosts file', entry.name, file, env);
    if (c.sshConfig !== undefined && c.sshConfig !== 'none')
      checkNamedFile(c.sshConfig, 'the ssh config', entry.name, file, env);
    const hostOptions: HostOptions = {
      ...(c.sshConfig !== undefined ? { sshConfig: c.sshConfig } : {}),
      ...(c.knownHosts ? { knownHosts: c.knownHosts } : {}),
      identities: c.identities ?? [],
      ...(c.connectTimeoutMs !== undefined ? { connectTimeoutMs: c.connectTimeoutMs } : {}),
      ...(c.commandTimeoutMs !== undefined ? { commandTimeoutMs: c.commandTimeoutMs } : {}),
      acceptNewHostKeys: false,
      env: env.env,
    };
    for (const [k, v] of Object.entries(now)) if (v !== undefined) Object.assign(hostOptions, { [k]: v });
    return {
      entry,
      target: {
        name: entry.name,
        address,
        hostOptions,
        sudo: c.sudo || o.sudo === true,
        kernelfile: isPlanned(entry) ? entry.kernelfile.path : DEFAULT_KERNELFILE,
      },
    };
  });
}

const NO_KERNELFILE = '\u0000no kernelfile';

function list(names: readonly string[]): string {
  const shownNames = names.slice(0, 5).map((n) => shown(n));
  return `${shownNames.join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}

/**
 * `apply FILE` with `--host` or `--inventory`: the selection must name exactly the plan's hosts,
 * reached the same way (and, for an inventory, with the same kernelfiles); anything else is
 * refused before connecting, saying what differs.
 */
export function checkSavedSelection(
  saved: SavedPlan,
  file: string,
  sel: Pick<Selection, 'host' | 'inventory' | 'limit'>,
  env: Env,
  warn?: (message: string) => void,
): void {
  const hint = `apply the plan without host options (it names its hosts and how to reach them), or make a new plan for this selection with --out`;
  if (sel.inventory) {
    const targets = selectTargets(
      { inventory: sel.inventory, ...(sel.limit ? { limit: sel.limit } : {}), kernelfile: NO_KERNELFILE },
      env,
      warn,
    );
    const inPlan = new Map(saved.hosts.map((h) => [h.name, h]));
    const selected = new Set(targets.map((t) => t.name));
    const what = `--inventory ${sel.inventory}${sel.limit ? ` --limit ${sel.limit}` : ''}`;
    const differences: string[] = [];
    const extra = targets.filter((t) => !inPlan.has(t.name)).map((t) => t.name);
    const missing = saved.hosts.filter((h) => !selected.has(h.name)).map((h) => h.name);
    if (extra.length) differences.push(`${list(extra)} ${extra.length === 1 ? 'is' : 'are'} not in the plan`);
    if (missing.length)
      differences.push(
        `${list(missing)} ${missing.length === 1 ? 'is' : 'are'} in the plan but not selected`,
      );
    for (const t of targets) {
      const entry = inPlan.get(t.name);
      if (!entry) continue;
      const a = saveAddress(t.address);
      const c = entry.connection;
      if (a.host !== c.host || a.identity !== c.identity || Boolean(a.become) !== Boolean(c.become))
        differences.push(
          `${shown(t.name)}: the plan reaches it as ${shown(c.host)}${c.identity ? ` with ${shown(c.identity)}` : ''}, the inventory as ${a.host}${a.identity ? ` with ${a.identity}` : ''}`,
        );
      if (isPlanned(entry) && t.kernelfile !== NO_KERNELFILE) {
        const kf = relative(env.cwd, resolve(env.cwd, t.kernelfile));
        if (kf !== entry.kernelfile.path)
          differences.push(
            `${shown(t.name)}: the plan applies ${shown(entry.kernelfile.path)}, the inventory names ${kf}`,
          );
      }
    }
    if (differences.length)
      throw new UserError(
        `${what} differs from the plan ${file}: ${differences.slice(0, 5).join('; ')}${differences.length > 5 ? `; and ${differences.length - 5} more` : ''}. Nothing was changed`,
        hint,
      );
    return;
  }
  if (sel.host === undefined) return;
  const want = saveAddress(parseHostAddress(sel.host)).host;
  const [only] = saved.hosts;
  if (saved.hosts.length !== 1 || !only)
    throw new UserError(
      `--host ${sel.host}: the plan ${file} is for ${saved.hosts.length} hosts${saved.inventory !== null ? ` of ${shown(saved.inventory)}` : ''} (${list(saved.hosts.map((h) => h.name))}). Nothing was changed`,
      hint,
    );
  if (only.connection.host !== want)
    throw new UserError(
      `--host ${sel.host} differs from the plan ${file}, made for ${shown(only.connection.host)}. Nothing was changed`,
      hint,
    );
}

/**
 * A saved plan is a claim, not a program: the host has been planned again, and its fresh plan is
 * applied only while the saved one still holds: same kernelfile, same facts, and the same changes
 * and steps (src/plan/compare.ts: every field a step acts on; titles and reasons are display
 * text). The host keeps its fresh plan, and that is what is executed.
 */
export function adoptSavedPlan(host: PlannedHost, saved: SavedPlan, file: string): void {
  const name = host.target.name;
  const entry = saved.hosts.find((h) => h.name === name);
  if (!entry || !isPlanned(entry))
    throw new UserError(
      `the plan ${file} has no plan for ${name}`,
      `${file} has plans for ${list(saved.hosts.filter(isPlanned).map((h) => h.name))}; plan ${name} with \`kernelfile plan … --out FILE\``,
    );
  const stale = staleReasons(entry, {
    kernelfileSha256: host.desired.kernelfile.sha256,
    factsDigest: host.facts.digest,
    factsFamilies: host.plan.factsFamilies,
  });
  if (stale.length)
    throw new StalePlanError(
      `the saved plan ${file} is stale for ${name}: ${stale.join('; ')}. Nothing was changed`,
      `review a new plan: ${replanCommand(saved, file, entry)}`,
    );
  const differs = planDifference(entry.plan, host.plan);
  if (differs)
    throw new PlanMismatchError(
      `the saved plan ${file} does not match a fresh plan for ${name}: ${differs}. Nothing was changed`,
      `was the file edited? Review a new plan: ${replanCommand(saved, file, entry)}`,
    );
}

/** A host the plan could not plan: apply leaves it alone and says why. */
function notPlanned(t: SavedTarget, saved: SavedPlan, file: string): FleetHost {
  const e = t.entry as Exclude<SavedHost, SavedHostPlan>;
  const error = `not in the plan: it could not be planned when the plan was made (${e.state}: ${shown(e.error, 200)})`;
  const hint = `make a new plan: ${replanCommand(saved, file, e)}`;
  return {
    ok: false,
    target: t.target,
    unreachable: false,
    error,
    hint,
    cause: new UserError(error, hint),
  };
}

/**
 * Plan the hosts of a saved plan again (one connection each, kept open for apply) and hold each
 * to its saved plan: a host whose plan is stale or says anything else is refused by name (its
 * connection closed), a host the plan could not plan is left alone; in the plan's order.
 */
export async function planSaved(
  session: PlanningSession,
  saved: SavedPlan,
  file: string,
  targets: readonly SavedTarget[],
): Promise<FleetHost[]> {
  const planned = targets.filter((t) => isPlanned(t.entry));
  const fresh = await session.planAll(planned.map((t) => t.target));
  const byName = new Map(fresh.map((h) => [h.target.name, h]));
  return Promise.all(
    targets.map(async (t): Promise<FleetHost> => {
      const h = byName.get(t.target.name);
      if (!h) return notPlanned(t, saved, file);
      if (!h.ok) return h;
      try {
        adoptSavedPlan(h, saved, file);
        return h;
      } catch (e) {
        await h.transport.close().catch(() => {});
        const d = describe(e);
        return {
          ok: false,
          target: h.target,
          unreachable: false,
          error: d.message,
          ...(d.hint ? { hint: d.hint } : {}),
          cause: e,
        };
      }
    }),
  );
}
