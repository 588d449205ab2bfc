/**
 * Setup file of the unit project: unit tests are pure (no processes, no kernel build, no sshd or
 * QEMU). Every way node:child_process has of starting a process is replaced by one that throws,
 * before any test module loads; `syncBuiltinESMExports` carries the replacement into the ESM named
 * exports too, so `import { spawn } from 'node:child_process'` and execa (which calls spawn) are
 * caught as well. Code that catches the error (execa with `reject: false`, runLocal) would hide
 * it: every attempt is also recorded, and the test that made it fails afterwards. A test that
 * needs a process belongs in test/integration (or test/e2e if it builds a kernel).
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { afterAll, afterEach } from 'vitest';

export const PURE_MESSAGE = 'unit tests are pure: move this test to test/integration';

/** Where the attempts are kept: on globalThis, so test/unit/pure.test.ts sees the same list. */
export const ATTEMPTS = Symbol.for('kernelfile.unit.processAttempts');
type WithAttempts = typeof globalThis & { [ATTEMPTS]?: string[] };
const shared = globalThis as WithAttempts;
shared[ATTEMPTS] ??= [];
const attempts: string[] = shared[ATTEMPTS];

/** The CommonJS exports object: the one object every importer of node:child_process reads from. */
const childProcess = createRequire(import.meta.url)('node:child_process') as Record<string, unknown>;

const STARTERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

function refuse(name: string) {
  return (...args: unknown[]): never => {
    const what = [args[0], ...(Array.isArray(args[1]) ? args[1] : [])]
      .filter((a) => typeof a === 'string')
      .join(' ');
    const message = `${PURE_MESSAGE} (it called child_process.${name}: ${what})`;
    attempts.push(message);
    throw new Error(message);
  };
}

for (const name of STARTERS) childProcess[name] = refuse(name);
syncBuiltinESMExports();

function check(): void {
  if (attempts.length === 0) return;
  const seen = attempts.splice(0);
  throw new Error(seen.join('\n'));
}
afterEach(check);
afterAll(check);
