import type { ReceiptData } from '../receipt/types.js';
/**
 * What resources plan: changes (with the steps apply runs for them), and the problems that make a
 * plan impossible. Pure data (JSON-safe). plan/ puts them into a HostPlan; apply executes them.
 */

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'no-op';

/**
 * What a change is about, typed: its id in the plan (`dkms-module[hello/1.0@REL]`) is formatted
 * from it by changeId, and nothing parses an id back.
 */
export type Address =
  | { kind: 'kernel'; release: string }
  | { kind: 'dkms-module'; name: string; version: string; kernel: string }
  | { kind: 'initramfs'; release: string }
  | { kind: 'boot-entry'; entry: string }
  | { kind: 'trial' }
  | { kind: 'default-entry' }
  | { kind: 'prune'; release: string };

export type ResourceKind = Address['kind'];

/** The id of the change at an address: stable and unique within a plan. */
export function changeId(a: Address): string {
  switch (a.kind) {
    case 'kernel':
    case 'initramfs':
    case 'prune':
      return `${a.kind}[${a.release}]`;
    case 'dkms-module':
      return `dkms-module[${a.name}/${a.version}@${a.kernel}]`;
    case 'boot-entry':
      return `boot-entry[${a.entry}]`;
    case 'trial':
    case 'default-entry':
      return a.kind;
  }
}

/**
 * One thing apply does on a host, fully concrete except where it needs the controller:
 * - run: a command (argv, never a shell string) on the host; `sudo` for a non-root SSH user.
 * - write: a file written atomically (temp name + rename) with this content.
 * - build: make sure the build with this id is in the controller's cache (compile if not).
 * - ship: upload the build's artifacts to a staging directory on the host (files already there with
 *   the same sha256 are skipped).
 * - upload: a directory or tarball on the controller, packed and uploaded to `to` as a tarball.
 * - dkms-tarball: a DKMS module built on the controller against the build's headers (for hosts
 *   without a compiler), packed with `dkms mktarball` and uploaded to `to` for `dkms ldtarball`.
 * - receipt: write the receipt of a release: `data` from the plan, plus the installed files with
 *   their sha256 (from the build's manifest) and the time; then drop the journal and the staging.
 */
export type Step =
  | { kind: 'run'; title: string; argv: string[]; sudo: boolean }
  | { kind: 'write'; title: string; path: string; content: string; mode: number; sudo: boolean }
  | { kind: 'build'; title: string; buildId: string }
  | { kind: 'ship'; title: string; buildId: string; to: string; sudo: boolean }
  | { kind: 'upload'; title: string; from: string; to: string; sudo: boolean }
  | {
      kind: 'dkms-tarball';
      title: string;
      name: string;
      version: string;
      /** The module source on the controller. */
      from: string;
      buildId: string;
      release: string;
      /** Where the `dkms mktarball` archive goes on the host. */
      to: string;
      sudo: boolean;
    }
  | { kind: 'receipt'; title: string; release: string; buildId: string; data: ReceiptData; sudo: boolean };

/** What the plan knows of a receipt; apply adds `files`, `installedAt` and `receiptVersion`. */
export type { ReceiptData } from '../receipt/types.js';

/**
 * One attribute of a resource the change sets or changes, Terraform's `~ attr = old -> new`: the
 * value on the host now (`null`: it has none) and the value it will have (`null`: removed). Values
 * from the host are data (a title from grub.cfg, a module list from a receipt): renderers escape
 * them. Display only, like `reason`: apply decides from `action` and `steps`.
 */
export type AttributeValue = string | number | boolean | string[] | null;

export interface AttributeChange {
  name: string;
  before: AttributeValue;
  after: AttributeValue;
}

export interface Change {
  /** Stable and unique within a plan: `kernel[6.1.192-tiny-kf0123abcd]`, `dkms-module[hello/1.0@REL]`. */
  id: string;
  resource: ResourceKind;
  action: Action;
  /** What the host has now, and what it will have: short human values (a release, an entry id). */
  before: string | null;
  after: string | null;
  /** Why, in words (never decides anything). */
  reason: string;
  /**
   * What differs, attribute by attribute: every changed attribute of an update (title, cmdline,
   * root, the initramfs module list, a DKMS module's version…); the one pointer a trial or default
   * change sets. Empty where nothing but the whole resource changes (a kernel installed, a prune).
   */
  attributes: AttributeChange[];
  /** Ids of changes that must have completed first. */
  dependsOn: string[];
  steps: Step[];
}

/** A change as a resource plans it: with its address (a plan keeps only the id formatted from it). */
export type PlannedChange = Change & { readonly address: Address };

/** The change as the plan holds it (JSON: without the address). */
export function planChange(c: PlannedChange): Change {
  const { address: _address, ...change } = c;
  return change;
}

/** A problem that makes the plan impossible: apply refuses to start. */
export interface PlanProblem {
  /** Stable identifier: `no-dkms`, `boot-too-small`, `module-excluded`, … */
  code: string;
  message: string;
  hint: string;
}

export type DkmsTarballStep = Extract<Step, { kind: 'dkms-tarball' }>;
