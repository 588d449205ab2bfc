/**
 * The resource kinds the planner converges, in the order apply converges them: the MOK enrolment
 * (takes effect at the next boot) → kernel → DKMS →
 * initramfs → boot entry → trial/default → prune. The previous default stays in place until the
 * new entry is complete.
 */
import { bootEntry } from './boot-entry.js';
import { defaultEntry } from './default-entry.js';
import { dkmsModule } from './dkms-module.js';
import { initramfs } from './initramfs.js';
import { kernel } from './kernel.js';
import { mokEnrollment } from './mok-enrollment.js';
import { prune } from './prune.js';
import type { Resource } from './resource.js';

export const RESOURCES: readonly Resource[] = [
  mokEnrollment,
  kernel,
  dkmsModule,
  initramfs,
  bootEntry,
  defaultEntry,
  prune,
];

export type { Resource } from './resource.js';
