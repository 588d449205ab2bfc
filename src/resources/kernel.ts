/**
 * Resource `kernel`: the new release's image, System.map, config, modules tree and headers on the
 * host, built once on the controller and shipped. Identity: the release (it carries the build id).
 */
import { spaceCheck } from './boot-space.js';
import type { PlannedChange, Step } from './change.js';
import { type Ctx, change } from './context.js';
import { stagingDir } from './layout.js';
import type { Resource } from './resource.js';
import { INSTALL_KERNEL, sh } from './scripts.js';

export function installSteps(ctx: Ctx): Step[] {
  const { d, sudo } = ctx;
  const staging = stagingDir(d.buildId);
  return [
    {
      kind: 'build',
      title: d.artifacts.cached
        ? `build ${d.buildId.slice(0, 12)} (cached)`
        : d.artifacts.store?.has
          ? `build ${d.buildId.slice(0, 12)} (pulled from store ${d.artifacts.store.url})`
          : `build ${d.buildId.slice(0, 12)}`,
      buildId: d.buildId,
    },
    shipStep(ctx, staging),
    {
      kind: 'run',
      title: `install /boot/vmlinuz-${d.release}, modules and headers`,
      argv: sh(INSTALL_KERNEL, staging, d.release),
      sudo,
    },
    { kind: 'run', title: `depmod -a ${d.release}`, argv: ['depmod', '-a', d.release], sudo },
  ];
}

/** The build's files onto the host: fetched there from the store, or shipped from the controller. */
function shipStep(ctx: Ctx, staging: string): Step {
  const { d, sudo } = ctx;
  const hs = d.hostStore;
  if (hs && 'fetch' in hs)
    return {
      kind: 'ship',
      title: `fetch the build from the store ${hs.fetch.url} into ${staging} (${hs.fetch.tool} on the host; shipped from here if that fails)`,
      buildId: d.buildId,
      to: staging,
      sudo,
      store: hs.fetch,
    };
  return {
    kind: 'ship',
    title: hs
      ? `ship the build to ${staging} (not from the store: ${hs.shipped})`
      : `ship the build to ${staging}`,
    buildId: d.buildId,
    to: staging,
    sudo,
  };
}

/** A change that ships the build says how the files get there when there is a store. */
function withDelivery(ctx: Ctx, c: PlannedChange): PlannedChange {
  const hs = ctx.d.hostStore;
  if (!hs || !c.steps.some((s) => s.kind === 'ship')) return c;
  return {
    ...c,
    reason:
      'fetch' in hs
        ? `${c.reason}; the host fetches the files from the store ${hs.fetch.url}`
        : `${c.reason}; shipped from the controller (not from the store: ${hs.shipped})`,
  };
}

function kernelChanges(ctx: Ctx): PlannedChange[] {
  const { d, f, receipt, pending, installed } = ctx;
  const address = { kind: 'kernel', release: d.release } as const;
  const after = d.release;
  const running = f.system.running;
  if (receipt && receipt.data.buildId === d.buildId) {
    const drift = receipt.drift ?? [];
    if (drift.length === 0)
      return [
        change({
          address,
          action: 'no-op',
          before: d.release,
          after,
          reason: `installed by kernelfile${running === d.release ? ', running' : ''}`,
        }),
      ];
    const shown = drift.slice(0, 3).join(', ') + (drift.length > 3 ? `, and ${drift.length - 3} more` : '');
    return [
      change({
        address,
        action: 'update',
        before: d.release,
        after,
        reason: `drifted: ${drift.length} installed file${drift.length === 1 ? '' : 's'} differ${drift.length === 1 ? 's' : ''} from the receipt (${shown}); reinstalled`,
        attributes: [{ name: 'drifted files', before: [...drift], after: [] }],
        steps: installSteps(ctx),
      }),
    ];
  }
  let reason = d.artifacts.cached
    ? 'not installed (build cached)'
    : d.artifacts.store?.has
      ? `not installed; pulled once from the store ${d.artifacts.store.url}`
      : 'not installed; built once on the controller';
  if (pending) {
    const started = pending.data.startedAt;
    reason = `resuming an interrupted apply${started ? ` (started ${started})` : ''}`;
  } else if (receipt) {
    // The release is installed, from another build (the release names 8 hex digits of the id), or
    // adopted: a kernel of that very name that kernelfile did not build.
    return [
      change({
        address,
        action: 'update',
        before: d.release,
        after,
        reason: receipt.data.adopted
          ? `${d.release} was adopted (kernelfile import --adopt), not built by kernelfile: reinstalled from build ${d.buildId.slice(0, 12)}`
          : `the receipt names another build: reinstalled from build ${d.buildId.slice(0, 12)}`,
        attributes: [{ name: 'build id', before: receipt.data.buildId, after: d.buildId }],
        steps: installSteps(ctx),
      }),
    ];
  } else if (installed?.image || installed?.modules)
    reason = 'files of this release are present without a receipt (an interrupted apply?): reinstalled';
  // The host's own kernel, adopted by `kernelfile import --adopt`: installed beside it, never over it.
  const adopted = ctx.owned.find((r) => r.data.adopted && r.release !== d.release);
  if (adopted && !pending)
    reason += `; installed beside ${adopted.release} (the kernel adopted by kernelfile import), which stays`;
  return [
    change({
      address,
      action: 'create',
      before: null,
      after,
      reason,
      steps: installSteps(ctx),
    }),
  ];
}

export const kernel: Resource = {
  name: 'kernel',
  order: 10,
  installs: true,
  plan(ctx) {
    const { d, f } = ctx;
    if (f.system.arch && f.system.arch !== d.arch)
      ctx.problems.push({
        code: 'arch-mismatch',
        message: `the kernel is built for ${d.arch} but ${f.host} is ${f.system.arch}`,
        hint: 'remove kernel.arch from the kernelfile (the default is the host’s), or plan for hosts of that architecture',
      });
    const changes = kernelChanges(ctx).map((c) => withDelivery(ctx, c));
    for (const c of changes) spaceCheck(ctx, c);
    return changes;
  },
};
