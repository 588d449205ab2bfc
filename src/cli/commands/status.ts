/**
 * `kernelfile status [FILE] (--host H | --inventory FILE [--limit P])`: where each host stands
 * against its kernelfile, read-only. Exit code: the worst state's (docs/cli.md).
 */
import { closeAll } from '../../engine/planning.js';
import { STATE_TEXT, statusRows } from '../../engine/status.js';
import { stampOf } from '../../engine/version.js';
import { table } from '../../render/fleet-text.js';
import type { StatusJson } from '../../render/json-documents.js';
import { colored, plain } from '../../render/style.js';
import { type FleetFlags, sessionFor, targetsOf } from '../hosts.js';
import type { ExitCode, Io } from '../io.js';

export interface StatusFlags extends FleetFlags {
  json?: boolean;
}

export async function run(file: string | undefined, flags: StatusFlags, io: Io): Promise<ExitCode> {
  const hosts = await sessionFor(flags, io, { closeEach: true }).planAll(targetsOf(file, flags, io));
  await closeAll(hosts);
  const { rows, exitCode } = statusRows(hosts);
  const exit = exitCode as ExitCode;
  if (flags.json) {
    const doc: StatusJson = {
      formatVersion: 1,
      kind: 'kernelfile-status',
      ...stampOf(io),
      hosts: rows,
      exitCode: exit,
    };
    io.out(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const style = io.color ? colored : plain;
    const lines = table([
      ['HOST', 'STATE', 'RUNNING', 'TARGET', 'DETAIL'],
      ...rows.map((r) => [r.name, STATE_TEXT[r.state], r.running ?? '-', r.target ?? '-', r.detail]),
    ]);
    io.out(
      `${style('bold', lines[0] ?? '')}\n${lines
        .slice(1)
        .map((l, i) =>
          rows[i]?.state === 'converged'
            ? l
            : style(
                rows[i]?.state === 'unreachable' || rows[i]?.state === 'error' || rows[i]?.state === 'drifted'
                  ? 'error'
                  : 'change',
                l,
              ),
        )
        .join('\n')}\n`,
    );
  }
  return exit;
}
