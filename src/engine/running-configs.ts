/**
 * The running configs the controller has read, kept per host and boot: /proc/config.gz cannot
 * change while a kernel runs, so a host whose boot id is the one of its last gather need not send
 * its config again (about 100 KB, decompressed on the host, parsed here). The facts script is told
 * that boot id and answers `proc-kept` when it still holds; `gather` then fills in the text kept
 * here. Files in the controller's cache (`running-configs/` in the default cache directory):
 *
 *   hosts/<sha256 of the host's name>   {"bootId": UUID, "sha256": the config's digest}
 *   <sha256>.config                     the config text, checked against its name when read
 *
 * What a host sent is data: read back with a size limit, verified by digest, never run. A lost or
 * damaged entry costs one more round trip (gather fetches the config), never a wrong config.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, writeAtomic } from '../compile/cache.js';
import { readRegularSync } from '../compile/read-file.js';
import { INSTALLED_CONFIG_MAX_BYTES } from '../facts/config.js';
import type { RunningConfigCache } from '../facts/gather.js';
import { BOOT_ID } from '../receipt/decode.js';

const SHA256 = /^[0-9a-f]{64}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class RunningConfigs implements RunningConfigCache {
  private readonly dir: string;
  /** This process's view: host → entry, digest → text (hosts of a fleet often share one config). */
  private readonly entries = new Map<string, { bootId: string; sha256: string } | null>();
  private readonly texts = new Map<string, string>();

  constructor(env: Record<string, string | undefined>, dir?: string) {
    this.dir = dir ?? join(cacheRoot(undefined, env), 'running-configs');
  }

  private entry(host: string): { bootId: string; sha256: string } | null {
    const hit = this.entries.get(host);
    if (hit !== undefined) return hit;
    let found: { bootId: string; sha256: string } | null = null;
    const r = readRegularSync(join(this.dir, 'hosts', sha256(host)), 4096);
    if (r.ok)
      try {
        const v = JSON.parse(r.bytes.toString('utf8')) as { bootId?: unknown; sha256?: unknown };
        if (
          typeof v.bootId === 'string' &&
          BOOT_ID.test(v.bootId) &&
          typeof v.sha256 === 'string' &&
          SHA256.test(v.sha256)
        )
          found = { bootId: v.bootId, sha256: v.sha256 };
      } catch {
        // damaged: as if absent
      }
    this.entries.set(host, found);
    return found;
  }

  bootOf(host: string): string | undefined {
    return this.entry(host)?.bootId;
  }

  textOf(host: string, bootId: string): string | undefined {
    const e = this.entry(host);
    if (!e || e.bootId !== bootId) return undefined;
    const hit = this.texts.get(e.sha256);
    if (hit !== undefined) return hit;
    const r = readRegularSync(join(this.dir, `${e.sha256}.config`), INSTALLED_CONFIG_MAX_BYTES);
    if (!r.ok) return undefined;
    const text = r.bytes.toString('utf8');
    if (sha256(text) !== e.sha256) return undefined;
    this.texts.set(e.sha256, text);
    return text;
  }

  remember(host: string, bootId: string, text: string): void {
    if (!BOOT_ID.test(bootId) || Buffer.byteLength(text) > INSTALLED_CONFIG_MAX_BYTES) return;
    const digest = sha256(text);
    const known = this.entry(host);
    if (known?.bootId === bootId && known.sha256 === digest) return;
    this.entries.set(host, { bootId, sha256: digest });
    try {
      mkdirSync(join(this.dir, 'hosts'), { recursive: true, mode: 0o700 });
      if (!this.texts.has(digest)) writeAtomic(join(this.dir, `${digest}.config`), text, 0o600);
      this.texts.set(digest, text);
      writeAtomic(
        join(this.dir, 'hosts', sha256(host)),
        `${JSON.stringify({ bootId, sha256: digest })}\n`,
        0o600,
      );
    } catch {
      // a cache that cannot be written costs the next gather 100 KB, nothing else
    }
  }
}
