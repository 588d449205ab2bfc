/**
 * Pure planning for a fleet: one Desired (the web servers' kernelfile of the planner golden cases,
 * test/fixtures/plan/version-bump-prune: 6.1.120, keep: 2) against 1,000 hosts' facts, all in one
 * process, no I/O (goal: ≤ 1 s for the 1,000). The hosts are the golden cases' Debian 12 / GRUB
 * facts, each with its own host name, hostname, free space and so digest:
 *   - 60% converged: 6.1.119 and 6.1.120 installed by kernelfile, 6.1.120 running and the default
 *     ("No changes"),
 *   - 25% one release behind, with an older kernelfile kernel to prune (6.1.118, 6.1.119 installed:
 *     4 to add, 1 to change, 1 to destroy),
 *   - 15% fresh (nothing of kernelfile's; GRUB_DEFAULT=0).
 * The facts' running config is the fixtures' (57 options). A second line plans the same hosts with
 * a full-size running config, Debian 12's own amd64 config (/usr/src/linux-config-6.1, package
 * linux-config-6.1, ~10,000 options; skipped when missing), as `facts` gathers from a real host.
 * Baseline: structuredClone of the same 1,000 facts (a deep copy of what the planner reads); with
 * Debian's config also configDiff() alone for the same hosts (the share of the Kconfig diff).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { familyDigests } from '../src/facts/gather.js';
import type { HostFacts } from '../src/facts/types.js';
import { parseConfig } from '../src/kconfig/config.js';
import { configBase, configDiff } from '../src/plan/config-diff.js';
import { type PlanOptions, plan } from '../src/plan/planner.js';
import { hasChanges } from '../src/plan/types.js';
import type { Desired } from '../src/resources/desired.js';
import {
  DEBIAN_OPTIONS,
  DEBIAN_TITLE,
  installRelease,
  kfEntryId,
  loadCase,
  readJson,
  runDebian,
  setGrubDefault,
  withDigest,
} from '../test/helpers/plan-fixtures.js';
import { goal, record, sideBySideMany } from './lib.js';

const HOSTS = 1000;
const DEBIAN_CONFIG = '/usr/src/linux-config-6.1/config.amd64_none_amd64.xz';

type Facts = Omit<HostFacts, 'digest'>;
type Kind = 'converged' | 'prune' | 'fresh';

/** The three host states, from the golden cases' inputs (one Desired: version-bump-prune's). */
function templates(): { desired: Desired; hosts: Record<Kind, HostFacts> } {
  const c = loadCase('version-bump-prune');
  const d = c.desired;
  // Converged on 6.1.120: version-bump's host (6.1.119 by kernelfile) after an apply of this kernelfile.
  const conv: Facts = readJson<HostFacts>('version-bump', 'facts.json');
  installRelease(conv, {
    release: d.release,
    buildId: d.buildId,
    version: d.version,
    name: d.name,
    installedAt: '2025-02-03T09:41:07Z',
    modules: d.modules.map((m) => ({ name: m.name, version: m.version })),
    initramfsModules: d.initramfs.modules,
    entry: { title: DEBIAN_TITLE(d.release), cmdline: DEBIAN_OPTIONS },
  });
  runDebian(conv, d.release, d.config.effective);
  setGrubDefault(conv, kfEntryId(d.release));
  return {
    desired: d,
    hosts: {
      converged: withDigest(conv),
      prune: c.facts,
      fresh: readJson<HostFacts>('fresh-grub', 'facts.json'),
    },
  };
}

const kindOf = (i: number): Kind => (i % 20 < 12 ? 'converged' : i % 20 < 17 ? 'prune' : 'fresh');

/** 1,000 hosts: each template with its own names and free space (and so its own digest). */
function fleet(hosts: Record<Kind, HostFacts>, edit?: (f: Facts, kind: Kind) => void): HostFacts[] {
  return Array.from({ length: HOSTS }, (_, i) => {
    const kind = kindOf(i);
    const f = structuredClone(hosts[kind]) as Facts & { digest?: string };
    const name = `web-${String(i + 1).padStart(4, '0')}`;
    f.host = `ssh://root@${name}.example.org:22`;
    f.system = { ...f.system, hostname: name };
    if (f.space.boot) f.space.boot = { ...f.space.boot, freeBytes: f.space.boot.freeBytes - i * 4096 };
    edit?.(f, kind);
    return withDigest(f);
  });
}

/** Debian 12's amd64 config as `facts` reads it (parsed the same way), or undefined when not installed. */
function debianConfig(): Record<string, string> | undefined {
  if (!existsSync(DEBIAN_CONFIG)) return undefined;
  const r = spawnSync('xz', ['-dc', DEBIAN_CONFIG], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of parseConfig(r.stdout).entries) out[e.symbol] = e.value;
  return out;
}

function check(desired: Desired, facts: HostFacts[], opts: PlanOptions[]): string {
  const counts: Record<string, number> = {};
  facts.forEach((f, i) => {
    const p = plan(desired, f, opts[i]);
    const kind = kindOf(i);
    const changed = hasChanges(p);
    if (p.problems.length || changed !== (kind !== 'converged'))
      throw new Error(
        `bench/plan.ts: ${kind} host ${f.host} planned ${changed ? 'changes' : 'no changes'}${p.problems.length ? ` and problems (${p.problems.map((x) => x.code).join(', ')})` : ''}`,
      );
    const key = `${kind} (${p.changes.filter((c) => c.action !== 'no-op').length} changes)`;
    counts[key] = (counts[key] ?? 0) + 1;
  });
  return Object.entries(counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

async function planAll(
  label: string,
  desired: Desired,
  facts: HostFacts[],
  runs: number,
  more: ReadonlyArray<readonly [string, () => unknown]> = [],
): Promise<{ subject: number; baselines: number[] }> {
  // What the CLI passes per host (computed when the facts arrive; not part of planning).
  const opts = facts.map((f) => ({ factsFamilies: familyDigests(f), image: false }));
  const mix = check(desired, facts, opts); // also warms the JIT
  const r = await sideBySideMany(
    `plan() × ${HOSTS} hosts, ${label}`,
    [[`structuredClone of the ${HOSTS} facts`, () => structuredClone(facts)], ...more],
    () => {
      // As the fleet CLI plans: one Kconfig difference per distinct running config and build.
      const configDiffs = new Map();
      for (let i = 0; i < facts.length; i++)
        plan(desired, facts[i] as HostFacts, { ...opts[i], configDiffs });
    },
    runs,
  );
  console.log(`${''.padEnd(48)} hosts: ${mix}`);
  return r;
}

export async function benchPlan(): Promise<void> {
  const { desired, hosts } = templates();
  const small = await planAll(
    'fixture facts',
    desired,
    fleet(hosts),
    Number(process.env.BENCH_PLAN_RUNS ?? 15),
  );
  const ratio = (r: { subject: number; baselines: number[] }) =>
    (r.subject / (r.baselines[0] as number)).toFixed(2);
  record({
    name: `plan() × ${HOSTS} hosts (fixture facts, 57 options)`,
    value: `${small.subject.toFixed(1)} ms`,
    detail: `${ratio(small)}× structuredClone; ${goal(small.subject, 1000)}`,
  });

  if (process.env.BENCH_SKIP_PLAN_DEBIAN === '1') return;
  const debian = debianConfig();
  if (!debian) {
    console.log(`${'plan() × 1000 hosts, Debian config'.padEnd(48)} skipped: ${DEBIAN_CONFIG} is missing`);
    return;
  }
  // The kernelfile's effective config on top of Debian's (config.base: running), as the fixtures do.
  const extra = Object.fromEntries(
    Object.entries(desired.config.effective).filter(([k]) =>
      ['CONFIG_LOCALVERSION', ...desired.config.requested].includes(k),
    ),
  );
  const effective = { ...debian, ...extra };
  const big: Desired = { ...desired, config: { ...desired.config, effective } };
  const facts = fleet(hosts, (f, kind) => {
    f.config = { ...f.config, options: kind === 'converged' ? { ...effective } : { ...debian } };
  });
  const n = Object.keys(debian).length;
  // Where the time goes with full-size configs: the Kconfig diff alone, for the same hosts, side by side.
  const full = await planAll(
    `Debian config (${n} options)`,
    big,
    facts,
    Number(process.env.BENCH_PLAN_RUNS ?? 3),
    [
      [
        `of which configDiff() × ${HOSTS}`,
        () => {
          for (const f of facts) configDiff(configBase(big, f), big.config.effective, big.config.requested);
        },
      ],
    ],
  );
  record({
    name: `plan() × ${HOSTS} hosts (Debian config, ${n} options)`,
    value: `${full.subject.toFixed(1)} ms`,
    detail: `${ratio(full)}× structuredClone; configDiff() ${(full.baselines[1] as number).toFixed(0)} ms of it; ${goal(full.subject, 1000)}`,
  });
}
