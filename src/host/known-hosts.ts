/**
 * OpenSSH known_hosts: plain and hashed (`|1|salt|hash`) host fields, patterns with `*`, `?` and
 * `!`, `[host]:port` for non-standard ports, and the `@revoked` marker (`@cert-authority` lines
 * are skipped: kernelfile does not verify host certificates). The verdict for a presented key is
 * `known`, `changed` (a different key of the same type is recorded for this host: refuse) or
 * `unknown`; the host key algorithms offered put the types known_hosts holds first, as OpenSSH does.
 */
import { createHash, createHmac } from 'node:crypto';

export interface KnownHostLine {
  marker?: '@revoked' | '@cert-authority';
  hosts: string; // the host field as written
  keyType: string;
  key: string; // base64 blob
  file: string;
  line: number;
}

export function parseKnownHosts(text: string, file: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.trim();
    if (!s || s.startsWith('#')) return;
    const f = s.split(/\s+/);
    let marker: KnownHostLine['marker'];
    if (f[0] === '@revoked' || f[0] === '@cert-authority') marker = f.shift() as KnownHostLine['marker'];
    const [hosts, keyType, key] = f;
    if (!hosts || !keyType || !key) return;
    out.push({ ...(marker ? { marker } : {}), hosts, keyType, key, file, line: i + 1 });
  });
  return out;
}

/** How OpenSSH names a host in known_hosts: `name` on port 22, `[name]:port` otherwise. */
export function hostField(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

const ASCII = /^[^\u0080-\uffff]*$/;

/** One pattern of a host field, made once per process (a fleet matches every host against every line). */
const matchers = new Map<string, (s: string) => boolean>();

function globMatch(pattern: string, s: string): boolean {
  let m = matchers.get(pattern);
  if (!m) {
    if (/[*?]/.test(pattern) || !ASCII.test(pattern)) {
      const re = new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        'i',
      );
      m = (x) => re.test(x);
    } else {
      // No wildcard, ASCII: the name itself, ASCII case folded (as the expression would: no other
      // character folds to an ASCII one there).
      const lower = pattern.toLowerCase();
      m = (x) => x.length === lower.length && ASCII.test(x) && x.toLowerCase() === lower;
    }
    if (matchers.size > 10_000) matchers.clear();
    matchers.set(pattern, m);
  }
  return m(s);
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** The key type named inside an SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:…` as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type Verdict =
  | { status: 'known'; line: KnownHostLine }
  | { status: 'changed'; line: KnownHostLine }
  | { status: 'revoked'; line: KnownHostLine }
  /** `others`: keys of other types recorded for the host (the host did not offer one of those). */
  | { status: 'unknown'; others: KnownHostLine[] };

/**
 * A list's lines by host name, made once per list (a fleet looks every host up in the same
 * known_hosts, whose lines would otherwise each be matched against each host): the lines whose
 * host field is only plain ASCII names (no wildcard, no negation, not hashed) under each of those
 * names, ASCII case folded; the positions of the other lines, matched one by one as before. A list
 * that grew since (a key accepted and appended to it) is indexed again. @cert-authority lines are
 * left out.
 */
interface Index {
  length: number;
  byName: Map<string, number[]>;
  others: number[];
}

const indexes = new WeakMap<readonly KnownHostLine[], Index>();

function indexOf(lines: readonly KnownHostLine[]): Index {
  const known = indexes.get(lines);
  if (known?.length === lines.length) return known;
  const index: Index = { length: lines.length, byName: new Map(), others: [] };
  lines.forEach((l, i) => {
    if (l.marker === '@cert-authority') return;
    if (l.hosts.startsWith('|') || /[*?!]/.test(l.hosts) || !ASCII.test(l.hosts)) {
      index.others.push(i);
      return;
    }
    for (const name of new Set(l.hosts.toLowerCase().split(','))) {
      const at = index.byName.get(name);
      if (at) at.push(i);
      else index.byName.set(name, [i]);
    }
  });
  indexes.set(lines, index);
  return index;
}

/** The host's own lines (not @cert-authority), in the list's order. */
const linesFor = (lines: readonly KnownHostLine[], host: string, port: number): KnownHostLine[] => {
  const name = hostField(host, port);
  const index = indexOf(lines);
  const plain = ASCII.test(name) ? (index.byName.get(name.toLowerCase()) ?? []) : [];
  const matched = index.others.filter((i) => hostMatches((lines[i] as KnownHostLine).hosts, name));
  return [...plain, ...matched].sort((a, b) => a - b).map((i) => lines[i] as KnownHostLine);
};

/**
 * As OpenSSH: the presented key is `known` when a line holds it, `changed` only when a line holds a
 * different key of the same type (a host has one key per type; keys of other types are not
 * evidence of anything), else `unknown`.
 */
export function verifyHostKey(lines: KnownHostLine[], host: string, port: number, blob: Buffer): Verdict {
  const key = blob.toString('base64');
  const type = keyTypeOf(blob);
  const mine = linesFor(lines, host, port);
  const revoked = mine.find((l) => l.marker === '@revoked' && l.key === key);
  if (revoked) return { status: 'revoked', line: revoked };
  const same = mine.find((l) => !l.marker && l.key === key);
  if (same) return { status: 'known', line: same };
  const other = mine.find((l) => !l.marker && l.keyType === type);
  if (other) return { status: 'changed', line: other };
  return { status: 'unknown', others: mine.filter((l) => !l.marker) };
}

/**
 * The host key algorithms kernelfile offers, in OpenSSH's default order (HostKeyAlgorithms, less
 * the certificate and security-key ones, which it does not verify), with ssh-rsa (SHA-1) last for
 * old hosts.
 */
export const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** The signature algorithms a key type in known_hosts is used with (an RSA key: three). */
const algorithmsOf = (keyType: string): string[] =>
  keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];

/**
 * What OpenSSH does (order_hostkeyalgs): the algorithms of the key types known_hosts holds for the
 * host first, in the default order, then the others. The host then presents a key kernelfile
 * knows, whichever else it has.
 */
export function hostKeyAlgorithms(
  lines: readonly KnownHostLine[],
  host: string,
  port: number,
  defaults: readonly string[] = DEFAULT_HOST_KEY_ALGORITHMS,
): string[] {
  const known = new Set(
    linesFor(lines, host, port)
      .filter((l) => !l.marker)
      .flatMap((l) => algorithmsOf(l.keyType)),
  );
  return [...defaults.filter((a) => known.has(a)), ...defaults.filter((a) => !known.has(a))];
}

export function knownHostsEntry(host: string, port: number, blob: Buffer): string {
  return `${hostField(host, port)} ${keyTypeOf(blob)} ${blob.toString('base64')}`;
}
