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
export const pendingPath = (release: string) => `${PENDING_DIR}/${release}.json`;
/** The trial boots armed and failed (src/receipt/types.ts Trial). */
export const TRIALS_DIR = `${STATE_DIR}/trials`;
export const trialPath = (release: string) => `${TRIALS_DIR}/${release}.json`;
/** Shipped artifacts wait here until they are installed (removed when the receipt is written). */
export const stagingDir = (buildId: string) => `${STATE_DIR}/staging/${buildId}`;
