/** What a command may do to the terminal; main.ts makes the real one, tests make their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Colour on stdout/stderr (a terminal, and NO_COLOR unset). */
  color: boolean;
  cwd: string;
  env: Record<string, string | undefined>;
  readStdin(): Promise<Buffer>;
  /** Standard input is a terminal (kernelfile may ask), standard error is one (live progress). */
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Ask a question on the terminal (stderr) and read one line of answer. */
  ask(question: string): Promise<string>;
  /** `-v` (1): each command run on a host; `-vv` (2): and its output, on standard error. */
  verbose?: number;
  /** `--debug`: stack traces with every error. */
  debug?: boolean;
  /** The clock the `generatedAt` of JSON documents is read from (default: now); tests fix it. */
  now?: () => Date;
}

/** A command's outcome: the exit code main.ts passes to process.exit. */
/** 0 success, 1 error, 2 changes pending; `status` uses 2–8 for host states (src/cli/help.ts). */
export type ExitCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export { UserError } from '../engine/errors.js';
