/** The options every command that talks to a host takes, and how they become HostOptions. */
import { type Command, Option } from 'commander';
import type { HostOptions, TransportObserver } from '../engine/index.js';
import { commandLog, transferLog } from '../render/command-log.js';
import type { Io } from './io.js';
import { UserError } from './io.js';

export interface HostFlags {
  host: string;
  sshConfig?: string;
  knownHosts?: string[];
  acceptNewHostKeys?: boolean;
  identity?: string[];
  connectTimeout?: string;
  commandTimeout?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addHostOptions(cmd: Command): Command {
  return cmd
    .option(
      '--host <host>',
      'local, root:/path/to/rootfs, ssh://user@name:port, or an ~/.ssh/config alias',
      'local',
    )
    .option('--ssh-config <file>', 'ssh client configuration (`none` for none)', undefined)
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against (repeatable)', collect)
    .option(
      '--accept-new-host-keys',
      'accept and record the key of a host not yet in known_hosts (like StrictHostKeyChecking=accept-new); a changed key is still refused',
    )
    .option(
      '-i, --identity <file>',
      'private key to offer (repeatable; tried before ~/.ssh/config and the defaults)',
      collect,
    )
    .addOption(new Option('--connect-timeout <seconds>', 'SSH connect timeout').default('10'))
    .addOption(new Option('--command-timeout <seconds>', 'limit for each remote command (default: none)'));
}

function seconds(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new UserError(`${flag} must be a positive number of seconds, got \`${v}\``);
  return Math.round(n * 1000);
}

export function hostOptions(flags: HostFlags, io: Io): HostOptions {
  return {
    ...(flags.sshConfig ? { sshConfig: flags.sshConfig } : {}),
    ...(flags.knownHosts?.length ? { knownHosts: flags.knownHosts } : {}),
    acceptNewHostKeys: flags.acceptNewHostKeys === true,
    identities: flags.identity ?? [],
    connectTimeoutMs: seconds(flags.connectTimeout, '--connect-timeout'),
    commandTimeoutMs: seconds(flags.commandTimeout, '--command-timeout'),
    env: io.env,
    ...observerOf(io),
  };
}

/** `-v`, `-vv`: the commands run on hosts (and the files copied), on standard error. */
export function observerOf(io: Io): { observer?: TransportObserver } {
  const level = io.verbose ?? 0;
  if (level < 1) return {};
  return {
    observer: {
      command: (c) =>
        io.err(
          commandLog(c, level)
            .map((l) => `${l}\n`)
            .join(''),
        ),
      transfer: (t) => io.err(`${transferLog(t)}\n`),
    },
  };
}

/** Options that only mean something for the hosts of an inventory. */
export function requireInventory(opts: {
  inventory?: string;
  limit?: string;
  serial?: string;
  maxFail?: string;
}): void {
  if (opts.inventory) return;
  const given = [opts.limit && '--limit', opts.serial && '--serial', opts.maxFail && '--max-fail'].filter(
    Boolean,
  );
  if (given.length)
    throw new UserError(
      `${given.join(', ')} ${given.length === 1 ? 'selects or batches' : 'select or batch'} hosts of an inventory: give --inventory FILE too`,
    );
}
