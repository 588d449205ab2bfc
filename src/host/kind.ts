/**
 * A host kind: everything kernelfile knows about one way of reaching a host (this machine, a root
 * filesystem directory, SSH), in one descriptor — its `--host` syntax, its display name, how an
 * Ansible inventory host maps to it, what it can do, and how to open it. address.ts lists the kinds
 * (the registry); `hostRegistry` turns a list into the functions the rest of kernelfile calls, so a
 * new kind is one file and one line there.
 */
import type { InventoryHost } from '../fleet/inventory.js';
import { suggest } from '../spec/suggest.js';
import { observed, type Transport, type TransportObserver } from './transport.js';

/** What a host can do, known from its address before connecting: ask these, never compare kinds. */
export interface HostCapabilities {
  /** An offline root filesystem (image build): no running kernel; GRUB entries are written explicitly; its Kconfig diff compares with its installed build. */
  image: boolean;
  /** The host has a running kernel (false for an image). */
  runningKernel: boolean;
  /** Whether `apply --reboot` may reboot it and wait for it; when not, why, as a user-facing sentence, and a hint. */
  reboot: { ok: true } | { ok: false; why: string; hint?: string };
}

/** How to connect: SSH client settings (the other kinds ignore them). */
export interface HostOptions {
  /** ~/.ssh/config or another file; `none` to use none. */
  sshConfig?: string;
  knownHosts?: string[];
  acceptNewHostKeys?: boolean;
  identities?: string[];
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  env?: Record<string, string | undefined>;
  /**
   * Keep each SSH connection open this long after its last use, in a background process of the
   * user's (host/keeper.ts), and use a kept one instead of logging in again: OpenSSH's
   * ControlPersist. For commands that only read (facts, plan, status): a command the keeper lost
   * before it answered is run again on a direct connection.
   */
  controlPersistMs?: number;
  /** Told of every command run and file copied on the host (`kernelfile -v`); see `observed`. */
  observer?: TransportObserver;
}

/** A `--host` value that could not be understood. */
export class AddressError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'AddressError';
  }
}

/** An inventory host kernelfile cannot reach: a user-facing sentence naming the host, and a hint. */
export interface InventoryAddressError {
  error: string;
  hint?: string;
}

export interface HostKind<A extends { kind: string }> {
  /** The `kind` of this kind's addresses. */
  readonly kind: A['kind'];
  /** The scheme its `--host` values start with (`root:`, `ssh://`), for did-you-mean on a mistyped one. */
  readonly scheme?: string;
  /**
   * The address when `written` (trimmed, not empty) is in this kind's syntax; undefined when it is
   * not, so the next kind is tried. Throws AddressError when it is this kind's but malformed.
   */
  parse(written: string): A | undefined;
  /** The normalised display name, which `parse` reads back. */
  format(address: A): string;
  capabilities(address: A): HostCapabilities;
  /** The `ansible_connection` values this kind serves, and the address of an inventory host using one. */
  readonly inventory?: {
    readonly connections: readonly string[];
    address(host: InventoryHost): A | InventoryAddressError;
  };
  open(address: A, opts: HostOptions): Promise<Transport>;
}

// Method parameters are bivariant, so every HostKind<X> is a HostKind<{ kind: string }>.
export type AnyHostKind = HostKind<{ kind: string }>;
export type AddressOf<K> = K extends HostKind<infer A> ? A : never;

const HINT = 'use `local`, `root:/path/to/rootfs`, `ssh://user@host:port` or an ~/.ssh/config host alias';

/** Ansible's fully qualified connection plugin names stand for the short ones. */
function connectionName(v: unknown): string | undefined {
  if (v === undefined || v === null) return 'ssh';
  if (typeof v !== 'string') return undefined;
  return v.trim().replace(/^(ansible\.builtin|community\.general)\./, '');
}

/**
 * `rooot:/srv/rootfs`, `sh://web-1`, `ssh:/web-1`: a word before `:` that is not a port (`web-1:22`)
 * and is close to a scheme but not one of them is a mistyped scheme, refused with the one meant.
 */
function mistypedScheme(s: string, schemes: readonly string[]): void {
  const m = /^([a-z][a-z0-9+.-]*):(\/\/)?(.*)$/is.exec(s);
  if (!m || /^\d*$/.test(m[3] as string)) return;
  const written = `${m[1]}:${m[2] ?? ''}`;
  if (schemes.some((x) => x.toLowerCase() === written.toLowerCase())) return;
  const word = (m[1] as string).toLowerCase();
  const meant = suggest(
    word,
    schemes.map((x) => x.replace(/:(\/\/)?$/, '')),
  );
  const scheme = meant === undefined ? undefined : schemes.find((x) => x.startsWith(`${meant}:`));
  if (scheme === undefined) return;
  throw new AddressError(
    `unknown scheme \`${written}\` in --host ${s}: did you mean \`${scheme}\`?`,
    `e.g. --host ${scheme}${scheme.endsWith('//') ? (m[3] as string).replace(/^\/+/, '') : m[3]}`,
  );
}

/** The functions over a list of host kinds; the first kind whose syntax matches a `--host` value wins. */
export function hostRegistry<const K extends readonly AnyHostKind[]>(kinds: K) {
  type A = AddressOf<K[number]>;
  const kindOf = (a: A): AnyHostKind => {
    const k = kinds.find((x) => x.kind === a.kind);
    if (!k) throw new Error(`unknown host kind ${JSON.stringify(a.kind)}`);
    return k;
  };
  const schemes = kinds.flatMap((k) => (k.scheme ? [k.scheme] : []));
  const parse = (written: string): A => {
    const s = written.trim();
    if (s === '') throw new AddressError('--host is empty', HINT);
    mistypedScheme(s, schemes);
    for (const k of kinds) {
      const a = k.parse(s);
      if (a) return a as A;
    }
    throw new AddressError(`cannot read a host name in --host ${s}`, HINT);
  };
  return {
    kinds,
    parse,
    format: (a: A): string => kindOf(a).format(a),
    capabilities: (a: A): HostCapabilities => kindOf(a).capabilities(a),
    inventoryAddress(h: InventoryHost): A | InventoryAddressError {
      const written = h.vars.ansible_connection;
      const name = connectionName(written);
      const k = name === undefined ? undefined : kinds.find((x) => x.inventory?.connections.includes(name));
      if (!k?.inventory) {
        const known = kinds.flatMap((x) => x.inventory?.connections ?? []);
        return {
          error: `host \`${h.name}\`: kernelfile cannot connect with \`ansible_connection: ${typeof written === 'string' ? written : JSON.stringify(written)}\``,
          hint: `kernelfile connects with ${known.map((c) => `\`${c}\``).join(', ')}`,
        };
      }
      return k.inventory.address(h) as A | InventoryAddressError;
    },
    async open(address: string | A, opts: HostOptions = {}): Promise<Transport> {
      const a = typeof address === 'string' ? parse(address) : address;
      const t = await kindOf(a).open(a, opts);
      return opts.observer ? observed(t, opts.observer) : t;
    },
  };
}
