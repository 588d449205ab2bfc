/**
 * The receipt apply writes last for a release, /var/lib/kernelfile/<release>.json: what kernelfile
 * installed (build id, kernelfile name and hash, files with sha256), so later plans know what is
 * theirs to prune and can tell drift. The sidecar <release>.sha256 (sha256sum format) lists the
 * files a plan checks for drift: the /boot files and the modules shipped, not what the host
 * regenerates (depmod's indexes, the initramfs).
 */
import type { Manifest } from '../compile/build.js';
import type { ReceiptData } from '../plan/types.js';
import { configPath, imagePath, modulesDir, systemMapPath } from '../resources/layout.js';

export const RECEIPT_VERSION = 1;

export interface ReceiptFile {
  path: string;
  sha256: string;
  size: number;
}

/** The installed path of each artifact file that stays as shipped. */
export function installedFiles(m: Manifest): ReceiptFile[] {
  const out: ReceiptFile[] = [];
  const boot: Record<string, string> = {
    vmlinuz: imagePath(m.release),
    'System.map': systemMapPath(m.release),
    config: configPath(m.release),
  };
  const prefix = `modules/lib/modules/${m.release}/`;
  for (const f of m.files) {
    const b = boot[f.path];
    if (b) out.push({ path: b, sha256: f.sha256, size: f.size });
    else if (f.path.startsWith(prefix)) {
      const rel = f.path.slice(prefix.length);
      // depmod rewrites its indexes on the host: only the modules themselves are checked.
      if (/\.ko(\.(xz|gz|zst))?$/.test(rel))
        out.push({ path: `${modulesDir(m.release)}/${rel}`, sha256: f.sha256, size: f.size });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export function receiptJson(data: ReceiptData, m: Manifest, installedAt: string, host: string): string {
  const files = installedFiles(m);
  return `${JSON.stringify({ receiptVersion: RECEIPT_VERSION, ...data, installedAt, host, files }, null, 2)}\n`;
}

export function sidecar(m: Manifest): string {
  return installedFiles(m)
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
}
