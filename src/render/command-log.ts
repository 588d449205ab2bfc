/**
 * `kernelfile -v` and `-vv`: each command run on a host (and each file copied), one line once it
 * ended, with its exit code and duration; at `-vv` its output follows. Host strings (names,
 * arguments, output) are escaped. Pure: the CLI writes the lines to standard error.
 */
import { quoteArg } from '../host/quote.js';
import type { HostCommand, HostTransfer } from '../host/transport.js';
import { printable } from './escape.js';

/** Lines of output shown per stream and command at -vv (a facts run prints the running config). */
export const MAX_OUTPUT_LINES = 400;
/** At -v, an argument longer than this (a script given to `sh -c`) is cut; -vv shows it whole. */
const MAX_ARG = 160;

/** An argument as sh would read it back, escaped for the terminal. */
function shown(arg: string, whole: boolean): string {
  const long = !whole && arg.length > MAX_ARG;
  const cut = long ? arg.slice(0, 120) : arg;
  // quoteArg refuses a NUL byte (no command carries one): shown as an escape instead.
  const q = printable(cut.includes('\0') ? JSON.stringify(cut) : quoteArg(cut));
  return long ? `${q}…[${arg.length - 120} more]` : q;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function outputLines(stream: 'out' | 'err', text: string): string[] {
  if (text === '') return [];
  const lines = text.replace(/\n$/, '').split('\n');
  const shownLines = lines.slice(0, MAX_OUTPUT_LINES).map((l) => `    ${stream}| ${printable(l)}`);
  if (lines.length > MAX_OUTPUT_LINES)
    shownLines.push(`    ${stream}| … ${lines.length - MAX_OUTPUT_LINES} more lines`);
  return shownLines;
}

/** The lines of one command at verbosity `level` (1: the command, 2: and its output). */
export function commandLog(c: HostCommand, level: number): string[] {
  const extras = [
    c.sudo ? 'as root' : '',
    c.stdinBytes === null ? '' : `stdin ${c.stdinBytes} bytes`,
    c.envNames.length ? `env ${c.envNames.map(printable).join(', ')}` : '',
  ].filter(Boolean);
  const head = `${printable(c.host)} $ ${c.argv.map((a) => shown(a, level >= 2)).join(' ')}${extras.length ? ` (${extras.join('; ')})` : ''}`;
  if ('error' in c.outcome) return [`${head} → failed after ${seconds(c.ms)}: ${printable(c.outcome.error)}`];
  const r = c.outcome.result;
  const lines = [`${head} → exit ${r.code} in ${seconds(c.ms)}`];
  if (level >= 2) lines.push(...outputLines('out', r.stdout), ...outputLines('err', r.stderr));
  return lines;
}

/** The line of one file copied to or read from a host. */
export function transferLog(t: HostTransfer): string {
  const verb = t.op === 'get' ? 'read' : 'wrote';
  const size = t.bytes === null ? '' : ` (${t.bytes} bytes)`;
  const head = `${printable(t.host)} ${verb} ${printable(t.path)}${size}`;
  return t.error === undefined
    ? `${head} in ${seconds(t.ms)}`
    : `${head} → failed after ${seconds(t.ms)}: ${printable(t.error)}`;
}
