/**
 * `kernelfile -v` / `-vv` as a user runs them: each command run on the host on standard error with
 * its exit code and time (and, at -vv, its output), the command's own output unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { sshTarget } from '../helpers/host-state.js';
import { fakeIo } from '../helpers/io.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';

let dir: string;
let h: SshHost;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-verbose-'));
  h = await startSshHost();
}, 300_000);
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const io = fakeIo(dir, { env: { HOME: dir, USER: 'kf-test', PATH: process.env.PATH ?? '' } });
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('kernelfile -v, -vv', () => {
  it('without -v: nothing about commands on standard error', async () => {
    const r = await cli('facts', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });

  it('-v: the facts command (one round trip), its exit code and time; stdout is still the document', async () => {
    const r = await cli('-v', 'facts', '--json');
    expect(r.code).toBe(0);
    expect(jsonOutput(r.out, 'facts')).toMatchObject({ kind: 'kernelfile-facts' });
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^local \$ sh -s \(stdin \d+ bytes\) → exit 0 in \d+\.\d\d s$/);
  });

  it('-vv (after the command, too): and its output, line by line', async () => {
    const r = await cli('facts', '-vv', '--json');
    expect(r.code).toBe(0);
    const lines = r.err.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^local \$ sh -s \(stdin \d+ bytes\) → exit 0/);
    expect(lines.slice(1).every((l) => /^ {4}(out|err)\| /.test(l))).toBe(true);
    // The facts script prints the release this machine runs, as the facts report it.
    const release = jsonOutput(r.out, 'facts').system.running;
    expect(lines).toContain(`    out| ${release}`);
  });

  it('-v over SSH: the command as the host ran it, named by the host', async () => {
    const r = await cli('-v', 'facts', '--json', ...sshTarget(h, dir));
    expect(r.code).toBe(0);
    expect(r.err.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^ssh://root@127\\.0\\.0\\.1:${h.port} \\$ sh -s \\(stdin \\d+ bytes\\) → exit 0 in \\d+\\.\\d\\d s$`,
        ),
      ),
    ]);
  });
});
