/**
 * The boot loader drivers, the only place that names them. Adding a loader: one file beside this
 * one and one line here (plus its name in the kernelfile schema's boot.loader and, for `auto`, in
 * the boot facts' detection). Drivers of the same loader each say whether a host is theirs.
 */
import type { LoaderDriver } from './driver.js';
import { grubExplicit } from './grub-explicit.js';
import { grubMkconfig } from './grub-mkconfig.js';
import { grubby } from './grubby.js';
import { systemdBoot } from './systemd-boot.js';

export const LOADERS: readonly LoaderDriver[] = [grubMkconfig, grubExplicit, systemdBoot, grubby];

export type { Claim, LoaderCtx, LoaderDriver, LoaderLimits, RenderedEntry } from './driver.js';
