/**
 * The options every command that talks to a host takes (loaded at start-up with the command line;
 * host-settings.ts makes them HostOptions when a command runs).
 */
import { type Command, Option } from 'commander';
import { UserError } from './io.js';

export interface HostFlags {
  host: string;
  sshConfig?: string;
  knownHosts?: string[];
  acceptNewHostKeys?: boolean;
  identity?: string[];
  connectTimeout?: string;
  commandTimeout?: string;
  /** Only on the commands that read (addControlPersist). */
  controlPersist?: string;
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

/** `--control-persist`: for the commands that only read hosts (facts, plan, status). */
export function addControlPersist(cmd: Command): Command {
  return cmd.option(
    '--control-persist <seconds>',
    "keep each SSH connection open this long after its last use, in a background process of yours, and reuse it in the next command instead of logging in again (like OpenSSH's ControlPersist)",
  );
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
