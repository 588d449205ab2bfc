/**
 * The bytes apply writes: the receipt (last, once a release is installed), its sidecar
 * <release>.sha256 (sha256sum format) and the journal (first, before anything changes).
 *
 * The sidecar lists the files a plan checks for drift: the /boot files and the modules shipped,
 * not what the host regenerates (depmod's indexes, the initramfs).
 */
import {
  BUILT_RECEIPT_VERSION,
  type InstallLayout,
  type Journal,
  MAX_HEALTH_OUTPUT,
  type ManifestFiles,
  RECEIPT_VERSION,
  type ReceiptData,
  type ReceiptFile,
  TRIAL_VERSION,
  type Trial,
} from './types.js';

const MODULE = /\.ko(\.(xz|gz|zst))?$/;

/** The installed path of each artifact file that stays as shipped, sorted by path. */
export function installedFiles(m: ManifestFiles, at: InstallLayout): ReceiptFile[] {
  const out: ReceiptFile[] = [];
  const boot: Record<string, string> = {
    vmlinuz: at.imagePath(m.release),
    'System.map': at.systemMapPath(m.release),
    config: at.configPath(m.release),
  };
  const prefix = `modules/lib/modules/${m.release}/`;
  for (const f of m.files) {
    const b = Object.hasOwn(boot, f.path) ? boot[f.path] : undefined;
    if (b) out.push({ path: b, sha256: f.sha256, size: f.size });
    else if (f.path.startsWith(prefix)) {
      const rel = f.path.slice(prefix.length);
      // depmod rewrites its indexes on the host: only the modules themselves are checked.
      if (MODULE.test(rel))
        out.push({ path: `${at.modulesDir(m.release)}/${rel}`, sha256: f.sha256, size: f.size });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The receipt file: the plan's data, then when, where and what was installed. */
export function encodeReceipt(
  data: ReceiptData,
  files: readonly ReceiptFile[],
  installedAt: string,
  host: string,
): string {
  return `${JSON.stringify({ receiptVersion: BUILT_RECEIPT_VERSION, ...data, installedAt, host, files }, null, 2)}\n`;
}

/**
 * The receipt of an adopted kernel (`kernelfile import --adopt`): the host's own kernel, which
 * kernelfile did not build: version 2, `buildId` null, `adopted` true.
 */
export function encodeAdoptedReceipt(
  data: Omit<ReceiptData, 'buildId'>,
  files: readonly ReceiptFile[],
  adoptedAt: string,
  host: string,
): string {
  const { name, kernelfile, release, version, arch, ...rest } = data;
  const head = { receiptVersion: RECEIPT_VERSION, name, kernelfile, release, version, buildId: null, arch };
  return `${JSON.stringify({ ...head, ...rest, adopted: true, installedAt: adoptedAt, host, files }, null, 2)}\n`;
}

/** The journal file (version 1: no version field). */
export function encodeJournal(j: Journal): string {
  const { release, buildId, name, startedAt, host } = j;
  return `${JSON.stringify({ release, buildId, name, startedAt, host }, null, 2)}\n`;
}

/** The sidecar, in `sha256sum -c` format. */
export function sidecar(files: readonly ReceiptFile[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

/**
 * A trial record: its fields in a fixed order, the health-check output cut to its end. The health
 * check's command and output are written so that decodeTrial accepts them (no NUL, at most
 * MAX_HEALTH_OUTPUT characters each): a record it refused would be ignored, and the failed trial
 * armed again.
 */
export function encodeTrial(t: Omit<Trial, 'trialVersion'>): string {
  const noNul = (s: string) => s.replaceAll('\0', '\uFFFD');
  const health = t.health && {
    command: noNul(t.health.command).slice(0, MAX_HEALTH_OUTPUT),
    code: t.health.code,
    output: noNul(t.health.output).slice(-MAX_HEALTH_OUTPUT),
  };
  const { release, entry, cmdline, bootId, state, failedAt, seenRelease, seenBootId, reason } = t;
  const o = { trialVersion: TRIAL_VERSION, release, entry, cmdline, bootId, state, failedAt };
  return `${JSON.stringify({ ...o, seenRelease, seenBootId, reason, health }, null, 2)}\n`;
}
