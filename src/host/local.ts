/** This machine: commands through execa (argv arrays, no shell), files through node:fs. */

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LOCAL_CAPABILITIES } from './kinds/local.js';
import { LineCollector } from './lines.js';
import { HostError, type RunOptions, type RunResult, type Transport } from './transport.js';

const isRoot = () => process.getuid?.() === 0;

/**
 * Where a program lives on this machine, without running anything: `cmd` itself when it names a
 * path, else the first directory of PATH (then of `extraDirs`) holding it; null when none does.
 */
export function onPath(cmd: string, extraDirs: readonly string[] = []): string | null {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : null;
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...extraDirs]) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

/** Run argv on this machine; shared by the root-filesystem transport. */
export async function runLocal(
  argv: readonly string[],
  opts: RunOptions = {},
  /** The signal a timeout sends (the chroot transport's `unshare --fork` parent ignores SIGTERM). */
  killSignal: NodeJS.Signals = 'SIGTERM',
): Promise<RunResult> {
  const full = opts.sudo && !isRoot() ? ['sudo', '-n', '--', ...argv] : [...argv];
  const out = new LineCollector(opts.onLine && ((l) => opts.onLine?.(l, 'stdout')));
  const err = new LineCollector(opts.onLine && ((l) => opts.onLine?.(l, 'stderr')));
  // Loaded on first use: a plan that runs no local process (everything cached) never pays for it.
  const { execa } = await import('execa');
  const child = execa(full[0] as string, full.slice(1), {
    input: opts.stdin,
    stdin: opts.stdin === undefined ? 'ignore' : 'pipe',
    reject: false,
    timeout: opts.timeoutMs,
    killSignal,
    env: opts.env,
    extendEnv: true,
    stripFinalNewline: false,
    encoding: 'buffer',
    buffer: false,
  });
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  const r = await child;
  const stdout = out.end();
  let stderr = err.end();
  let code: number;
  if (r.timedOut) {
    code = 124;
    stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}kernelfile: timed out after ${opts.timeoutMs} ms\n`;
  } else if (typeof r.exitCode === 'number') code = r.exitCode;
  else if (r.signal) code = 128 + (signalNumber(r.signal) ?? 0);
  else {
    // Could not start: report it the way a shell does.
    code = 127;
    stderr += `${full[0]}: ${r.cause instanceof Error ? r.cause.message : 'command not found'}\n`;
  }
  return { code, stdout, stderr };
}

function signalNumber(name: string): number | undefined {
  const n = (
    {
      SIGHUP: 1,
      SIGINT: 2,
      SIGQUIT: 3,
      SIGABRT: 6,
      SIGKILL: 9,
      SIGSEGV: 11,
      SIGPIPE: 13,
      SIGTERM: 15,
    } as Record<string, number>
  )[name];
  return n;
}

/** Run argv with a file as standard input, returning standard output as bytes (file transfers). */
export async function execBytes(
  argv: readonly string[],
  input: { file?: string; data?: string | Buffer } = {},
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const { execa } = await import('execa');
  const r = await execa(argv[0] as string, argv.slice(1), {
    ...(input.file !== undefined
      ? { inputFile: input.file }
      : input.data !== undefined
        ? { input: input.data }
        : { stdin: 'ignore' as const }),
    reject: false,
    encoding: 'buffer',
    stripFinalNewline: false,
    maxBuffer: 4 * 1024 * 1024 * 1024,
  });
  return {
    code: typeof r.exitCode === 'number' ? r.exitCode : 127,
    stdout: Buffer.from(r.stdout as Uint8Array),
    stderr: Buffer.from(r.stderr as Uint8Array).toString('utf8'),
  };
}

/** Write atomically: a temp file beside the target, then rename over it. */
export async function atomicWrite(
  target: string,
  write: (tmp: string) => Promise<void>,
  mode?: number,
): Promise<void> {
  const tmp = join(dirname(target), `.${basename(target)}.kf-${randomBytes(6).toString('hex')}`);
  try {
    await write(tmp);
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export class LocalTransport implements Transport {
  readonly name = 'local';
  readonly kind = 'local' as const;
  readonly capabilities = LOCAL_CAPABILITIES;

  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    return runLocal(argv, opts);
  }

  async put(localPath: string, remotePath: string, mode?: number): Promise<void> {
    await this.fileOp(remotePath, () => atomicWrite(remotePath, (tmp) => copyFile(localPath, tmp), mode));
  }

  async write(remotePath: string, data: string | Buffer, mode?: number): Promise<void> {
    await this.fileOp(remotePath, () => atomicWrite(remotePath, (tmp) => writeFile(tmp, data), mode));
  }

  async get(remotePath: string): Promise<Buffer> {
    return this.fileOp(remotePath, () => readFile(remotePath));
  }

  async close(): Promise<void> {}

  private async fileOp<T>(path: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw new HostError(this.name, 'io', `${path}: ${(e as Error).message}`);
    }
  }
}
