/**
 * A build that fails is reported once: the progress (on standard error, as a user sees it: the
 * CLI runs as a process) shows its stage, the command prints the error with its hint after it, not
 * the progress too. Here `make kernelversion` fails in a source tree that only looks like a kernel
 * (no kernel build needed).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-build-errors-'));
  mkdirSync(join(dir, 'linux-6.1.1'));
  writeFileSync(join(dir, 'linux-6.1.1', 'Kconfig'), '');
  writeFileSync(join(dir, 'linux-6.1.1', 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 1\n');
  writeFileSync(
    join(dir, 'cli.mjs'),
    `const { runCli } = await import(${JSON.stringify(MAIN)});\nawait runCli();\n`,
  );
  writeFileSync(
    join(dir, 'kernelfile.yaml'),
    `apiVersion: kernelfile/v1
name: broken
kernel:
  version: "6.1.1"
  source: {path: linux-6.1.1}
build:
  cacheDir: ${join(dir, 'cache')}
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a failed build', () => {
  it.each([[[]], [['--config-only']]])(
    'build %j: the error once, after the stage it stopped',
    async (extra) => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', join(dir, 'cli.mjs'), 'build', ...extra, join(dir, 'kernelfile.yaml')],
        {
          cwd: ROOT, // where tsx is found
          encoding: 'utf8',
          env: { ...process.env, HOME: dir, NO_COLOR: '1' },
        },
      );
      expect(r.status).toBe(1);
      const message =
        "kernelfile: `make kernelversion` failed in the source: make: *** No rule to make target 'kernelversion'.  Stop.";
      expect(r.stderr).toContain(message);
      expect(r.stderr.split('No rule to make target').length).toBe(2);
      const stage = r.stderr.indexOf('Source, patches and Kconfig resolution');
      expect(stage).toBeGreaterThanOrEqual(0);
      expect(stage).toBeLessThan(r.stderr.indexOf(message));
      expect(r.stderr).not.toContain('Compile and collect artifacts');
    },
  );
});
