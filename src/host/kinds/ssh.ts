/**
 * A machine over SSH: `ssh://[user@]name[:port]`, or a bare `[user@]NAME` (an ~/.ssh/config alias or
 * a host name); `ansible_connection: ssh` (Ansible's default; also `smart` and `paramiko`). The
 * transport itself (ssh2) is loaded when a host is opened.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { AddressError, type HostCapabilities, type HostKind, type HostOptions } from '../kind.js';
import type { SshSettings } from '../ssh.js';
import { resolveTarget, type SshTarget } from '../ssh-config.js';

export interface SshAddress {
  kind: 'ssh';
  host: string;
  user?: string;
  port?: number;
  /** As written, for messages (for an inventory host: its display name). */
  written: string;
  /** A private key to offer before the others (an inventory's `ansible_ssh_private_key_file`), as written. */
  identity?: string;
  /** Gather facts as root with `sudo -n` too (an inventory's `ansible_become`); changes always run as root. */
  become?: boolean;
}

export const SSH_CAPABILITIES: HostCapabilities = { image: false, runningKernel: true, reboot: { ok: true } };

const HINT = 'use `local`, `root:/path/to/rootfs`, `ssh://user@host:port` or an ~/.ssh/config host alias';
const BAD_HOST = /[\s/'"`$;&|<>]/;

function port(text: string, written: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new AddressError(`bad port \`${text}\` in --host ${written}`, 'a port is 1 to 65535');
  return n;
}

function parse(s: string): SshAddress {
  let rest = s;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    if (!s.toLowerCase().startsWith('ssh://')) throw new AddressError(`unknown scheme in --host ${s}`, HINT);
    rest = s.slice('ssh://'.length).replace(/\/$/, '');
  }
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = decodeURIComponent(rest.slice(0, at));
    rest = rest.slice(at + 1);
    if (!user) throw new AddressError(`empty user name in --host ${s}`, HINT);
  }
  let host = rest;
  let p: number | undefined;
  const v6 = rest.match(/^\[([^\]]+)\](?::(.*))?$/);
  if (v6) {
    host = v6[1] as string;
    if (v6[2] !== undefined) p = port(v6[2], s);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const i = rest.indexOf(':');
    host = rest.slice(0, i);
    p = port(rest.slice(i + 1), s);
  }
  if (!host || BAD_HOST.test(host)) throw new AddressError(`cannot read a host name in --host ${s}`, HINT);
  return { kind: 'ssh', host, ...(user ? { user } : {}), ...(p ? { port: p } : {}), written: s };
}

/** `ssh://user@name:port`, leaving out what the address leaves to ~/.ssh/config and OpenSSH's defaults. */
function format(a: Pick<SshAddress, 'host' | 'user' | 'port'>): string {
  const user = a.user === undefined ? '' : `${a.user.replace(/%/g, '%25')}@`;
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return `ssh://${user}${host}${a.port === undefined ? '' : `:${a.port}`}`;
}

/** Resolves an address the way `ssh NAME` would: the address, then ~/.ssh/config, then defaults. */
export function sshTargetResolver(
  opts: HostOptions,
): (address: { host: string; user?: string; port?: number }) => SshTarget {
  const home = opts.env?.HOME ?? homedir();
  const configFile = opts.sshConfig ?? `${home}/.ssh/config`;
  const configText =
    configFile !== 'none' && existsSync(configFile) ? readFileSync(configFile, 'utf8') : undefined;
  const env = {
    home,
    localUser: opts.env?.USER ?? userInfo().username,
    extraIdentities: opts.identities ?? [],
  };
  return (address) => resolveTarget(address, configText, env);
}

export function sshSettings(opts: HostOptions): SshSettings {
  const home = opts.env?.HOME ?? homedir();
  const resolve = sshTargetResolver(opts);
  return {
    knownHostsFiles: opts.knownHosts ?? [`${home}/.ssh/known_hosts`, '/etc/ssh/ssh_known_hosts'],
    acceptNewHostKeys: opts.acceptNewHostKeys ?? false,
    agentSocket: (opts.env ?? process.env).SSH_AUTH_SOCK || undefined,
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    commandTimeoutMs: opts.commandTimeoutMs,
    resolveJump: (name) =>
      resolve(name.startsWith('root:') || name === 'local' ? { host: name } : parse(name)),
  };
}

export const sshHost: HostKind<SshAddress> = {
  kind: 'ssh',
  scheme: 'ssh://',
  parse,
  format,
  capabilities: () => SSH_CAPABILITIES,
  inventory: {
    connections: ['ssh', 'smart', 'paramiko', 'paramiko_ssh'],
    address(h) {
      const a = h.address;
      if (!a.host || BAD_HOST.test(a.host))
        return {
          error: `host \`${h.name}\`: cannot read a host name in \`${a.host}\``,
          hint: 'set `ansible_host` to a host name or an IP address',
        };
      const address = {
        host: a.host,
        ...(a.user ? { user: a.user } : {}),
        ...(a.port ? { port: a.port } : {}),
      };
      return {
        kind: 'ssh',
        ...address,
        written: format(address),
        ...(a.identity ? { identity: a.identity } : {}),
        ...(a.become ? { become: true } : {}),
      };
    },
  },
  async open(a, opts) {
    const o = a.identity ? { ...opts, identities: [a.identity, ...(opts.identities ?? [])] } : opts;
    const target = sshTargetResolver(o)(a);
    const settings = sshSettings(o);
    // A new host key is recorded by a connection of this process's own, never by the keeper.
    if (o.controlPersistMs && !settings.acceptNewHostKeys) {
      const { openKept } = await import('../kept.js');
      const kept = await openKept(target, settings, o.controlPersistMs, o.env ?? process.env);
      if (kept) return kept;
    }
    const { SshTransport } = await import('../ssh.js');
    return SshTransport.connect(target, settings);
  },
};
