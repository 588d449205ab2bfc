/** From a --host value and the SSH options to a connected Transport. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { type HostAddress, parseHostAddress } from './address.js';
import { ChrootTransport } from './chroot.js';
import { LocalTransport } from './local.js';
import { type SshSettings, SshTransport } from './ssh.js';
import { resolveTarget, type SshTarget } from './ssh-config.js';
import type { Transport } from './transport.js';

export interface HostOptions {
  /** ~/.ssh/config or another file; `none` to use none. */
  sshConfig?: string;
  knownHosts?: string[];
  acceptNewHostKeys?: boolean;
  identities?: string[];
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  env?: Record<string, string | undefined>;
}

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
    resolveJump: (name) => {
      const a = parseHostAddress(name);
      return resolve(a.kind === 'ssh' ? a : { host: name });
    },
  };
}

export async function openHost(address: string | HostAddress, opts: HostOptions = {}): Promise<Transport> {
  const a = typeof address === 'string' ? parseHostAddress(address) : address;
  switch (a.kind) {
    case 'local':
      return new LocalTransport();
    case 'root':
      return new ChrootTransport(a.dir);
    case 'ssh':
      return SshTransport.connect(sshTargetResolver(opts)(a), sshSettings(opts));
  }
}
