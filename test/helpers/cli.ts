/** Running the installed CLI (bin/kernelfile.cjs → dist/bundle/) as a user does, for end-to-end tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_BUILD_CACHE } from './kernel-artifacts.js';

export const BIN = fileURLToPath(new URL('../../bin/kernelfile.cjs', import.meta.url));

export interface Cli {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Called with each line of stderr as it arrives, and the process (e.g. to kill it at a step). */
  onErrLine?: (line: string, p: ChildProcess) => void;
}

/** Run the CLI with the tests' build cache and no colour; resolves when it exits. */
export function kernelfile(args: string[], opts: CliOptions = {}): Promise<Cli> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, XDG_CACHE_HOME: TEST_BUILD_CACHE, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let partial = '';
    p.stdout?.on('data', (d) => {
      out += d;
    });
    p.stderr?.on('data', (d) => {
      err += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.onErrLine?.(l, p);
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}
