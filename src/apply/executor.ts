/**
 * The executor: runs one host's plan over its transport, change by change and step by step, in
 * plan order, and stops at the first failure. It decides from `action` and `steps` alone.
 *
 * Safety comes from the plan's order (the default entry changes after everything it depends on,
 * old kernels are pruned last) and from every step being safe to run again: an interrupted apply
 * leaves the previous default in place and a journal (/var/lib/kernelfile/pending/<release>.json)
 * that the next plan sees; it plans the same steps again and this time finishes them.
 */
import type { Manifest } from '../compile/build.js';
import { sha256File } from '../compile/hash.js';
import { HostError, type Transport } from '../host/transport.js';
import type { Change, HostPlan, Step } from '../plan/types.js';
import { encodeJournal, encodeReceipt, installedFiles, sidecar } from '../receipt/encode.js';
import { STAT_FILES_SH } from '../receipt/paths.js';
import type { ReceiptFile } from '../receipt/types.js';
import {
  configPath,
  imagePath,
  modulesDir,
  pendingPath,
  receiptPath,
  STATE_DIR,
  sidecarPath,
  stagingDir,
  statPath,
  systemMapPath,
} from '../resources/layout.js';
import { fetchArgv, fetchStdin, parseFetch } from '../store/host-fetch.js';
import { acquireHostLock, type LockHolder, thisController } from './host-lock.js';
import { makeUploadDir, ship, shipFiles, shippedDigest } from './ship.js';

/** What the executor needs from the controller. */
export interface Controller {
  /** Make sure the build is in the cache (compiling if needed); its directory and manifest. */
  build(buildId: string, progress: (m: string) => void): Promise<{ dir: string; manifest: Manifest }>;
  /** Pack a DKMS module source (a directory or a tarball) into a tarball on the controller. */
  packSource(from: string): Promise<string>;
  /** Build a DKMS module against a build's headers and pack it with dkms mktarball (hosts without a compiler). */
  dkmsTarball(
    step: Extract<Step, { kind: 'dkms-tarball' }>,
    artifactsDir: string,
    onLine: (l: string) => void,
  ): Promise<string>;
  /**
   * May hosts fetch this build from the store now: the store has it, and what they fetch with (a
   * short-lived pull token when the registry issues them); or why not (then the build is shipped).
   */
  storeAccess?(buildId: string): Promise<{ token?: string } | { why: string }>;
  /** The clock (ISO 8601), for the journal and receipts. */
  now(): string;
  /** The one-time MOK password for `mok-import` steps (--mok-password-file); never logged. */
  mokPassword?: string;
  /**
   * Who takes the host lock (shown to another apply), and how long to wait for another apply to
   * release it (0 or absent: fail at once). Default: this process, no kernelfile named.
   */
  lock?: { holder: LockHolder; waitMs?: number };
}

export type StepEvent =
  | { kind: 'change'; change: Change; index: number; total: number }
  | { kind: 'step'; change: Change; step: Step; state: 'start' | 'done'; ms?: number; detail?: string }
  | { kind: 'line'; change: Change; step: Step; line: string };

export class StepError extends Error {
  constructor(
    readonly host: string,
    readonly change: Change,
    readonly step: Step,
    message: string,
    readonly details: string[] = [],
  ) {
    super(`${host}: ${change.id}: ${step.title}: ${message}`);
    this.name = 'StepError';
  }
}

export interface ExecuteResult {
  host: string;
  changes: number;
  steps: number;
  /** Commands that changed the host (every run/write/ship/upload/receipt step). */
  mutating: number;
}

/**
 * The host fetches the build's files from the store itself (store/host-fetch.ts): the controller
 * sends names, URLs and sha256 only (and a short-lived token on standard input when the registry
 * issues one). Files the host holds already are not fetched. Why not, when it did not.
 */
async function fetchFromStore(
  t: Transport,
  step: Extract<Step, { kind: 'ship' }>,
  files: Record<string, string>,
  controller: Controller,
): Promise<{ fetched: number; skipped: number } | { why: string }> {
  const store = step.store;
  if (!store || !controller.storeAccess) return { why: 'no store' };
  const access = await controller.storeAccess(step.buildId);
  if ('why' in access) return access;
  if (access.token && store.tool === 'wget')
    return {
      why: 'the store issues tokens and the host has wget only, which would need the token in its argv or a file',
    };
  const have = await makeUploadDir(t, step.to);
  const want: { name: string; sha256: string }[] = [];
  for (const [name, local] of Object.entries(files)) {
    const sha256 = await shippedDigest(local);
    if (have.get(name) !== sha256) want.push({ name, sha256 });
  }
  const skipped = Object.keys(files).length - want.length;
  if (want.length === 0) return { fetched: 0, skipped };
  const r = await t.run(fetchArgv(step.to, store, want), { stdin: fetchStdin(access.token) });
  const out = parseFetch(r.stdout);
  if (r.code === 0 && out.ok.length === want.length) return { fetched: want.length, skipped };
  return {
    why:
      out.failed ??
      `the fetch exited with ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(-1)[0]}` : ''}`,
  };
}

/** Write a file as root through a shell (works for root and sudo users alike): temp name, then rename. */
export async function writeFile(
  t: Transport,
  path: string,
  content: string | Buffer,
  mode: number,
): Promise<void> {
  const bytes = Buffer.byteLength(content);
  // A connection dropped mid-write ends cat's input like a normal end of file: the size check keeps
  // a short file from being renamed into place.
  const r = await t.run(
    locked([
      'sh',
      '-c',
      'set -e; mkdir -p "$(dirname "$1")"; cat > "$1.kf-new"; n=$(wc -c < "$1.kf-new"); ' +
        'if [ "$n" -ne "$3" ]; then rm -f "$1.kf-new"; echo "short write: $n of $3 bytes arrived" >&2; exit 1; fi; ' +
        'chmod "$2" "$1.kf-new"; mv -f "$1.kf-new" "$1"',
      'kernelfile',
      path,
      mode.toString(8),
      String(bytes),
    ]),
    { stdin: content, sudo: true },
  );
  if (r.code !== 0) throw new HostError(t.name, 'io', `cannot write ${path}: ${r.stderr.trim()}`);
}

/**
 * Every command that changes a host also holds the per-command lock (flock, where the host has
 * it): a step left running by an apply that was killed (its host lock gone with it) finishes
 * before the next apply's steps start. Two applies are kept apart by the host lock (host-lock.ts),
 * held by execute for the whole apply.
 */
export function locked(argv: readonly string[]): string[] {
  return [
    'sh',
    '-c',
    `mkdir -p ${STATE_DIR} && if command -v flock >/dev/null 2>&1; then exec flock -w 1800 ${STATE_DIR}/.lock "$@"; else exec "$@"; fi`,
    'kernelfile',
    ...argv,
  ];
}

/**
 * A receipt and its sidecar (the files that must stay as they are, `sha256sum` format), sidecar
 * first: a receipt is never on the host without the list its drift is checked against. The apply
 * of a build and `kernelfile import --adopt` write receipts this one way.
 */
export async function writeReceipt(
  t: Transport,
  release: string,
  files: readonly ReceiptFile[],
  receipt: string,
): Promise<void> {
  await writeFile(t, sidecarPath(release), sidecar(files), 0o644);
  await writeFile(t, receiptPath(release), receipt, 0o644);
}

/**
 * The sidecar's files as stat sees them now: facts need not hash them again while this holds. Not
 * fatal: without it, gathering hashes the files as before.
 */
export async function recordStat(t: Transport, release: string): Promise<void> {
  await t.run(
    locked([
      'sh',
      '-c',
      `(${STAT_FILES_SH}) >"$2.tmp" && mv -f "$2.tmp" "$2" || rm -f "$2.tmp"`,
      'kf-stat',
      sidecarPath(release),
      statPath(release),
    ]),
    { sudo: true },
  );
}

const tail = (s: string, n = 20) => s.trim().split('\n').slice(-n);

export async function execute(
  t: Transport,
  plan: HostPlan,
  controller: Controller,
  onEvent: (e: StepEvent) => void = () => {},
): Promise<ExecuteResult> {
  const changes = plan.changes.filter((c) => c.action !== 'no-op' && c.steps.length > 0);
  const result: ExecuteResult = { host: t.name, changes: changes.length, steps: 0, mutating: 0 };
  if (changes.length === 0) return result;
  // One host lock from before the first step to after the last: another apply fails fast (or
  // waits, with lock.waitMs) instead of interleaving its steps with these.
  const lock = await acquireHostLock(
    t,
    controller.lock?.holder ?? thisController(controller.now(), null),
    controller.lock?.waitMs ?? 0,
  );
  try {
    await executeLocked(t, plan, changes, controller, onEvent, result);
  } finally {
    await lock.release().catch(() => {});
  }
  return result;
}

async function executeLocked(
  t: Transport,
  plan: HostPlan,
  changes: Change[],
  controller: Controller,
  onEvent: (e: StepEvent) => void,
  result: ExecuteResult,
): Promise<void> {
  const artifacts = new Map<string, { dir: string; manifest: Manifest }>();
  const artifactsOf = async (id: string, change: Change, step: Step) => {
    const a =
      artifacts.get(id) ??
      (await controller.build(id, (m) => onEvent({ kind: 'line', change, step, line: m })));
    artifacts.set(id, a);
    return a;
  };
  // The journal covers the install of the release, up to its receipt; what comes after (the
  // default, pruning) is planned again from the host's facts if it is interrupted.
  // It is the receipt step's release (the plan's display summary decides nothing).
  const installs = plan.changes
    .flatMap((c) => c.steps)
    .find((s): s is Extract<Step, { kind: 'receipt' }> => s.kind === 'receipt');
  let journal = false;
  let receipted = false;
  const ensureJournal = async () => {
    if (journal || receipted || !installs) return;
    journal = true;
    const { release, buildId, data } = installs;
    await writeFile(
      t,
      pendingPath(release),
      encodeJournal({ release, buildId, name: data.name, startedAt: controller.now(), host: t.name }),
      0o644,
    );
    result.mutating++;
  };
  for (const [index, change] of changes.entries()) {
    onEvent({ kind: 'change', change, index, total: changes.length });
    for (const step of change.steps) {
      const started = Date.now();
      onEvent({ kind: 'step', change, step, state: 'start' });
      let detail: string | undefined;
      result.steps++;
      if (step.kind !== 'build') {
        await ensureJournal();
        result.mutating++;
      }
      switch (step.kind) {
        case 'build': {
          const a = await artifactsOf(step.buildId, change, step);
          detail = a.dir;
          break;
        }
        case 'ship': {
          const a = await artifactsOf(step.buildId, change, step);
          const files = await shipFiles(a.dir, a.manifest.release);
          let not = '';
          if (step.store) {
            const f = await fetchFromStore(t, step, files, controller);
            if ('fetched' in f) {
              detail = `${f.fetched} fetched by the host from the store ${step.store.url}, ${f.skipped} already there; 0 bytes sent from here`;
              break;
            }
            not = ` (not from the store: ${f.why})`;
            onEvent({
              kind: 'line',
              change,
              step,
              line: `the host could not fetch from the store: ${f.why}; shipping from here`,
            });
          }
          const r = await ship(t, files, step.to);
          detail = `${r.sent.length} sent (${(r.bytes / 1048576).toFixed(1)} MiB), ${r.skipped.length} already there${not}`;
          break;
        }
        case 'upload': {
          const tar = await controller.packSource(step.from);
          const slash = step.to.lastIndexOf('/');
          const have = await makeUploadDir(t, step.to.slice(0, slash));
          if (have.get(step.to.slice(slash + 1)) !== (await sha256File(tar)))
            await t.put(tar, step.to, 0o644);
          break;
        }
        case 'dkms-tarball': {
          const a = await artifactsOf(step.buildId, change, step);
          const tar = await controller.dkmsTarball(step, a.dir, (line) =>
            onEvent({ kind: 'line', change, step, line }),
          );
          await makeUploadDir(t, step.to.slice(0, step.to.lastIndexOf('/')));
          await t.put(tar, step.to, 0o644);
          break;
        }
        case 'write':
          await writeFile(t, step.path, step.content, step.mode);
          break;
        case 'run': {
          const r = await t.run(locked(step.argv), {
            sudo: step.sudo,
            onLine: (line) => onEvent({ kind: 'line', change, step, line }),
          });
          if (r.code !== 0)
            throw new StepError(
              t.name,
              change,
              step,
              `exited with ${r.code}`,
              tail(`${r.stdout}\n${r.stderr}`),
            );
          break;
        }
        case 'mok-import': {
          const password = controller.mokPassword;
          if (password === undefined)
            throw new StepError(
              t.name,
              change,
              step,
              'no one-time MOK password: give it with --mok-password-file FILE',
            );
          await writeFile(t, step.path, Buffer.from(step.certificate, 'base64'), 0o644);
          // mokutil reads the password twice (input, confirmation) from standard input when it is
          // not a terminal: never in argv, where `ps` on the host would show it.
          const r = await t.run(locked(['mokutil', '--import', step.path]), {
            sudo: step.sudo,
            stdin: `${password}\n${password}\n`,
          });
          if (r.code !== 0)
            throw new StepError(
              t.name,
              change,
              step,
              `mokutil --import exited with ${r.code}`,
              tail(`${r.stdout}\n${r.stderr}`).map((l) => l.split(password).join('********')),
            );
          break;
        }
        case 'receipt': {
          const a = await artifactsOf(step.buildId, change, step);
          const files = installedFiles(a.manifest, { imagePath, systemMapPath, configPath, modulesDir });
          await writeReceipt(
            t,
            step.release,
            files,
            encodeReceipt(step.data, files, controller.now(), t.name),
          );
          const r = await t.run(locked(['rm', '-rf', pendingPath(step.release), stagingDir(step.buildId)]), {
            sudo: true,
          });
          if (r.code !== 0)
            throw new StepError(t.name, change, step, 'cannot remove the journal', tail(r.stderr));
          journal = false;
          receipted = true;
          await recordStat(t, step.release);
          break;
        }
      }
      onEvent({ kind: 'step', change, step, state: 'done', ms: Date.now() - started, detail });
    }
  }
  // Nothing left to resume: no receipt step ran (e.g. only the default or a prune changed).
  if (journal && installs) await t.run(locked(['rm', '-f', pendingPath(installs.release)]), { sudo: true });
}
