/**
 * Where a host keeps what kernelfile knows about it: the receipts, their sidecars, the journals of
 * applies under way and the staging of shipped artifacts. One place (src/resources/layout.ts
 * re-exports these), so plan, apply and facts agree.
 */

export const STATE_DIR = '/var/lib/kernelfile';
/** The journals of applies that have not finished. */
export const PENDING_DIR = `${STATE_DIR}/pending`;
export const receiptPath = (release: string) => `${STATE_DIR}/${release}.json`;
export const sidecarPath = (release: string) => `${STATE_DIR}/${release}.sha256`;
/**
 * The sidecar's files as `stat` saw them when the receipt was written (size, mtime and ctime to the nanosecond, inode,
 * name): while they still match, gathering facts need not hash every file again to know that none
 * changed (a write or a replacement changes the ctime, which only the kernel sets).
 */
export const statPath = (release: string) => `${STATE_DIR}/${release}.stat`;
/**
 * The format of statPath's lines, and of the stat run that checks them: %y and %z are the mtime and
 * ctime with their nanoseconds (GNU stat; a write within the second of the record still shows).
 */
export const STAT_FORMAT = '%s %y %z %i %n';
/** Lists the sidecar's files (args: SIDECAR) with STAT_FORMAT: `cut` takes the names off the sums. */
export const STAT_FILES_SH = `cut -c67- "$1" | xargs -r -d '\\n' stat -c '${STAT_FORMAT}' --`;
export const pendingPath = (release: string) => `${PENDING_DIR}/${release}.json`;
/** The trial boots armed and failed (src/receipt/types.ts Trial). */
export const TRIALS_DIR = `${STATE_DIR}/trials`;
export const trialPath = (release: string) => `${TRIALS_DIR}/${release}.json`;
/** Shipped artifacts wait here until they are installed (removed when the receipt is written). */
export const stagingDir = (buildId: string) => `${STATE_DIR}/staging/${buildId}`;
