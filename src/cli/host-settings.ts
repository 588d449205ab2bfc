/**
 * The host options of a command line as the engine takes them (HostOptions), with the `-v`/`-vv`
 * observer. Loaded by the commands that reach hosts, not at start-up (`--version` needs none of it).
 */
import type { HostOptions, TransportObserver } from '../engine/index.js';
import { commandLog, transferLog } from '../render/command-log.js';
import type { HostFlags } from './host-options.js';
import type { Io } from './io.js';
import { UserError } from './io.js';

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
    ...(flags.controlPersist !== undefined
      ? { controlPersistMs: seconds(flags.controlPersist, '--control-persist') }
      : {}),
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
