/**
 * A converged host costs one round trip (issue 15: "re-apply of a converged host: one round trip,
 * 0 mutating commands"): `kernelfile plan` and `kernelfile apply` of the kernelfile the host already
 * runs open one SSH connection each and run one command over it (the facts script), and the
 * re-applies change no file on the host. sshd logs every login and session (LogLevel VERBOSE); the
 * host's files are compared by mtime against a mark (`find / -xdev -newer MARK`).
 *
 * The host is a fresh Debian root (test/helpers/sshd.ts) converged once with examples/qemu-tiny,
 * whose build comes from the tests' build cache (test/helpers/kernel-artifacts.ts).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelfile } from '../helpers/cli.js';
import {
  countSshdSessions,
  filesChangedSince,
  type SshdSessions,
  sshdLogSince,
  sshTarget,
} from '../helpers/host-state.js';
import { EXAMPLE, ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { ensureDebianRoot } from '../helpers/rootfs.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';

let dir: string;
let h: SshHost;
let ssh: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-converged-'));
  await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  h = await startSshHost({ hostname: 'kf-converged', sshdConfig: ['LogLevel VERBOSE'] });
  ssh = sshTarget(h, dir);
});

afterAll(async () => {
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run the CLI; what sshd logged about it. */
async function counted(args: string[]): Promise<{ code: number | null; out: string; s: SshdSessions }> {
  const before = h.log();
  const r = await kernelfile(args);
  await new Promise((res) => setTimeout(res, 300)); // sshd's last lines
  return { code: r.code, out: r.out + r.err, s: countSshdSessions(sshdLogSince(h, before)) };
}

describe('a converged host: one round trip, nothing changed', () => {
  it('the first apply converges the host (several commands and SFTP sessions over one connection)', async () => {
    const r = await counted(['apply', EXAMPLE, ...ssh, '--yes']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/Apply complete: 5 changes/);
    // The counting sees what it should: the first apply does much more than gather facts.
    expect(r.s.connections).toBe(1);
    expect(r.s.commands + r.s.sftp).toBeGreaterThan(2);
  });

  it('a re-apply: one connection, one command, no SFTP, and no file on the host changed', async () => {
    const mark = '/run/kf-e2e-mark';
    await h.exec(['touch', mark]);
    await new Promise((r) => setTimeout(r, 20)); // a later mtime than the mark
    for (let i = 0; i < 2; i++) {
      const r = await counted(['apply', EXAMPLE, ...ssh, '--yes']);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('No changes. The host matches the kernelfile.');
      expect(r.s, r.out).toEqual({ connections: 1, commands: 1, sftp: 0 });
    }
    expect(await filesChangedSince(h, mark)).toEqual([]);
  });

  it('plan: one connection, one command, exit 0 with --detailed-exitcode', async () => {
    const r = await counted(['plan', EXAMPLE, ...ssh, '--detailed-exitcode']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('No changes. The host matches the kernelfile.');
    expect(r.s).toEqual({ connections: 1, commands: 1, sftp: 0 });
  });

  it('the committed kernelfile.lock round-trips unchanged through the no-op plan, and --locked passes', async () => {
    const lockFile = join(dirname(EXAMPLE), 'kernelfile.lock');
    const before = readFileSync(lockFile);
    const r = await counted(['plan', EXAMPLE, ...ssh, '--locked']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('No changes. The host matches the kernelfile.');
    expect(r.out).not.toMatch(/kernelfile\.lock/);
    expect(r.s).toEqual({ connections: 1, commands: 1, sftp: 0 });
    expect(readFileSync(lockFile).equals(before)).toBe(true);
  });

  it('a changed patch: plan --locked refuses, naming it; nothing on the host changed', async () => {
    const copy = join(dir, 'tiny');
    cpSync(dirname(EXAMPLE), copy, { recursive: true });
    const patch = join(copy, 'patches/0001-init-announce-kernelfile-build.patch');
    writeFileSync(patch, `${readFileSync(patch, 'utf8')}-- \nchanged after the lock\n`);
    const mark = '/run/kf-e2e-mark-locked';
    await h.exec(['touch', mark]);
    await new Promise((r) => setTimeout(r, 20));
    const r = await counted(['plan', join(copy, 'kernelfile.yaml'), ...ssh, '--locked']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(
      /patches\/0001-init-announce-kernelfile-build\.patch changed: sha256 [0-9a-f]{12}… → [0-9a-f]{12}…/,
    );
    expect(r.out).toContain('--locked: the lock does not hold; nothing was built or changed');
    expect(r.s.sftp).toBe(0);
    expect(await filesChangedSince(h, mark)).toEqual([]);
  });

  it('an invalid kernelfile is refused, though its connection started early: nothing on the host changed', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: kernelfile/v1\nname: bad\n');
    const mark = '/run/kf-e2e-mark-invalid';
    await h.exec(['touch', mark]);
    await new Promise((r) => setTimeout(r, 20));
    const r = await counted(['plan', bad, ...ssh]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('bad.yaml is not valid: fix it first');
    expect(r.s.sftp).toBe(0);
    expect(await filesChangedSince(h, mark)).toEqual([]);
  });
});
