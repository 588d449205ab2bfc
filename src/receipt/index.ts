/**
 * The typed, versioned receipt and journal a host keeps in /var/lib/kernelfile: types, where they
 * live, the bytes apply writes (encode) and what facts read back (decode). Pure.
 */
export {
  type Decoded,
  decodeJournal,
  decodeReceipt,
  MAX_JOURNAL_CHARS,
  MAX_RECEIPT_CHARS,
} from './decode.js';
export { encodeJournal, encodeReceipt, installedFiles, sidecar } from './encode.js';
export { PENDING_DIR, pendingPath, receiptPath, STATE_DIR, sidecarPath, stagingDir } from './paths.js';
export {
  type InstallLayout,
  JOURNAL_VERSION,
  type Journal,
  type ManifestFiles,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptData,
  type ReceiptFile,
} from './types.js';
