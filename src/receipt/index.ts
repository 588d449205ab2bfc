/**
 * The typed, versioned receipt and journal a host keeps in /var/lib/kernelfile: types, where they
 * live, the bytes apply writes (encode) and what facts read back (decode). Pure.
 */
export {
  type Decoded,
  decodeJournal,
  decodeReceipt,
  decodeTrial,
  MAX_JOURNAL_CHARS,
  MAX_RECEIPT_CHARS,
} from './decode.js';
export {
  encodeAdoptedReceipt,
  encodeJournal,
  encodeReceipt,
  encodeTrial,
  installedFiles,
  sidecar,
} from './encode.js';
export {
  PENDING_DIR,
  pendingPath,
  receiptPath,
  STAT_FILES_SH,
  STAT_FORMAT,
  STATE_DIR,
  sidecarPath,
  stagingDir,
  statPath,
  TRIALS_DIR,
  trialPath,
} from './paths.js';
export {
  BUILT_RECEIPT_VERSION,
  type InstallLayout,
  JOURNAL_VERSION,
  type Journal,
  MAX_HEALTH_OUTPUT,
  type ManifestFiles,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptData,
  type ReceiptFile,
  TRIAL_VERSION,
  type Trial,
} from './types.js';
