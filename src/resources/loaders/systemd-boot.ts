/**
 * systemd-boot: `kernel-install add` writes the Boot Loader Specification entry
 * (<machine-id>-<release>.conf, one per kernel, its title from /etc/os-release and its command line
 * from /etc/kernel/cmdline); `bootctl set-default` / `set-oneshot` choose by entry file name;
 * `kernel-install remove` takes the entry and the kernel's copy in the ESP away.
 */
import { imagePath } from '../layout.js';
import { blsEntryId, sameBlsEntry } from './bls.js';
import type { LoaderDriver } from './driver.js';

export const systemdBoot: LoaderDriver = {
  mode: 'systemd-boot',
  loader: 'systemd-boot',
  displayName: 'systemd-boot',
  limits: {
    oneEntryPerKernel: 'kernel-install',
    rootRequired: true,
    notes: [
      'systemd-boot: kernel-install writes the entry; its title and command line come from /etc/os-release and /etc/kernel/cmdline, not from boot.entries',
    ],
  },
  claim(ctx) {
    const t = ctx.f.boot.tools;
    if (t['kernel-install'] && t.bootctl) return 'mine';
    return {
      code: 'no-kernel-install',
      message: `${ctx.f.host} uses systemd-boot but lacks kernel-install or bootctl`,
      hint: 'install systemd-boot (and systemd) on the host',
    };
  },
  entryId: blsEntryId,
  sameEntry: sameBlsEntry,
  addSteps(ctx, entries) {
    const r = ctx.d.release;
    const initrd = entries[0]?.initrd;
    return [
      {
        kind: 'run',
        title: `kernel-install add ${r}`,
        argv: ['kernel-install', 'add', r, imagePath(r), ...(initrd ? [initrd] : [])],
        sudo: ctx.sudo,
      },
    ];
  },
  defaultSteps: (ctx, entry) => [
    {
      kind: 'run',
      title: `bootctl set-default ${entry.id}.conf`,
      argv: ['bootctl', 'set-default', `${entry.id}.conf`],
      sudo: ctx.sudo,
    },
  ],
  oneshotSteps: (ctx, entry) => [
    {
      kind: 'run',
      title: `bootctl set-oneshot ${entry.id}.conf`,
      argv: ['bootctl', 'set-oneshot', `${entry.id}.conf`],
      sudo: ctx.sudo,
    },
  ],
  removeSteps: (ctx, releases) =>
    releases.map((r) => ({
      kind: 'run' as const,
      title: `kernel-install remove ${r}`,
      argv: ['kernel-install', 'remove', r],
      sudo: ctx.sudo,
    })),
  problems: (ctx) =>
    ctx.f.system.machineId
      ? []
      : [
          {
            code: 'no-machine-id',
            message: `${ctx.f.host} has no /etc/machine-id, which names systemd-boot entries`,
            hint: 'run systemd-machine-id-setup on the host',
          },
        ],
};
