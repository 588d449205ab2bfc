/**
 * The version of kernelfile (package.json's `version`, read once: src/ and dist/ both sit two levels
 * below the package root) and the stamp every JSON document carries with it.
 */
import { readFileSync } from 'node:fs';
import type { Stamp } from '../render/json-documents.js';

export const KERNELFILE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The clock a document's `generatedAt` is read from: the caller's (a test fixes it), else now. */
export interface Clock {
  now?: () => Date;
}

/** `kernelfileVersion` and `generatedAt` (ISO 8601, UTC) for a document made now. */
export function stampOf(clock: Clock = {}): Stamp {
  return { kernelfileVersion: KERNELFILE_VERSION, generatedAt: (clock.now?.() ?? new Date()).toISOString() };
}
