/** Reading the kernelfile a command names: bounded, with errors a user can act on. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_BYTES } from '../spec/load.js';
import type { Env } from './env.js';
import { UserError } from './errors.js';

/** How a kernelfile read from standard input is named (it has no path: nothing beside it, no lock). */
export const STDIN_DISPLAY = '<stdin>';
export interface KernelfileBytes {
  /** As the user named it (for messages). */
  display: string;
  abs: string;
  bytes: Uint8Array;
  size: number;
}

export const DEFAULT_KERNELFILE = 'kernelfile.yaml';

export async function readKernelfile(file: string | undefined, io: Env): Promise<KernelfileBytes> {
  if (file === '-') {
    if (!io.readStdin)
      throw new UserError('`-` reads the kernelfile from standard input, which this caller does not provide');
    const bytes = await io.readStdin();
    return { display: STDIN_DISPLAY, abs: resolve(io.cwd, 'stdin.yaml'), bytes, size: bytes.length };
  }
  const display = file ?? DEFAULT_KERNELFILE;
  const abs = resolve(io.cwd, display);
  let size: number;
  try {
    const st = statSync(abs);
    if (st.isDirectory()) {
      throw new UserError(
        `${display} is a directory`,
        `name the kernelfile inside it, e.g. ${display.replace(/\/$/, '')}/${DEFAULT_KERNELFILE}`,
      );
    }
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserError(
        `cannot read ${display}: no such file`,
        file
          ? 'check the path'
          : `run in the directory that holds ${DEFAULT_KERNELFILE}, or pass the kernelfile's path`,
      );
    throw new UserError(`cannot read ${display}: ${(e as Error).message}`);
  }
  // Never read more than the limit (+1 byte, so the size check in load() fires).
  const want = Math.min(size, MAX_BYTES + 1);
  const bytes = Buffer.alloc(want);
  let fd: number | undefined;
  try {
    fd = openSync(abs, 'r');
    let got = 0;
    while (got < want) {
      const n = readSync(fd, bytes, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
    return { display, abs, bytes: bytes.subarray(0, got), size };
  } catch (e) {
    throw new UserError(`cannot read ${display}: ${(e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
