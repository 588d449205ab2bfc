/**
 * What the controller keeps per host and boot, because it cannot change while a kernel runs:
 * - the running config: a host whose boot id is the one of its last gather need not send
 *   /proc/config.gz again (about 100 KB, decompressed on the host, parsed here). The facts script is
 *   told that boot id and answers `proc-kept` when it still holds; `gather` then fills in the text;
 * - grub-probe's answer (the root device, or why it cannot be found): the script is told the boot id,
 *   the tool's path and the uid it ran as, and answers `probe-kept` instead of running it when all
 *   three still hold (what grub-probe may open depends on the user: `--sudo` or not).
 * Files in the controller's cache (`running-configs/` in the default cache directory):
 *
 *   hosts/<sha256 of the host's name>   {"bootId": UUID, "sha256"?: the config's digest,
 *                                        "probe"?: {"tool", "uid", "out", "rc", "stderr"?}}
 *   <sha256>.config                     the config text, checked against its name when read
 *
 * What a host sent is data: read back with a size limit, checked (the tool an absolute path of safe
 * characters, the config by its digest), never run. A lost or damaged entry costs one more round
 * trip (gather fetches the config) or one more grub-probe, never a wrong answer.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, writeAtomic } from '../compile/cache.js';
import { readRegularSync } from '../compile/read-file.js';
import { INSTALLED_CONFIG_MAX_BYTES } from '../facts/config.js';
import { type BootKept, KEPT_PROBE_MAX, type KeptProbe } from '../facts/gather.js';
import { SAFE_TOOL_PATH, UID } from '../facts/protocol.js';
import { BOOT_ID } from '../receipt/decode.js';

const SHA256 = /^[0-9a-f]{64}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** One host's entry: the boot it is about, and what is kept of that boot. */
interface Entry {
  bootId: string;
  sha256?: string;
  probe?: KeptProbe;
}

export class KeptPerBoot implements BootKept {
  private readonly dir: string;
  /** This process's view: host → entry, digest → text (hosts of a fleet often share one config). */
  private readonly entries = new Map<string, Entry | null>();
  private readonly texts = new Map<string, string>();

  constructor(env: Record<string, string | undefined>, dir?: string) {
    this.dir = dir ?? join(cacheRoot(undefined, env), 'running-configs');
  }

  private entry(host: string): Entry | null {
    const hit = this.entries.get(host);
    if (hit !== undefined) return hit;
    let found: Entry | null = null;
    const r = readRegularSync(join(this.dir, 'hosts', sha256(host)), 4 * KEPT_PROBE_MAX);
    if (r.ok)
      try {
        found = entryOf(JSON.parse(r.bytes.toString('utf8')));
      } catch {
        // damaged: as if absent
      }
    this.entries.set(host, found);
    return found;
  }

  /** Keep the host's entry, here and in its file. */
  private keep(host: string, e: Entry): void {
    this.entries.set(host, e);
    try {
      mkdirSync(join(this.dir, 'hosts'), { recursive: true, mode: 0o700 });
      writeAtomic(join(this.dir, 'hosts', sha256(host)), `${JSON.stringify(e)}\n`, 0o600);
    } catch {
      // a cache that cannot be written costs the next gather what it would have spared
    }
  }

  bootOf(host: string): string | undefined {
    const e = this.entry(host);
    return e?.sha256 ? e.bootId : undefined;
  }

  textOf(host: string, bootId: string): string | undefined {
    const e = this.entry(host);
    if (!e?.sha256 || e.bootId !== bootId) return undefined;
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
    const known = this.entry(host);
    // The text this host's entry keeps, given back (textOf): nothing to hash or write again.
    if (known?.bootId === bootId && known.sha256 && this.texts.get(known.sha256) === text) return;
    const digest = sha256(text);
    if (known?.bootId === bootId && known.sha256 === digest) return;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      if (!this.texts.has(digest)) writeAtomic(join(this.dir, `${digest}.config`), text, 0o600);
      this.texts.set(digest, text);
    } catch {
      return;
    }
    const probe = known?.bootId === bootId ? known.probe : undefined;
    this.keep(host, { bootId, sha256: digest, ...(probe ? { probe } : {}) });
  }

  probeOf(host: string): { bootId: string; probe: KeptProbe } | undefined {
    const e = this.entry(host);
    return e?.probe ? { bootId: e.bootId, probe: e.probe } : undefined;
  }

  rememberProbe(host: string, bootId: string, probe: KeptProbe): void {
    if (!BOOT_ID.test(bootId) || !probeOf(probe)) return;
    const known = this.entry(host);
    const same = known?.bootId === bootId;
    if (same && JSON.stringify(known.probe) === JSON.stringify(probe)) return;
    this.keep(host, { bootId, ...(same && known.sha256 ? { sha256: known.sha256 } : {}), probe });
  }
}

/** A kept probe as read back: each field checked, else none. */
function probeOf(v: unknown): KeptProbe | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const p = v as Record<string, unknown>;
  const text = (x: unknown): x is string => typeof x === 'string' && x.length <= KEPT_PROBE_MAX;
  if (typeof p.tool !== 'string' || !SAFE_TOOL_PATH.test(p.tool) || !text(p.out)) return undefined;
  if (typeof p.uid !== 'string' || !UID.test(p.uid)) return undefined;
  if (typeof p.rc !== 'string' || !/^[0-9]{1,3}$/.test(p.rc)) return undefined;
  if (p.stderr !== undefined && !text(p.stderr)) return undefined;
  return {
    tool: p.tool,
    uid: p.uid,
    out: p.out,
    rc: p.rc,
    ...(p.stderr !== undefined ? { stderr: p.stderr } : {}),
  };
}

/** A host's entry as read back (a file of the controller's cache, still checked as data). */
function entryOf(v: unknown): Entry | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (typeof o.bootId !== 'string' || !BOOT_ID.test(o.bootId)) return null;
  const digest = typeof o.sha256 === 'string' && SHA256.test(o.sha256) ? o.sha256 : undefined;
  const probe = probeOf(o.probe);
  return { bootId: o.bootId, ...(digest ? { sha256: digest } : {}), ...(probe ? { probe } : {}) };
}
