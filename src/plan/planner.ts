/**
 * The planner: (Desired, HostFacts) → HostPlan, pure. Resources are planned in the order apply
 * converges them — kernel → DKMS → initramfs → boot entry → trial/default → prune — each change
 * depending on the changes before it, so the previous default stays in place until the new entry
 * is complete. Everything that can be checked before a host is touched is checked here and
 * reported as a problem (apply refuses a plan with problems).
 */
import type { HostFacts } from '../facts/types.js';
import { bootEntryChanges, type RenderedEntry } from '../resources/boot-entry.js';
import { type Ctx, makeCtx } from '../resources/context.js';
import { defaultChanges } from '../resources/default-entry.js';
import type { Desired } from '../resources/desired.js';
import { dkmsChanges } from '../resources/dkms-module.js';
import { initramfsChanges } from '../resources/initramfs.js';
import { kernelChanges } from '../resources/kernel.js';
import { initramfsPath } from '../resources/layout.js';
import { LOADERS, type LoaderDriver } from '../resources/loaders/index.js';
import { pruneChanges, pruneSet } from '../resources/prune.js';
import { configDiff } from './config-diff.js';
import type { Change, ConfigDiff, HostPlan, PlannedEntry, ReceiptData } from './types.js';

const MiB = 1024 * 1024;
/** When nothing better is known: a compressed x86 image plus a modest initramfs. */
const DEFAULT_BOOT_BYTES = 48 * MiB;

/** Bytes the new release will take in /boot, from the build (when cached) or the host's kernels. */
export function bootBytesNeeded(d: Desired, f: HostFacts): { bytes: number; estimated: boolean } {
  const existing = f.kernels.map((k) => k.bootBytes ?? 0).filter((b) => b > 0);
  const largest = existing.length ? Math.max(...existing) : 0;
  if (d.artifacts.bootBytes !== null) {
    // The image, System.map and config are known; the initramfs is estimated from the host's own.
    const initrds = f.kernels.filter((k) => k.initramfs && k.bootBytes).map((k) => k.bootBytes as number);
    const initrd =
      d.initramfs.generator === 'none' ? 0 : initrds.length ? Math.max(...initrds) / 2 : 32 * MiB;
    return { bytes: Math.ceil(d.artifacts.bootBytes + initrd), estimated: true };
  }
  return { bytes: largest || DEFAULT_BOOT_BYTES, estimated: true };
}

function spaceCheck(ctx: Ctx, kernel: Change): void {
  const { d, f } = ctx;
  if (kernel.action === 'noop') return;
  const boot = f.space.boot;
  if (!boot) return;
  const need = bootBytesNeeded(d, f);
  const margin = Math.ceil(need.bytes * 1.1);
  if (boot.freeBytes < margin) {
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    ctx.problems.push({
      code: 'boot-too-small',
      message: `${boot.mountPoint} on ${f.host} has ${mib(boot.freeBytes)} free; ${d.release} needs about ${mib(margin)} (image, System.map, config and initramfs, with 10% to spare)`,
      hint: 'free space in /boot (remove old kernels, e.g. with a lower boot.keep once the new kernel is in), or make /boot larger',
    });
  }
}

/** Where the receipt goes: the last install change that does something (kernel … boot entries). */
function attachReceipt(ctx: Ctx, changes: Change[], entries: string[]): void {
  const { d } = ctx;
  const install = changes.filter(
    (c) =>
      c.action !== 'noop' &&
      (c.resource === 'kernel' ||
        c.resource === 'dkms-module' ||
        c.resource === 'initramfs' ||
        c.resource === 'boot-entry'),
  );
  const last = install.at(-1);
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
    entries,
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
   * Shared by the hosts of a fleet: the Kconfig difference for one running config (by its facts
   * digest) and one build is computed once.
   */
  configDiffs?: Map<string, ConfigDiff>;
  /** The boot loader drivers to choose from (default: resources/loaders LOADERS). */
  loaders?: readonly LoaderDriver[];
}

function memoDiff(d: Desired, f: HostFacts, opts: PlanOptions): ConfigDiff {
  const digest = opts.factsFamilies?.config;
  const key = digest ? `${digest}:${d.buildId}` : undefined;
  const hit = key ? opts.configDiffs?.get(key) : undefined;
  if (hit) return hit;
  const diff = configDiff(f.config, d.config.effective, d.config.requested);
  if (key) opts.configDiffs?.set(key, diff);
  return diff;
}

/** The entry the new release boots by default, for the text output. */
export function plannedEntry(entries: RenderedEntry[], trial: boolean): PlannedEntry | null {
  const e = entries.find((x) => x.default) ?? entries[0];
  if (!e) return null;
  return { id: e.id, title: e.title, cmdline: e.cmdline, default: e.default, trial: trial && e.default };
}

export function plan(d: Desired, f: HostFacts, opts: PlanOptions = {}): HostPlan {
  const ctx = makeCtx(d, f, opts.loaders ?? LOADERS);
  ctx.image = opts.image === true;
  if (f.system.arch && f.system.arch !== d.arch)
    ctx.problems.push({
      code: 'arch-mismatch',
      message: `the kernel is built for ${d.arch} but ${f.host} is ${f.system.arch}`,
      hint: 'remove kernel.arch from the kernelfile (the default is the host’s), or plan for hosts of that architecture',
    });
  const [kernel] = kernelChanges(ctx) as [Change];
  spaceCheck(ctx, kernel);
  const dkms = dkmsChanges(ctx, kernel);
  const initramfs = initramfsChanges(ctx, [kernel, ...dkms]);
  const { remove, spared } = pruneSet(ctx);
  for (const s of spared) ctx.notes.push(`${s.release} is beyond boot.keep but stays: ${s.why}`);
  const boot = bootEntryChanges(ctx, [kernel, ...dkms, ...initramfs], new Set(remove.map((r) => r.release)));
  const defaults = defaultChanges(ctx, boot.entries, [kernel, ...dkms, ...initramfs, ...boot.changes]);
  const installs = [kernel, ...dkms, ...initramfs, ...boot.changes];
  const prune = pruneChanges(ctx, remove, boot.entries, [...installs, ...defaults]);
  const changes = [...installs, ...defaults, ...prune];
  attachReceipt(
    ctx,
    changes,
    boot.entries.map((e) => e.id),
  );
  if (d.boot.loader === 'none') ctx.notes.push('boot.loader: none: no boot entry is written');
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
    buildIds: kernel.action === 'noop' ? [] : [d.buildId],
    changes,
    problems: ctx.problems,
    notes: ctx.notes,
    config: memoDiff(d, f, opts),
    modules: dkms.map((c) => {
      const m = /^dkms-module\[(.+)\/(.+)@(.+)\]$/.exec(c.id);
      return { name: m?.[1] ?? c.id, version: m?.[2] ?? '', kernel: m?.[3] ?? d.release, action: c.action };
    }),
    entry: plannedEntry(boot.entries, d.boot.trial),
  };
}
