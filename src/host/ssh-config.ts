/**
 * Where and as whom to connect, the way `ssh NAME` would: the --host address first, then
 * ~/.ssh/config (Host aliases, HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump),
 * then OpenSSH's defaults. Parsing is done by the `ssh-config` package.
 */
import SSHConfig from 'ssh-config';
import type { SshSettings } from './ssh.js';

export interface SshTarget {
  /** The name the user gave (alias or host name), for messages and the transport's name. */
  alias: string;
  /** Where to connect (HostName), also the name looked up in known_hosts. */
  host: string;
  port: number;
  user: string;
  /** Private key files to offer, in order (may not all exist). */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** Hosts to jump through, outermost first (`ProxyJump a,b`). */
  proxyJump: string[];
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Expand `~` and the tokens OpenSSH documents for IdentityFile: %d %u %h %r %p %%. */
function expand(
  path: string,
  t: { home: string; localUser: string; host: string; user: string; port: number },
): string {
  const p = path.replace(/^~(?=\/|$)/, t.home);
  return p.replace(/%([duhrp%])/g, (_, c: string) =>
    c === 'd'
      ? t.home
      : c === 'u'
        ? t.localUser
        : c === 'h'
          ? t.host
          : c === 'r'
            ? t.user
            : c === 'p'
              ? String(t.port)
              : '%',
  );
}

export function resolveTarget(
  address: { host: string; user?: string; port?: number },
  configText: string | undefined,
  env: { home: string; localUser: string; extraIdentities?: string[] },
): SshTarget {
  const computed = configText
    ? (SSHConfig.parse(configText).compute(address.host, { ignoreCase: true, matchExec: false }) as Record<
        string,
        string | string[]
      >)
    : {};
  const host = first(computed.hostname)?.replace(/%h/g, address.host) ?? address.host;
  const port = address.port ?? (computed.port ? Number(first(computed.port)) : 22);
  const user = address.user ?? first(computed.user) ?? env.localUser;
  const tokens = { home: env.home, localUser: env.localUser, host, user, port };
  const configured = all(computed.identityfile).map((f) => expand(f, tokens));
  const identitiesOnly = first(computed.identitiesonly)?.toLowerCase() === 'yes';
  const defaults =
    identitiesOnly && configured.length > 0 ? [] : DEFAULT_IDENTITIES.map((f) => `${env.home}/.ssh/${f}`);
  const jump = first(computed.proxyjump);
  return {
    alias: address.host,
    host,
    port,
    user,
    identityFiles: [...new Set([...(env.extraIdentities ?? []), ...configured, ...defaults])],
    identitiesOnly,
    proxyJump: !jump || jump.toLowerCase() === 'none' ? [] : jump.split(',').map((s) => s.trim()),
  };
}

/** A target's display name (a transport's name): `ssh://user@alias:port`. */
export function sshName(t: SshTarget): string {
  return `ssh://${t.user}@${t.alias.includes(':') ? `[${t.alias}]` : t.alias}:${t.port}`;
}

/** A ProxyJump hop of `t` by its name: as the settings resolve it, else the name with t's user and keys. */
export function jumpHost(t: SshTarget, s: Pick<SshSettings, 'resolveJump'>, name: string): SshTarget {
  return s.resolveJump?.(name) ?? { ...t, alias: name, host: name, port: 22, proxyJump: [] };
}
