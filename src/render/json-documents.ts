/**
 * The JSON documents the commands print (`--json`, `--format json`) and the saved plan
 * (`plan --out`): one TypeScript type per document, the one definition of its shape. The JSON
 * Schemas in schemas/ are generated from these types (`npm run gen`, scripts/gen-output-schemas.ts);
 * the code that builds each document is typed with them, and the tests validate what the CLI prints
 * against the schemas. Documented in docs/json.md.
 *
 * A change of meaning bumps a document's `formatVersion`; fields are only added within one.
 */
import type { Manifest } from '../compile/build.js';
import type { FileDifference } from '../compile/reproducible.js';
import type { HostFacts } from '../facts/types.js';
import type { StatusRow } from '../fleet/status.js';
import type { Dropped } from '../kconfig/dropped.js';
import type { LockReport } from '../lock/types.js';
import type {
  Change,
  HostPlan,
  PLAN_FORMAT_VERSION,
  SAVED_PLAN_FORMAT_VERSION,
  SavedHostPlan,
  SavedUnplanned,
  Step,
} from '../plan/types.js';
import type { Diagnostic } from '../spec/diagnostic.js';
import type { VerifyResult } from '../verify/verify.js';
import type { FleetBuild } from './fleet-text.js';

/** What every document carries at its top: the kernelfile that wrote it, and when. */
export interface Stamp {
  /** The version of kernelfile that wrote the document (its package.json `version`). */
  kernelfileVersion: string;
  /**
   * When the document was made: ISO 8601, UTC, with milliseconds (`2025-03-01T12:00:00.000Z`).
   *
   * @pattern ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$
   */
  generatedAt: string;
}

/** `Plan: X to add, Y to change, Z to destroy.` */
export interface Counts {
  add: number;
  change: number;
  destroy: number;
}

/** What a CI job asks of a plan first: the counts, whether anything changes, whether it can be applied. */
export interface Totals {
  counts: Counts;
  /** Some change is not a no-op. */
  changed: boolean;
  /** No problem blocks the plan (and no requested Kconfig value is dropped): apply would start. */
  possible: boolean;
}

/**
 * A change's action as a list, as Terraform's JSON plan has it: a replace is `["delete", "create"]`,
 * so `.actions | index("delete")` finds every deletion.
 */
export type ActionWord = 'create' | 'update' | 'delete' | 'no-op';

/**
 * A `write` step as `plan --json` shows it: the file's sha256 and size in bytes instead of its
 * content. Only the saved plan (`plan --out`) carries the content (apply compares it).
 */
export interface WriteStepDigest {
  kind: 'write';
  title: string;
  path: string;
  /**
   * sha256 of the file's content (UTF-8), 64 hexadecimal digits.
   *
   * @pattern ^[0-9a-f]{64}$
   */
  sha256: string;
  /** The content's size in bytes. */
  size: number;
  mode: number;
  sudo: boolean;
}

/** A step as `plan --json` shows it: a `write` by digest, every other step whole. */
export type StepJson = Exclude<Step, { kind: 'write' }> | WriteStepDigest;

/** A change as `plan --json` shows it. */
export interface ChangeJson extends Omit<Change, 'steps'> {
  actions: ActionWord[];
  steps: StepJson[];
}

/** A change as the saved plan holds it: every step whole (what apply compares with a fresh plan). */
export interface SavedChangeJson extends Change {
  actions: ActionWord[];
}

/** One host's plan as `plan --json` shows it. */
export interface HostPlanJson extends Omit<HostPlan, 'changes'>, Totals {
  changes: ChangeJson[];
}

/** One host's plan as the saved plan holds it. */
export interface SavedHostPlanJson extends Omit<HostPlan, 'changes'>, Totals {
  changes: SavedChangeJson[];
}

/** The kernelfile a plan was made from: its path as given, the sha256 of its bytes, its `name`. */
export interface KernelfileRef {
  path: string;
  /** @pattern ^[0-9a-f]{64}$ */
  sha256: string;
  name: string;
}

/** `kernelfile plan --json` (one host): the plan, and per host and in total what a CI job asks first. */
export interface PlanJson extends Stamp, Totals {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  kind: 'kernelfile-plan';
  kernelfile: KernelfileRef;
  hosts: HostPlanJson[];
}

/** A host of a fleet plan that was planned. */
export interface FleetPlannedHostJson {
  /** The inventory name. */
  name: string;
  /** `converged`, `changes pending`, or `not possible: CODES`. */
  state: string;
  kernelfile: KernelfileRef;
  plan: HostPlanJson;
}

/** A host of a fleet plan that could not be planned, and why. */
export interface FleetUnplannedHostJson {
  name: string;
  state: 'unreachable' | 'error';
  error: string;
  /** What to do about it; null: nothing to say. */
  hint: string | null;
}

/** `kernelfile plan --inventory FILE --json`: the fleet's plan. */
export interface FleetPlanJson extends Stamp, Totals {
  formatVersion: 1;
  kind: 'kernelfile-fleet-plan';
  inventory: string | null;
  limit: string | null;
  /** In the order they were selected. */
  hosts: (FleetPlannedHostJson | FleetUnplannedHostJson)[];
  /** The builds the fleet needs (none for hosts whose kernel is installed), each with its hosts. */
  builds: FleetBuild[];
}

/** A planned host of a saved plan: how to reach it, its kernelfile and its plan with every step whole. */
export interface SavedHostPlanEntryJson extends Omit<SavedHostPlan, 'plan'> {
  plan: SavedHostPlanJson;
}

/**
 * The saved plan (`plan --out FILE`, read by `apply FILE`): each host with how to reach it and its
 * plan, every step whole; each host that could not be planned with why.
 */
export interface SavedPlanJson extends Stamp, Totals {
  formatVersion: typeof SAVED_PLAN_FORMAT_VERSION;
  kind: 'kernelfile-plan';
  /** The inventory the hosts were selected from (and `--limit`); both null for one `--host`. */
  inventory: string | null;
  limit: string | null;
  /** In the order they were selected. */
  hosts: (SavedHostPlanEntryJson | SavedUnplanned)[];
}

/** `kernelfile status --json`: each host's state, and the exit code the command exits with. */
export interface StatusJson extends Stamp {
  formatVersion: 1;
  kind: 'kernelfile-status';
  hosts: StatusRow[];
  /** The worst state's exit code (docs/cli.md). */
  exitCode: number;
}

/** `kernelfile facts --json`: every fact the plan is made from (HostFacts). */
export interface FactsJson extends HostFacts, Stamp {
  kind: 'kernelfile-facts';
}

/** The build's manifest without its file list (which stays in the artifacts' manifest.json). */
export type ManifestSummary = Omit<Manifest, 'files'>;

/** The artifacts of a build in the controller's cache. */
export interface BuildArtifactsJson {
  /** The artifacts directory. */
  dir: string;
  /** Found in the cache, not compiled now. */
  cached: boolean;
  /** How many files the manifest lists. */
  fileCount: number;
  manifest: ManifestSummary;
  /** The build's provenance (an in-toto statement, SLSA provenance v1), or null for a build made before it was written. */
  provenance: string | null;
  /** The shared artifact store (`cache.store`), or null without one. */
  store: BuildStoreJson | null;
}

/** What the store did for the build (`cache.store`). */
export interface BuildStoreJson {
  /** The store, as `oci://HOST/REPOSITORY` (`oci+http://` for plain HTTP). */
  url: string;
  /** The build was pulled from the store, not compiled here (`cached` is true then). */
  pulled: boolean;
  /** The build was pushed now: blobs sent and their bytes, blobs the store had already (not sent again), the manifest's digest. */
  pushed?: { uploaded: number; bytes: number; skipped: number; digest: string };
  /** The store had the build already. */
  present?: boolean;
  /** What went wrong with the store; the build went on without it (pulled nothing, or pushed nothing). */
  warnings: string[];
}

/** `build --check-reproducible`: the second build compared with the first, file by file. */
export interface ReproducibleJson {
  identical: boolean;
  /** How many files were compared (every artifact but the log, manifest and provenance). */
  compared: number;
  first: { dir: string; cached: boolean; seconds: number };
  /** The second build's artifacts are kept (`dir`) only when they differ. */
  second: { dir: string; seconds: number };
  varied: { umask: string; TZ: string; LC_ALL: string; srctree: string };
  differences: FileDifference[];
  explainedWith?: 'diffoscope' | 'hexdump';
}

/** `kernelfile build --json`: the build's identity, the dropped Kconfig values, the artifacts. */
export interface BuildJson extends Stamp {
  formatVersion: 1;
  kind: 'kernelfile-build';
  buildId: string;
  release: string;
  arch: string;
  configKey: string;
  /** The requested Kconfig values that did not survive (an error unless `onDropped: warn`). */
  dropped: Dropped[];
  /** null with `--config-only`, or when values were dropped (nothing compiled). */
  artifacts: BuildArtifactsJson | null;
  /** What became of the lock file beside the kernelfile. */
  lock?: LockReport;
  /** With `--check-reproducible` (when a build was made). */
  reproducible?: ReproducibleJson;
}

/** `kernelfile verify --json`: the boot under QEMU and each module's verdict. */
export interface VerifyJson extends VerifyResult, Stamp {
  formatVersion: 1;
  kind: 'kernelfile-verify';
}

/** A diagnostic as `validate --json` shows it: `file` relative to the working directory. */
export type DiagnosticJson = Diagnostic;

/** `kernelfile validate --json`: the diagnostics; the exit code is as without `--json`. */
export interface ValidateJson extends Stamp {
  formatVersion: 1;
  kind: 'kernelfile-validation';
  /** The kernelfile, as named on the command line. */
  file: string;
  valid: boolean;
  errors: number;
  warnings: number;
  diagnostics: DiagnosticJson[];
}

/** A variable kernelfile reads, as merged for a host, and where it was set. */
export interface InventoryVarJson {
  value: unknown;
  /** The inventory file, or a file under group_vars/ or host_vars/ (as shown from the working directory). */
  file: string;
  line: number;
}

/** A host of an inventory as kernelfile reaches it. */
export interface InventoryHostJson {
  /** The inventory name. */
  name: string;
  /** Every group it is in, its groups' ancestors too, `all` first. */
  groups: string[];
  /**
   * How kernelfile reaches it, as `--host` takes it: `ssh://user@host:port` (what the address leaves
   * out comes from ~/.ssh/config and OpenSSH's defaults), `root:/dir`, `local`; null when it cannot
   * (see `error`).
   */
  address: string | null;
  /** The private key offered first (`ansible_ssh_private_key_file`), as a path; null: none. */
  identity: string | null;
  /** Facts are gathered with `sudo -n` (`ansible_become`). */
  become: boolean;
  /**
   * Its kernelfile: the `kernelfile` var (relative to the inventory's directory) as a path from the
   * working directory; null when it has none (plan and apply then need the FILE argument).
   */
  kernelfile: string | null;
  /** The variables kernelfile reads (`kernelfile`, `ansible_connection`, `ansible_host`, …), each with where it was set. */
  vars: Record<string, InventoryVarJson>;
  /** Why kernelfile cannot reach it, and what to do; null when it can. */
  error: { message: string; hint: string | null } | null;
}

/** A group as `ansible-inventory --list` shows it: its own hosts, its child groups (each only when there are some). */
export interface AnsibleGroupJson {
  hosts?: string[];
  children?: string[];
}

/** `_meta` of `ansible-inventory --list`: each host's merged variables (hosts without any left out). */
export interface AnsibleMetaJson {
  hostvars: Record<string, Record<string, unknown>>;
}

/**
 * The shape of `ansible-inventory -i FILE --list`: `_meta` (AnsibleMetaJson, always there), then
 * every group by name (`all` lists only its children).
 */
export type AnsibleListJson = Record<string, AnsibleGroupJson | AnsibleMetaJson>;

/** `kernelfile inventory FILE --json`: an inventory's hosts as kernelfile reaches them. */
export interface InventoryJson extends Stamp {
  formatVersion: 1;
  kind: 'kernelfile-inventory';
  /** The inventory file, as named on the command line. */
  file: string;
  /** `--limit`; null: every host. */
  limit: string | null;
  /** How many hosts the inventory has (before `--limit`). */
  total: number;
  /** The selected hosts, in the order the inventory first names them. */
  hosts: InventoryHostJson[];
  /**
   * The inventory as `ansible-inventory -i FILE --list` shows it, with only the variables kernelfile
   * reads in `_meta.hostvars` (never secrets kernelfile does not need) and, under `--limit`, only the
   * selected hosts (in `_meta.hostvars` and in the groups' `hosts`).
   */
  ansible: AnsibleListJson;
  /** What Ansible only warns about, each as `file:line:column: warning: message`. */
  warnings: string[];
}

/** What went wrong, as the text on standard error says it. */
export interface ErrorDetail {
  /** One line: what failed. */
  message: string;
  /** What to do about it; null: nothing to say. */
  hint: string | null;
  /** More lines (a build log's tail, a failed step's output); empty when none. */
  details: string[];
  /** The file the error is in (an invalid kernelfile's first error); null: no file. */
  file: string | null;
  /** 1-based line and column in `file`; null: unknown. */
  line: number | null;
  column: number | null;
  /** A host could not be reached, or its connection was lost. */
  unreachable: boolean;
  /** A bug in kernelfile (an internal error), not a failure it expected. */
  internal: boolean;
  /** The kernelfile's diagnostics, when it is not valid or a requested Kconfig value would be dropped. */
  diagnostics?: DiagnosticJson[];
}

/**
 * What a command asked for JSON prints on standard output instead of its document when it fails
 * (the text still goes to standard error; the exit code is unchanged).
 */
export interface ErrorJson extends Stamp {
  formatVersion: 1;
  kind: 'kernelfile-error';
  /** The command that failed: `plan`, `status`, … */
  command: string;
  error: ErrorDetail;
}

/** Every document, by the name of its schema file (schemas/kernelfile-NAME.schema.json). */
export interface OutputDocuments {
  plan: PlanJson;
  'fleet-plan': FleetPlanJson;
  'saved-plan': SavedPlanJson;
  status: StatusJson;
  facts: FactsJson;
  build: BuildJson;
  verify: VerifyJson;
  validation: ValidateJson;
  inventory: InventoryJson;
  error: ErrorJson;
}
