/** Receipts, journals and trial records as apply writes them, for the tests that read them back. */
import { encodeJournal, encodeReceipt, encodeTrial } from '../../src/receipt/encode.js';
import type { Journal, ReceiptData, ReceiptFile, Trial } from '../../src/receipt/types.js';

export const BUILD_ID = 'b'.repeat(64);

export function receiptData(release: string, over: Partial<ReceiptData> = {}): ReceiptData {
  return {
    name: 'web',
    kernelfile: { path: 'kernelfile.yaml', sha256: 'a'.repeat(64) },
    release,
    version: release.split('-')[0] as string,
    buildId: BUILD_ID,
    arch: 'x86_64',
    modules: [{ name: 'hello', version: '1.0' }],
    initramfs: `/boot/initrd.img-${release}`,
    initramfsModules: ['hello'],
    entries: [`kernelfile-${release}`],
    loader: 'grub-mkconfig',
    ...over,
  };
}

export function receiptFiles(release: string): ReceiptFile[] {
  return [
    { path: `/boot/vmlinuz-${release}`, sha256: 'c'.repeat(64), size: 8421568 },
    { path: `/lib/modules/${release}/kernel/fs/btrfs/btrfs.ko`, sha256: 'd'.repeat(64), size: 3018472 },
  ];
}

/** The text of /var/lib/kernelfile/<release>.json. */
export function receiptText(release: string, over: Partial<ReceiptData> = {}): string {
  return encodeReceipt(receiptData(release, over), receiptFiles(release), '2025-01-20T10:16:41Z', 'local');
}

export function journal(release: string, over: Partial<Journal> = {}): Journal {
  return {
    release,
    buildId: BUILD_ID,
    name: 'web',
    startedAt: '2025-01-20T10:14:05Z',
    host: 'local',
    ...over,
  };
}

/** The text of /var/lib/kernelfile/pending/<release>.json. */
export function journalText(release: string, over: Partial<Journal> = {}): string {
  return encodeJournal(journal(release, over));
}

/** Boot ids as /proc/sys/kernel/random/boot_id prints them: the one a trial was armed in, and later ones. */
export const BOOT_A = '3f2a9c1e-7b4d-4e8a-9c0f-1d2e3f4a5b6c';
export const BOOT_B = '8e7d6c5b-4a39-4281-9f0e-d1c2b3a4f5e6';
export const BOOT_C = 'c0ffee00-1111-4222-8333-444455556666';

/** An armed trial record of `release` (entry kernelfile-<release>), as the plan's arm step writes it. */
export function trialData(
  release: string,
  over: Partial<Omit<Trial, 'trialVersion'>> = {},
): Omit<Trial, 'trialVersion'> {
  return {
    release,
    entry: `kernelfile-${release}`,
    cmdline: 'root=UUID=8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71 ro quiet',
    bootId: BOOT_A,
    state: 'armed',
    failedAt: null,
    seenRelease: null,
    seenBootId: null,
    reason: null,
    health: null,
    ...over,
  };
}

/** The text of /var/lib/kernelfile/trials/<release>.json. */
export function trialText(release: string, over: Partial<Omit<Trial, 'trialVersion'>> = {}): string {
  return encodeTrial(trialData(release, over));
}
