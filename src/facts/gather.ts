/**
 * Gathering: the prelude and every family's script as ONE sh script, run once over the transport
 * (`sh -s`, script on stdin), its output split into sections and parsed by the families' pure
 * parse functions. The only file in facts/ that does I/O (the transport, the random nonce, sha256).
 */
import { createHash, randomBytes } from 'node:crypto';
import { HostError, type Transport } from '../host/transport.js';
import { FAMILIES } from './families.js';
import { linkBootReleases } from './link.js';
import { composeScript, deniedPaths, isComplete, type Sections, splitSections } from './protocol.js';
import type { HostFacts } from './types.js';

/** The facts script for a nonce (tests run it anywhere with a fixed one). */
export function factsScript(nonce: string, opts: { image?: boolean; knownBoot?: string } = {}): string {
  return composeScript(nonce, Object.values(FAMILIES), opts);
}

export function newNonce(): string {
  return `kf${randomBytes(12).toString('hex')}`;
}

/** Parse the facts script's output. Throws a HostError when the output stops before its trailer. */
export function parseFacts(output: string, nonce: string, host: string): HostFacts {
  return parseSections(splitSections(output, nonce), host);
}

/** Parse the facts script's output, cut into sections. */
export function parseSections(sections: Record<string, Sections>, host: string): HostFacts {
  if (!isComplete(sections))
    throw new HostError(
      host,
      'io',
      'gathering facts stopped before the end of its script (the output is incomplete)',
      'check that `sh` runs on the host and that the connection stays up',
    );
  const of = (name: string): Sections => sections[name] ?? {};
  const kernels = FAMILIES.kernels.parse(of('kernels'));
  const facts: Omit<HostFacts, 'digest'> = {
    factsVersion: 1,
    host,
    system: FAMILIES.system.parse(of('system')),
    kernels,
    config: FAMILIES.config.parse(of('config')),
    dkms: FAMILIES.dkms.parse(of('dkms')),
    initramfs: FAMILIES.initramfs.parse(of('initramfs')),
    boot: linkBootReleases(FAMILIES.boot.parse(of('boot')), kernels),
    space: FAMILIES.space.parse(of('space')),
    receipts: FAMILIES.receipts.parse(of('receipts')),
    tools: FAMILIES.tools.parse(of('tools')),
    libs: FAMILIES.libs.parse(of('libs')),
    secureboot: FAMILIES.secureboot.parse(of('secureboot')),
    unreadable: deniedPaths(sections),
  };
  return { ...facts, digest: factsDigest(facts) };
}

/**
 * sha256 over the canonical JSON (keys sorted) of what a plan depends on. Left out:
 * - `space`: free bytes change by the minute; apply re-checks space before it writes.
 * - `host`: the same machine may be addressed by several names (ssh://root@web-1, ssh://web-1:22).
 * - `digest` itself.
 * Everything else counts, `system.uid` and `unreadable` included: facts gathered with other rights
 * may differ, and a plan made from them must be made again.
 */
export function factsDigest(facts: Omit<HostFacts, 'digest'>): string {
  const { space: _space, host: _host, ...rest } = facts;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** sha256 of each family of facts that counts in the digest (a stale plan names the ones that changed). */
export function familyDigests(facts: HostFacts): Record<string, string> {
  const { space: _s, host: _h, digest: _d, factsVersion: _v, ...rest } = facts;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest))
    out[k] = createHash('sha256').update(canonicalJson(v)).digest('hex');
  return out;
}

/** canonicalJson of frozen objects (a running config's options, shared by the hosts that run it). */
const canonicalCache = new WeakMap<object, string>();

export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const frozen = Object.isFrozen(v);
    if (frozen) {
      const hit = canonicalCache.get(v);
      if (hit !== undefined) return hit;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    const out = `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
    if (frozen) canonicalCache.set(v, out);
    return out;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The running configs kept on the controller per host and boot (src/engine/running-configs.ts): a
 * host still in the boot of its last gather does not send /proc/config.gz again.
 */
export interface RunningConfigCache {
  /** The boot id of the host's last gather whose running config is kept. */
  bootOf(host: string): string | undefined;
  /** That config's text (as the `proc` section holds it), if it is still there and intact. */
  textOf(host: string, bootId: string): string | undefined;
  /** Keep the text of /proc/config.gz read in this boot. */
  remember(host: string, bootId: string, text: string): void;
}

export interface GatherOptions {
  /** Gather as root (`sudo -n` over SSH): needed where /boot, grub.cfg or the ESP are root-only. */
  sudo?: boolean;
  runningConfigs?: RunningConfigCache;
}

/** Gather a host's facts in one round trip (two when a kept running config was lost meanwhile). */
export async function gather(t: Transport, opts: GatherOptions = {}): Promise<HostFacts> {
  const nonce = newNonce();
  // A root filesystem directory runs no kernel: its facts say so rather than report this machine's.
  const image = !t.capabilities.runningKernel;
  const cache = image ? undefined : opts.runningConfigs;
  const knownBoot = cache?.bootOf(t.name);
  const script = factsScript(nonce, { image, ...(knownBoot ? { knownBoot } : {}) });
  const sudo = opts.sudo ? { sudo: true } : {};
  const r = await t.run(['sh', '-s'], { stdin: script, ...sudo });
  try {
    const sections = splitSections(r.stdout, nonce);
    const config = sections.config;
    if (config && knownBoot && config['proc-kept'] === knownBoot) {
      let text = cache?.textOf(t.name, knownBoot);
      if (text === undefined) {
        const again = await t.run(['sh', '-c', 'gzip -dc /proc/config.gz || zcat /proc/config.gz'], sudo);
        if (again.code === 0) text = again.stdout;
      }
      if (text !== undefined) {
        config.proc = text;
        config['proc#rc'] = '0';
      }
    }
    const facts = parseSections(sections, t.name);
    const proc = config?.proc;
    if (cache && proc !== undefined && facts.config.source === '/proc/config.gz' && facts.system.bootId)
      cache.remember(t.name, facts.system.bootId, proc);
    return facts;
  } catch (e) {
    const tail = r.stderr.trim().split('\n').slice(-3).join('\n');
    if (e instanceof HostError && (r.code !== 0 || tail))
      throw new HostError(
        t.name,
        'io',
        `gathering facts failed (exit ${r.code})${tail ? `: ${tail}` : ''}`,
        e.hint,
      );
    throw e;
  }
}
