/** The store a kernelfile names, opened: its URL parsed, its CA read, its credentials found. */
import { readRegularTextSync } from '../compile/read-file.js';
import { OciClient, StoreError } from './client.js';
import { findCredentials } from './credentials.js';
import { parseStoreUrl } from './url.js';

/** `cache.store` and `cache.storeCa` (resolved) of a kernelfile, and the environment credentials come from. */
export interface StoreSettings {
  url: string;
  /** The CA file, an absolute path. */
  caFile?: string;
  vars: Record<string, string | undefined>;
}

const MAX_CA_BYTES = 1024 * 1024;

export function openStore(s: StoreSettings, o: { timeoutMs?: number } = {}): OciClient {
  const parsed = parseStoreUrl(s.url);
  if ('problem' in parsed) throw new StoreError(parsed.problem.message, parsed.problem.hint);
  const ca = s.caFile ? readRegularTextSync(s.caFile, MAX_CA_BYTES, 'cache.storeCa') : undefined;
  const found = findCredentials(parsed.ref.authority, s.vars);
  return new OciClient({
    ref: parsed.ref,
    ...(found.credentials ? { credentials: found.credentials } : {}),
    ...(found.note ? { credentialsNote: found.note } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
}
