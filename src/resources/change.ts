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
  | { kind: 'prune'; release: string }
  | { kind: 'mok-enrollment'; sha1: string };

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
    case 'mok-enrollment':
      return `mok-enrollment[${a.sha1}]`;
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
 * - mok-import: write the certificate (DER, given base64) to `path` and run `mokutil --import path`
 *   with the one-time password on its standard input (twice, as mokutil asks): the password comes
 *   from the controller at apply time (--mok-password-file) and is never part of a plan.
 * - receipt: write the receipt of a release: `data` from the plan, plus the installed files with
 *   their sha256 (from the build's manifest) and the time; then drop the journal and the staging.
 */
/** How a host fetches a build's files from the artifact store (`cache.store`), decided at plan time. */
export interface StoreFetch {
  /** The store as shown (oci://…). */
  url: string;
  /** Where /v2/ is (https://HOST[:PORT]). */
  base: string;
  repository: string;
  /** What the host fetches with. */
  tool: 'curl' | 'wget';
  /** The store's CA certificates (PEM, cache.storeCa), when it has its own: written beside the files. */
  ca?: string;
}

export type Step =
  | { kind: 'run'; title: string; argv: string[]; sudo: boolean }
  | { kind: 'write'; title: string; path: string; content: string; mode: number; sudo: boolean }
  | { kind: 'build'; title: string; buildId: string }
  | {
      kind: 'ship';
      title: string;
      buildId: string;
      to: string;
      sudo: boolean;
      /** The host fetches the files from the store itself (the controller ships them if that fails). */
      store?: StoreFetch;
    }
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
  | {
      kind: 'mok-import';
      title: string;
      /** Where the DER certificate is written on the host. */
      path: string;
      /** The DER certificate, base64 (public: the private key never leaves the controller). */
      certificate: string;
      /** Its SHA-1, lower-case hex. */
      sha1: string;
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

/**
 * Secure Boot and the build's signing certificate on one host, as the plan sees them:
 *   enrolled    the certificate is an enrolled MOK: signed modules load
 *   pending     its enrolment waits for the console at the next boot (MOK manager)
 *   enrol       this plan requests its enrolment (mokutil --import)
 *   refused     Secure Boot is on, it is not enrolled and signing.enroll is false (a plan problem)
 *   unknown     whether it is enrolled, or whether Secure Boot is on, is not known (no mokutil, an image…)
 *   not-needed  Secure Boot is off: nothing is enforced
 */
export interface SecureBootPlan {
  state: 'enabled' | 'disabled' | 'setup-mode' | 'not-efi' | 'unknown';
  certificate: { subject: string; sha1: string };
  enrolment: 'enrolled' | 'pending' | 'enrol' | 'refused' | 'unknown' | 'not-needed';
  /** For `enrol`: the one-time password was given (--mok-password-file); null otherwise. */
  passwordGiven: boolean | null;
  /**
   * The host's own dkms signing, for the `installed: true` modules dkms builds there: its key and
   * certificate paths and whether that certificate is enrolled (null: unknown). null when the
   * kernelfile has no such module or the host's dkms has no key.
   */
  hostDkms: { key: string; certificate: string | null; enrolled: boolean | null } | null;
}
