/** The CLI run in this process (src/cli/main.ts) as a user of a test directory runs it. */
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { fakeIo } from './io.js';

/**
 * `kernelfile ARGS` with `dir` as the working and home directory and its `cache/` as XDG_CACHE_HOME
 * (so a test's builds, running configs and known hosts stay in it).
 */
export async function cliIn(
  dir: string,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const io = fakeIo(dir, { env: { HOME: dir, USER: 'kf-test', XDG_CACHE_HOME: join(dir, 'cache') } });
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}
