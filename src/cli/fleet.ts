/**
 * Fleets: the hosts of an Ansible inventory (or the one --host), planned in parallel with one
 * connection each, every distinct build resolved and built once, applied in rolling batches with a
 * failure budget. Unreachable and failed hosts are reported at the end with their cause; the others
 * carry on.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hostKernelfile, type InventoryHost, parseInventory } from '../fleet/inventory.js';
import { selectHosts } from '../fleet/limit.js';
import { pool } from '../fleet/rollout.js';
import { HostError } from '../host/transport.js';
import type { Io } from './io.js';
import { UserError } from './io.js';
import { diagnosticOptions, loadSpec, renderAll } from './kernelfile.js';
import {
  type Loaded,
  openAndGather,
  type PlanFlags,
  type PlannedHost,
  type PrepareCache,
  planGathered,
} from './plan-host.js';

export interface FleetFlags extends PlanFlags {
  inventory?: string;
  limit?: string;
  parallel?: string;
}

export interface Target {
  /** The inventory name (or the --host value). */
  name: string;
  flags: PlanFlags;
  /** The kernelfile for this host, as given. */
  kernelfile: string;
}

export type FleetHost =
  | { target: Target; ok: true; planned: PlannedHost }
  | { target: Target; ok: false; unreachable: boolean; error: string; hint?: string };

const UNREACHABLE = new Set([
  'unreachable',
  'auth',
  'host-key-unknown',
  'host-key-changed',
  'disconnected',
  'timeout',
]);

export function parallelism(flags: FleetFlags): number {
  const n = Number(flags.parallel ?? '20');
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new UserError(`--parallel takes a number of hosts from 1 to 1000, got \`${flags.parallel}\``);
  return n;
}

function addressOf(h: InventoryHost): string {
  const a = h.address;
  if (h.vars.ansible_connection === 'local') return 'local';
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `ssh://${a.user ? `${a.user}@` : ''}${host}${a.port ? `:${a.port}` : ''}`;
}

/** The hosts to work on: the inventory's (filtered by --limit), or the single --host. */
export function targets(file: string | undefined, flags: FleetFlags, io: Io): Target[] {
  if (!flags.inventory) {
    return [{ name: flags.host ?? 'local', flags, kernelfile: file ?? 'kernelfile.yaml' }];
  }
  if (flags.host && flags.host !== 'local')
    throw new UserError(
      '--host and --inventory cannot be used together',
      'select hosts of the inventory with --limit',
    );
  const path = resolve(io.cwd, flags.inventory);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(
      `cannot read the inventory ${flags.inventory}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const inv = parseInventory(text, flags.inventory);
  if (!inv.ok) {
    const first = inv.errors[0];
    throw new UserError(
      inv.errors
        .map((e) => `${e.file}${e.line ? `:${e.line}:${e.column ?? 1}` : ''}: ${e.message}`)
        .join('\n'),
      first?.hint,
    );
  }
  for (const w of inv.warnings)
    io.err(`${w.file}${w.line ? `:${w.line}:${w.column ?? 1}` : ''}: warning: ${w.message}\n`);
  const sel = selectHosts(inv.value, flags.limit ?? 'all');
  if (!sel.ok) throw new UserError(sel.error, sel.hint);
  const missing = sel.hosts.filter((h) => !h.kernelfile && !file);
  if (missing.length)
    throw new UserError(
      `no kernelfile for ${missing.map((h) => h.name).join(', ')}: the inventory sets no \`kernelfile\` var for ${missing.length === 1 ? 'it' : 'them'} and none was given`,
      'set `kernelfile: path/to/kernelfile.yaml` in the host or group vars (relative to the inventory), or name one on the command line',
    );
  return sel.hosts.map((h) => ({
    name: h.name,
    kernelfile: hostKernelfile(h, path) ?? (file as string),
    flags: {
      ...flags,
      host: addressOf(h),
      identity: [
        ...(h.address.identity ? [resolve(io.cwd, h.address.identity)] : []),
        ...(flags.identity ?? []),
      ],
      sudo: flags.sudo || h.address.become,
    },
  }));
}

function describe(e: unknown): { unreachable: boolean; error: string; hint?: string } {
  if (e instanceof HostError) return { unreachable: UNREACHABLE.has(e.kind), error: e.message, hint: e.hint };
  if (e instanceof UserError) return { unreachable: false, error: e.message, hint: e.hint };
  return { unreachable: false, error: (e as Error).message ?? String(e) };
}

/**
 * Load every kernelfile once (invalid ones print their diagnostics), gather every host's facts in
 * parallel (one connection each, kept open for apply), and plan each host; the Kconfig of each
 * distinct kernelfile/arch/running config is resolved once.
 */
export async function planFleet(list: Target[], io: Io, parallel: number): Promise<FleetHost[]> {
  const loaded = new Map<string, Promise<Loaded>>();
  const load = (file: string) => {
    let p = loaded.get(file);
    if (!p) {
      p = loadSpec(file, io).then((l) => {
        if (!l.result.ok) {
          const render = diagnosticOptions(l.kf, io);
          for (const block of renderAll(l.result.errors, render)) io.err(`${block}\n\n`);
        }
        return l;
      });
      loaded.set(file, p);
    }
    return p;
  };
  const cache: PrepareCache = new Map();
  const settled = await pool(list, parallel, async (t) => {
    const l = await load(t.kernelfile);
    if (!l.result.ok)
      throw new UserError(`${l.kf.display} is not valid`, `run \`kernelfile validate ${l.kf.display}\``);
    const gathered = await openAndGather(t.flags, io);
    try {
      return await planGathered(l, gathered, t.flags, io, undefined, cache);
    } catch (e) {
      await gathered.transport.close();
      throw e;
    }
  });
  return settled.map((r, i) => {
    const target = list[i] as Target;
    return r.status === 'fulfilled'
      ? { target, ok: true as const, planned: r.value }
      : { target, ok: false as const, ...describe(r.reason) };
  });
}

export async function closeAll(hosts: FleetHost[]): Promise<void> {
  await Promise.all(hosts.map((h) => (h.ok ? h.planned.transport.close().catch(() => {}) : undefined)));
}
