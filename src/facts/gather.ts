/**
 * Gathering: the prelude and every family's script as ONE sh script, run once over the transport
 * (`sh -s`, script on stdin), its output split into sections and parsed by the families' pure
 * parse functions. The only file in facts/ that does I/O (the transport, the random nonce, sha256).
 */
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { HostError, type Transport } from '../host/transport.js';
import { FAMILIES } from './families.js';
import { linkBootReleases } from './link.js';
import {
  composeScript,
  deniedPaths,
  isComplete,
  SAFE_TOOL_PATH,
  type ScriptOptions,
  type Sections,
  splitSections,
} from './protocol.js';
import type { HostFacts } from './types.js';

/** Every family, in the order the script runs them (one list: composeScript joins their blocks once). */
const FAMILY_LIST = Object.values(FAMILIES);

/** The facts script for a nonce (tests run it anywhere with a fixed one). */
export function factsScript(nonce: string, opts: ScriptOptions = {}): string {
  return composeScript(nonce, FAMILY_LIST, opts);
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
  const kernels = shared('kernels', of('kernels'));
  const facts: Omit<HostFacts, 'digest'> = {
    factsVersion: 1,
    host,
    system: FAMILIES.system.parse(of('system')),
    kernels,
    config: FAMILIES.config.parse(of('config')),
    dkms: shared('dkms', of('dkms')),
    initramfs: shared('initramfs', of('initramfs')),
    boot: linkBootReleases(shared('boot', of('boot')), kernels),
    space: FAMILIES.space.parse(of('space')),
    receipts: FAMILIES.receipts.parse(of('receipts')),
    tools: shared('tools', of('tools')),
    libs: shared('libs', of('libs')),
    secureboot: shared('secureboot', of('secureboot')),
    unreadable: deniedPaths(sections),
  };
  // The canonical JSON of each family once, for the digest and for the family digests alike.
  const found: Found = new Map();
  const texts = familyTexts(facts, found);
  const out: HostFacts = { ...facts, digest: digestOf(texts, found) };
  const families: Record<string, { value: unknown; digest: string }> = {};
  for (const [k, text] of texts)
    if (k !== 'factsVersion')
      families[k] = { value: (facts as Record<string, unknown>)[k], digest: familyDigest(text, found) };
  familiesOf.set(out, families);
  return out;
}

/*
 * Families the hosts of a fleet mostly send the very same sections for (their packages, tools,
 * libraries, boot loader and dkms): parsed once per distinct text and shared, deep-frozen, so that
 * no host's facts can change another's, and so that their canonical JSON and digests are computed
 * once too (keyedJson keeps them per frozen object). Not system, space and receipts (names, ids,
 * free bytes and times differ by host) nor config (config.ts shares the running config's options
 * by text itself). Host data: only sections up to 256 KiB are kept, at most 8 MiB of them, then
 * the memo starts again.
 */
type SharedFamily = 'kernels' | 'dkms' | 'initramfs' | 'boot' | 'tools' | 'libs' | 'secureboot';
const PARSED_KEY_MAX = 256 * 1024;

/** A memo keyed by host text: at most `maxChars` of keys, then it starts again. */
class TextMemo<V> {
  private readonly map = new Map<string, V>();
  private chars = 0;
  constructor(private readonly maxChars: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (this.chars + key.length > this.maxChars) {
      this.map.clear();
      this.chars = 0;
    }
    this.map.set(key, value);
    this.chars += key.length;
  }
}
const parsedMemo = new TextMemo<unknown>(8 * 1024 * 1024);

function shared<K extends SharedFamily>(name: K, s: Sections): ReturnType<(typeof FAMILIES)[K]['parse']> {
  type T = ReturnType<(typeof FAMILIES)[K]['parse']>;
  const parse = (): T => FAMILIES[name].parse(s) as T;
  // Keys and contents in the order the host printed them, each ended by a NUL (no section holds one).
  let key = `${name}\0`;
  for (const [k, v] of Object.entries(s)) {
    key += `${k}\0${v}\0`;
    if (key.length > PARSED_KEY_MAX) return parse();
  }
  const hit = parsedMemo.get(key);
  if (hit !== undefined) return hit as T;
  const value = deepFreeze(parse());
  parsedMemo.set(key, value);
  return value;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
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
  const found: Found = new Map();
  return digestOf(familyTexts(facts, found), found);
}

/**
 * sha256 of each family of facts that counts in the digest (a stale plan names the ones that
 * changed). Those parseSections computed are not computed again (facts are not changed once
 * gathered: their digest would no longer hold either), unless a family was replaced since.
 */
export function familyDigests(facts: HostFacts): Record<string, string> {
  const { space: _s, host: _h, digest: _d, factsVersion: _v, ...rest } = facts;
  const known = familiesOf.get(facts);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) {
    const hit = known?.[k];
    if (hit && hit.value === v) out[k] = hit.digest;
    else {
      const found: Found = new Map();
      out[k] = familyDigest(keyedJson(v, found), found);
    }
  }
  return out;
}

/** Canonical JSON: keys sorted, undefined members left out (the text the digests are taken over). */
export function canonicalJson(v: unknown): string {
  const found: Found = new Map();
  return expand(keyedJson(v, found), found);
}

/*
 * The canonical JSON of a frozen object (a running config's options: one object shared by the
 * hosts that run that config) is computed once and kept, with its UTF-8 bytes; in the canonical
 * text of what holds it, it stands as its id between NULs (no JSON text holds a raw NUL). That
 * text is the key of a family's digest (a config family's key does not hold the config again), and
 * hashing it with each id replaced by its bytes hashes the very same bytes as the canonical JSON.
 */
interface Shared {
  /** '' for a short one, written out in place. */
  id: string;
  text: string;
  bytes?: Buffer;
}
/** The shared parts a keyed text refers to, by id. */
type Found = Map<string, Shared>;
const sharedOf = new WeakMap<object, Shared>();
let sharedCount = 0;
/** Frozen objects whose canonical JSON is shorter than this are written out in place. */
const SHARED_MIN = 1024;

/** canonicalJson(v), each large frozen object in it as \0id\0 (and in `found`). */
function keyedJson(v: unknown, found: Found): string {
  if (Array.isArray(v)) return `[${v.map((x) => keyedJson(x, found)).join(',')}]`;
  if (!v || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const o = v as Record<string, unknown>;
  if (!Object.isFrozen(o)) return objectJson(o, found);
  let s = sharedOf.get(o);
  if (!s) {
    const inner: Found = new Map();
    const text = expand(objectJson(o, inner), inner);
    s = { id: text.length >= SHARED_MIN ? String(++sharedCount) : '', text };
    sharedOf.set(o, s);
  }
  if (!s.id) return s.text;
  found.set(s.id, s);
  return `\0${s.id}\0`;
}

function objectJson(o: Record<string, unknown>, found: Found): string {
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${keyedJson(o[k], found)}`).join(',')}}`;
}

function part(found: Found, id: string): Shared {
  const s = found.get(id);
  if (!s) throw new Error(`canonical JSON: no shared part ${id}`);
  return s;
}

/** A keyed text as canonical JSON. */
function expand(keyed: string, found: Found): string {
  if (!keyed.includes('\0')) return keyed;
  return keyed
    .split('\0')
    .map((p, i) => (i % 2 ? part(found, p).text : p))
    .join('');
}

/** Hash the canonical JSON a keyed text stands for. */
function hashKeyed(h: Hash, keyed: string, found: Found): void {
  if (!keyed.includes('\0')) {
    h.update(keyed);
    return;
  }
  keyed.split('\0').forEach((p, i) => {
    if (i % 2 === 0) {
      if (p) h.update(p);
      return;
    }
    const s = part(found, p);
    s.bytes ??= Buffer.from(s.text, 'utf8');
    h.update(s.bytes);
  });
}

/** The keyed text of each family that counts in the digest, in canonical (sorted) key order. */
function familyTexts(facts: Omit<HostFacts, 'digest'>, found: Found): [string, string][] {
  const { space: _space, host: _host, ...rest } = facts;
  const o = rest as Record<string, unknown>;
  return Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => [k, keyedJson(o[k], found)]);
}

/** sha256 of canonicalJson({family: value, …}), from the families' keyed texts. */
function digestOf(texts: [string, string][], found: Found): string {
  const h = createHash('sha256');
  h.update('{');
  texts.forEach(([k, text], i) => {
    h.update(`${i ? ',' : ''}${JSON.stringify(k)}:`);
    hashKeyed(h, text, found);
  });
  h.update('}');
  return h.digest('hex');
}

/*
 * Family digests by content: the hosts of a fleet mostly share their tools, libs, dkms, secureboot
 * and config families. Keyed by the family's keyed text (host data: only texts up to 64 KiB are
 * kept, at most 8 MiB of them, then the memo starts again).
 */
const familyMemo = new TextMemo<string>(8 * 1024 * 1024);
const FAMILY_MEMO_KEY_MAX = 64 * 1024;

function familyDigest(keyed: string, found: Found): string {
  let d = familyMemo.get(keyed);
  if (d === undefined) {
    const h = createHash('sha256');
    hashKeyed(h, keyed, found);
    d = h.digest('hex');
    if (keyed.length <= FAMILY_MEMO_KEY_MAX) familyMemo.set(keyed, d);
  }
  return d;
}

/** The family digests parseSections computed, with the values they were computed from. */
const familiesOf = new WeakMap<HostFacts, Record<string, { value: unknown; digest: string }>>();

/**
 * What the controller keeps per host and boot (src/engine/kept-per-boot.ts): what cannot change
 * while a kernel runs need not be read again in the same boot.
 * - The running config (/proc/config.gz): a host still in the boot of its last gather does not send
 *   it again.
 * - grub-probe's answer (the root device): not asked again, as long as the same tool would answer
 *   as the same user.
 */
export interface BootKept {
  /** The boot id of the host's last gather whose running config is kept. */
  bootOf(host: string): string | undefined;
  /** That config's text (as the `proc` section holds it), if it is still there and intact. */
  textOf(host: string, bootId: string): string | undefined;
  /** Keep the text of /proc/config.gz read in this boot. */
  remember(host: string, bootId: string, text: string): void;
  /** The grub-probe answer kept for the host, and the boot it was given in. */
  probeOf(host: string): { bootId: string; probe: KeptProbe } | undefined;
  /** Keep grub-probe's answer given in this boot. */
  rememberProbe(host: string, bootId: string, probe: KeptProbe): void;
}

/** grub-probe's answer as the boot family's sections hold it, the tool that gave it and as whom. */
export interface KeptProbe {
  /** Its absolute path on the host. */
  tool: string;
  /** The uid it ran as (what it may open depends on it). */
  uid: string;
  out: string;
  rc: string;
  stderr?: string;
}

/** The longest section of a probe answer kept (a device name, an error line). */
export const KEPT_PROBE_MAX = 4096;

export interface GatherOptions {
  /** Gather as root (`sudo -n` over SSH): needed where /boot, grub.cfg or the ESP are root-only. */
  sudo?: boolean;
  kept?: BootKept;
}

/** The probe of a boot family's sections, when it ran and can be kept. */
function probeToKeep(boot: Sections | undefined, uid: number | null): KeptProbe | undefined {
  const rc = boot?.['probe#rc'];
  if (!boot || rc === undefined || !/^[0-9]{1,3}$/.test(rc.trim())) return undefined;
  // The tool the script ran: grub-probe where it is found, else grub2-probe.
  const tool = (boot['tool:grub-probe'] ?? boot['tool:grub2-probe'] ?? '').trim();
  const out = boot.probe ?? '';
  const stderr = boot['probe#stderr'];
  if (uid === null || !SAFE_TOOL_PATH.test(tool) || out.length > KEPT_PROBE_MAX) return undefined;
  if ((stderr?.length ?? 0) > KEPT_PROBE_MAX) return undefined;
  return { tool, uid: String(uid), out, rc: rc.trim(), ...(stderr !== undefined ? { stderr } : {}) };
}

/** Gather a host's facts in one round trip (two when a kept running config was lost meanwhile). */
export async function gather(t: Transport, opts: GatherOptions = {}): Promise<HostFacts> {
  const nonce = newNonce();
  // A root filesystem directory runs no kernel: its facts say so rather than report this machine's.
  const image = !t.capabilities.runningKernel;
  const cache = image ? undefined : opts.kept;
  const knownBoot = cache?.bootOf(t.name);
  const kept = cache?.probeOf(t.name);
  const script = factsScript(nonce, {
    image,
    ...(knownBoot ? { knownBoot } : {}),
    ...(kept ? { keptProbe: { bootId: kept.bootId, tool: kept.probe.tool, uid: kept.probe.uid } } : {}),
  });
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
    const boot = sections.boot;
    const keptNow = boot && kept && boot['probe-kept'] === kept.bootId;
    if (keptNow) {
      boot.probe = kept.probe.out;
      boot['probe#rc'] = kept.probe.rc;
      if (kept.probe.stderr !== undefined) boot['probe#stderr'] = kept.probe.stderr;
    }
    const facts = parseSections(sections, t.name);
    const proc = config?.proc;
    const bootId = facts.system.bootId;
    if (cache && bootId) {
      if (proc !== undefined && facts.config.source === '/proc/config.gz')
        cache.remember(t.name, bootId, proc);
      const probe = keptNow ? undefined : probeToKeep(boot, facts.system.uid);
      if (probe) cache.rememberProbe(t.name, bootId, probe);
    }
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
