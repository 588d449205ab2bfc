/**
 * A boot loader driver: everything the plan needs to know about one way of writing boot entries.
 * boot-entry, default-entry and prune ask the driver the planner chose for the host; none of them
 * names a loader. Drivers are listed in ./index.ts (the only place that names them).
 */
import type { BootEntry, HostFacts } from '../../facts/types.js';
import type { Change, PlanProblem, Step } from '../change.js';
import type { Desired } from '../desired.js';

/** What a driver reads while planning (the resources' planning context has all of it). */
export interface LoaderCtx {
  readonly d: Desired;
  readonly f: HostFacts;
  /** Mutating commands run as root. */
  readonly sudo: boolean;
  /** The host is a root filesystem directory (an image being built). */
  readonly image: boolean;
  /** Notes that do not block (a driver may add one, e.g. an unknown current default). */
  readonly notes: string[];
}

/** One of the new release's entries, as the loader will show it. */
export interface RenderedEntry {
  id: string;
  release: string;
  title: string;
  cmdline: string;
  linux: string;
  initrd: string | null;
  default: boolean;
}

/**
 * Whether a driver takes a host that uses its loader: `mine`; `not-mine` (another driver of the
 * same loader may, e.g. GRUB with or without grub-mkconfig); or the problem that stops it.
 */
export type Claim = 'mine' | 'not-mine' | PlanProblem;

export interface LoaderLimits {
  /**
   * The tool that writes at most one entry per kernel (it names the entry after the release), for
   * the problem when boot.entries declares more; null: any number.
   */
  oneEntryPerKernel: string | null;
  /** Every entry's command line must carry root= (from `root:`, its cmdline, or the host's). */
  rootRequired: boolean;
  /** Said in every plan that writes entries with this driver. */
  notes: readonly string[];
}

export interface LoaderDriver {
  /** Its name in receipts (`loader`): grub-mkconfig, grub-explicit, systemd-boot, grubby. */
  readonly mode: string;
  /** The boot loader it drives, as the facts (`boot.loader`) and the kernelfile (`boot.loader`) name it. */
  readonly loader: string;
  /** How plans name it: `GRUB`, `GRUB (explicit grub.cfg)`, `systemd-boot`. */
  readonly displayName: string;
  readonly limits: LoaderLimits;
  /** Whether it drives this host (the host uses `loader`). */
  claim(ctx: LoaderCtx): Claim;
  /** The id of entry `index` (0-based) of `release`, as the loader will list it. */
  entryId(ctx: LoaderCtx, release: string, index: number): string;
  /** The host's entry `have` (same id) already is `want`: nothing to write. */
  sameEntry(have: BootEntry, want: RenderedEntry): boolean;
  /**
   * Write the new release's entries. `pruned`: releases the plan removes afterwards (a menu written
   * in full leaves them out).
   */
  addSteps(ctx: LoaderCtx, entries: readonly RenderedEntry[], pruned: ReadonlySet<string>): Step[];
  /** Make `entry` the default, by id. `upstream`: the changes before (a step there may have done part of it). */
  defaultSteps(ctx: LoaderCtx, entry: RenderedEntry, upstream: readonly Change[]): Step[];
  /** Boot `entry` once at the next boot; the default stays what it is. */
  oneshotSteps(ctx: LoaderCtx, entry: RenderedEntry): Step[];
  /**
   * After the files of `releases` are removed: their entries and the menu, once for all of them.
   * `entries`: the new release's (a menu written in full lists them).
   */
  removeSteps(ctx: LoaderCtx, releases: readonly string[], entries: readonly RenderedEntry[]): Step[];
  /** The problem when an entry has no root=, where the common one (the host's root is unknown) does not fit. */
  noRootProblem?(ctx: LoaderCtx): Omit<PlanProblem, 'code'>;
  /** Problems particular to this driver for these entries, after the common ones. */
  problems?(ctx: LoaderCtx, entries: readonly RenderedEntry[]): PlanProblem[];
}
