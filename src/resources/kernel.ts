/**
 * Resource `kernel`: the new release's image, System.map, config, modules tree and headers on the
 * host, built once on the controller and shipped. Identity: the release (it carries the build id).
 */
import type { Change, Step } from './change.js';
import { type Ctx, change, receiptField } from './context.js';
import { stagingDir } from './layout.js';
import { INSTALL_KERNEL, sh } from './scripts.js';

export const kernelId = (release: string) => `kernel[${release}]`;

export function installSteps(ctx: Ctx): Step[] {
  const { d, sudo } = ctx;
  const staging = stagingDir(d.buildId);
  return [
    {
      kind: 'build',
      title: d.artifacts.cached
        ? `build ${d.buildId.slice(0, 12)} (cached)`
        : `build ${d.buildId.slice(0, 12)}`,
      buildId: d.buildId,
    },
    { kind: 'ship', title: `ship the build to ${staging}`, buildId: d.buildId, to: staging, sudo },
    {
      kind: 'run',
      title: `install /boot/vmlinuz-${d.release}, modules and headers`,
      argv: sh(INSTALL_KERNEL, staging, d.release),
      sudo,
    },
    { kind: 'run', title: `depmod -a ${d.release}`, argv: ['depmod', '-a', d.release], sudo },
  ];
}

export function kernelChanges(ctx: Ctx): Change[] {
  const { d, f, receipt, pending, installed } = ctx;
  const id = kernelId(d.release);
  const after = d.release;
  const running = f.system.running;
  if (receipt && receiptField(receipt, 'buildId') === d.buildId) {
    const drift = receipt.drift ?? [];
    if (drift.length === 0)
      return [
        change({
          id,
          resource: 'kernel',
          action: 'noop',
          before: d.release,
          after,
          reason: `installed by kernelfile${running === d.release ? ', running' : ''}`,
        }),
      ];
    const shown = drift.slice(0, 3).join(', ') + (drift.length > 3 ? `, and ${drift.length - 3} more` : '');
    return [
      change({
        id,
        resource: 'kernel',
        action: 'update',
        before: d.release,
        after,
        reason: `drifted: ${drift.length} installed file${drift.length === 1 ? '' : 's'} differ${drift.length === 1 ? 's' : ''} from the receipt (${shown}); reinstalled`,
        steps: installSteps(ctx),
      }),
    ];
  }
  let reason = d.artifacts.cached
    ? 'not installed (build cached)'
    : 'not installed; built once on the controller';
  if (pending) {
    const started = receiptField(pending, 'startedAt');
    reason = `resuming an interrupted apply${started ? ` (started ${started})` : ''}`;
  } else if (receipt)
    reason = `the receipt names build ${receiptField(receipt, 'buildId') ?? '?'}: reinstalled from build ${d.buildId.slice(0, 12)}`;
  else if (installed?.image || installed?.modules)
    reason = 'files of this release are present without a receipt (an interrupted apply?): reinstalled';
  return [
    change({
      id,
      resource: 'kernel',
      action: 'create',
      before: null,
      after,
      reason,
      steps: installSteps(ctx),
    }),
  ];
}
