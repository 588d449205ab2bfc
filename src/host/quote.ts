/**
 * Quoting for POSIX sh, in one place. SSH runs a command *line* through the remote user's shell,
 * so every argv that crosses SSH is built here; nothing else in kernelfile joins arguments.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One argument, quoted so that sh reads it back as exactly this string. */
export function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL byte');
  if (arg !== '' && SAFE.test(arg)) return arg;
  // Inside single quotes nothing is special except the quote itself: end, escaped quote, reopen.
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line that sh splits back into exactly `argv`. */
export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(quoteArg).join(' ');
}

/** Wrap argv with `env NAME=value` when variables are given (no reliance on the server's AcceptEnv). */
export function withEnv(argv: readonly string[], env: Record<string, string> | undefined): string[] {
  if (!env || Object.keys(env).length === 0) return [...argv];
  for (const k of Object.keys(env))
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not an environment variable name: ${k}`);
  return ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv];
}
