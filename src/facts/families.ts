/** Every fact family, in the order the facts script runs them. */
import { boot } from './boot.js';
import { config } from './config.js';
import { dkms } from './dkms.js';
import { initramfs } from './initramfs.js';
import { kernels } from './kernels.js';
import { libs } from './libs.js';
import { receipts } from './receipts.js';
import { secureboot } from './secureboot.js';
import { space } from './space.js';
import { system } from './system.js';
import { tools } from './tools.js';

export const FAMILIES = {
  system,
  kernels,
  config,
  dkms,
  initramfs,
  boot,
  space,
  receipts,
  tools,
  libs,
  secureboot,
} as const;
export type FamilyName = keyof typeof FAMILIES;
