/** Receipts and journals as apply writes them, for the tests that read them back. */
import { encodeJournal, encodeReceipt } from '../../src/receipt/encode.js';
import type { Journal, ReceiptData, ReceiptFile } from '../../src/receipt/types.js';

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
