/**
 * The planner: (Desired, HostFacts) → HostPlan, pure. It runs the resource registry
 * (resources/index.ts) in order — kernel → DKMS → initramfs → boot entry → trial/default → prune —
 * giving each resource the changes planned before it, so the previous default stays in place until
 * the new entry is complete. Everything that can be checked before a host is touched is checked
 * there and reported as a problem (apply refuses a plan with problems).
 */
import type { HostFacts } from '../facts/types.js';
import type { ReceiptData } from '../receipt/types.js';
import { type PlannedChange, planChange } from '../resources/change.js';
import { type Ctx, makeCtx } from '../resources/context.js';
import type { Desired } from '../resources/desired.js';
import { RESOURCES, type Resource } from '../resources/index.js';
import { initramfsPath } from '../resources/layout.js';
import { LOADERS, type LoaderDriver, type RenderedEntry } from '../resources/loaders/index.js';
import { configBase, configDiff } from './config-diff.js';
import { keptKernels, rollbackChoice } from './rollback.js';
import type { ConfigDiff, HostPlan, PlannedEntry } from './types.js';

export { bootBytesNeeded } from '../resources/boot-space.js';

/** Where the receipt goes: the last install change that does something (kernel … boot entries). */
function attachReceipt(ctx: Ctx, installs: readonly PlannedChange[]): void {
  const { d } = ctx;
  const last = installs.filter((c) => c.action !== 'no-op').at(-1);
  if (!last) return;
  const data: ReceiptData = {
    name: d.name,
    kernelfile: d.kernelfile,
    release: d.release,
    version: d.version,
    buildId: d.buildId,
    arch: d.arch,
    modules: d.modules.map((m) => ({ name: m.name, version: m.version })),
    initramfs: ctx.tool ? initramfsPath(ctx.tool, d.release) : null,
    initramfsModules: d.initramfs.modules,
    entries: ctx.entries.map((e) => e.id),
    loader: ctx.loader?.mode ?? null,
  };
  last.steps.push({
    kind: 'receipt',
    title: `write the receipt /var/lib/kernelfile/${d.release}.json`,
    release: d.release,
    buildId: d.buildId,
    data,
    sudo: ctx.sudo,
  });
}

export interface PlanOptions {
  /** sha256 per fact family (gather.ts familyDigests), recorded for saved plans. */
  factsFamilies?: Record<string, string>;
  /**
   * The host is a root filesystem directory (an image being built): what grub-probe sees there is
   * the controller's disk, not the image's, so GRUB entries are written explicitly.
   */
  image?: boolean;
  /**
   * Shared by the hosts of a fleet: the Kconfig difference for one config to compare with (by the
   * config facts' digest and what was chosen of them) and one build is computed once.
   */
  configDiffs?: Map<string, ConfigDiff>;
  /** The resource kinds to plan (default: resources/index.ts RESOURCES). */
  resources?: readonly Resource[];
  /** The boot loader drivers to choose from (default: resources/loaders/index.ts LOADERS). */
  loaders?: readonly LoaderDriver[];
  /** A one-time MOK password was given (--mok-password-file): an enrolment can be applied. */
  mokPassword?: boolean;
}

function memoDiff(d: Desired, f: HostFacts, opts: PlanOptions): ConfigDiff {
  const base = configBase(d, f);
  // The config family's digest covers both the running and the installed configs' options.
  const digest = opts.factsFamilies?.config;
  const key = digest
    ? JSON.stringify([digest, d.buildId, base.kind, base.from, base.release, base.buildId, base.fallback])
    : undefined;
  const hit = key ? opts.configDiffs?.get(key) : undefined;
  if (hit) return hit;
  const diff = configDiff(base, d.config.effective, d.config.requested);
  if (key) opts.configDiffs?.set(key, diff);
  return diff;
}

/** The entry the new release boots by default, for the text output. */
export function plannedEntry(entries: readonly RenderedEntry[], trial: boolean): PlannedEntry | null {
  const e = entries.find((x) => x.default) ?? entries[0];
  if (!e) return null;
  return { id: e.id, title: e.title, cmdline: e.cmdline, default: e.default, trial: trial && e.default };
}

export function plan(d: Desired, f: HostFacts, opts: PlanOptions = {}): HostPlan {
  const ctx = makeCtx(d, f, opts.loaders ?? LOADERS);
  ctx.image = opts.image === true;
  ctx.mokPassword = opts.mokPassword === true;
  const changes: PlannedChange[] = [];
  const installs: PlannedChange[] = [];
  for (const resource of [...(opts.resources ?? RESOURCES)].sort((a, b) => a.order - b.order)) {
    const planned = resource.plan(ctx, [...changes]);
    changes.push(...planned);
    if (resource.installs) installs.push(...planned);
  }
  attachReceipt(ctx, installs);
  const kernel = changes.find((c) => c.address.kind === 'kernel');
  return {
    host: f.host,
    factsDigest: f.digest,
    factsFamilies: opts.factsFamilies ?? {},
    summary: {
      name: d.name,
      distro: f.system.distro.prettyName ?? f.system.distro.id,
      arch: f.system.arch,
      running: f.system.running,
      loader: f.boot.loader,
      loaderMode: ctx.loader?.displayName ?? null,
      initramfs: ctx.tool,
      release: d.release,
      buildId: d.buildId,
    },
    buildIds: kernel && kernel.action !== 'no-op' ? [d.buildId] : [],
    changes: changes.map(planChange),
    problems: ctx.problems,
    notes: ctx.notes,
    ...(ctx.warnings.length ? { warnings: ctx.warnings } : {}),
    ...(ctx.secureBoot ? { secureBoot: ctx.secureBoot } : {}),
    config: memoDiff(d, f, opts),
    modules: changes.flatMap((c) =>
      c.address.kind === 'dkms-module'
        ? [{ name: c.address.name, version: c.address.version, kernel: c.address.kernel, action: c.action }]
        : [],
    ),
    entry: plannedEntry(ctx.entries, d.boot.trial),
    kept: keptKernels(d.name, f),
    rollback: rollbackChoice(d.name, f),
  };
}
