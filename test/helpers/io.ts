/** An Io that records what a command printed, for in-process CLI tests. */
import type { Io } from '../../src/cli/io.js';

export interface FakeIo extends Io {
  stdout: string;
  stderr: string;
}

export function fakeIo(
  cwd: string,
  opts: {
    stdin?: string;
    color?: boolean;
    env?: Record<string, string>;
    answer?: string;
    /** The clock of the documents' `generatedAt`. */
    now?: Date;
  } = {},
): FakeIo {
  const io: FakeIo = {
    stdout: '',
    stderr: '',
    out(t) {
      io.stdout += t;
    },
    err(t) {
      io.stderr += t;
    },
    color: opts.color ?? false,
    cwd,
    env: { HOME: '/nonexistent-home', ...opts.env },
    readStdin: async () => Buffer.from(opts.stdin ?? ''),
    // A terminal on standard input only when the test gives the answer to type.
    stdinIsTTY: opts.answer !== undefined,
    stderrIsTTY: false,
    ask: async (question) => {
      io.stderr += question;
      if (opts.answer === undefined) throw new Error('the command asked without a terminal');
      return opts.answer;
    },
    ...(opts.now ? { now: () => opts.now as Date } : {}),
  };
  return io;
}
