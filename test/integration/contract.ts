/**
 * The Transport contract: the same cases for every kind of host. Each host kind provides a
 * Transport and a scratch directory *on that host* (paths as the host sees them).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/host/transport.js';

export interface ContractHost {
  t: Transport;
  /** A writable directory on the host, as the host sees it. */
  scratch: string;
  /** Whether `sudo: true` makes the command run as root on this host. */
  sudoBecomesRoot: boolean;
  stop(): Promise<void>;
}

export function transportContract(kind: string, open: () => Promise<ContractHost>): void {
  describe(`Transport contract: ${kind}`, () => {
    let h: ContractHost;
    let local: string;
    beforeAll(async () => {
      h = await open();
      local = mkdtempSync(join(tmpdir(), 'kf-contract-'));
    }, 300_000);
    afterAll(async () => {
      await h?.stop();
      rmSync(local, { recursive: true, force: true });
    });

    it('runs argv and returns exit code, stdout and stderr separately', async () => {
      const r = await h.t.run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(r).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
      expect((await h.t.run(['true'])).code).toBe(0);
    });

    it('passes every argument through exactly (spaces, quotes, $, backticks, newlines, non-ASCII)', async () => {
      const args = ['a b', "it's", '"q"', '$HOME', '`id`', 'two\nlines', 'ünï 🐧', '', '*', ';reboot'];
      const r = await h.t.run(['printf', '%s\\0', ...args]);
      expect(r.stdout.split('\0').slice(0, -1)).toEqual(args);
    });

    it('feeds standard input', async () => {
      expect((await h.t.run(['cat'], { stdin: 'line 1\nline 2\n' })).stdout).toBe('line 1\nline 2\n');
      expect((await h.t.run(['wc', '-c'], { stdin: Buffer.alloc(300_000, 0x61) })).stdout.trim()).toBe(
        '300000',
      );
    });

    it('sets environment variables', async () => {
      expect((await h.t.run(['sh', '-c', 'printf %s "$KF_X"'], { env: { KF_X: "a 'b' $c" } })).stdout).toBe(
        "a 'b' $c",
      );
    });

    it('streams output lines as they come', async () => {
      const lines: string[] = [];
      await h.t.run(['sh', '-c', 'echo one; echo two >&2; printf three'], {
        onLine: (l, s) => lines.push(`${s}:${l}`),
      });
      expect(lines.sort()).toEqual(['stderr:two', 'stdout:one', 'stdout:three']);
    });

    it('reports a missing command as 127 and a timeout as 124', async () => {
      expect((await h.t.run(['kf-no-such-command'])).code).toBe(127);
      const r = await h.t.run(['sleep', '10'], { timeoutMs: 300 });
      expect(r.code).toBe(124);
      expect(r.stderr).toMatch(/timed out after 300 ms/);
    });

    it('runs as root with sudo', async () => {
      const r = await h.t.run(['id', '-u'], { sudo: true });
      expect(r.code).toBe(0);
      if (h.sudoBecomesRoot) expect(r.stdout.trim()).toBe('0');
    });

    it('puts a file with its mode and gets it back byte for byte', async () => {
      const src = join(local, 'blob');
      const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
      writeFileSync(src, bytes);
      const dst = `${h.scratch}/dir with space/it's.bin`;
      await h.t.run(['mkdir', '-p', `${h.scratch}/dir with space`]);
      await h.t.put(src, dst, 0o640);
      expect((await h.t.get(dst)).equals(bytes)).toBe(true);
      expect((await h.t.run(['stat', '-c', '%a', dst])).stdout.trim()).toBe('640');
    });

    it('writes atomically: replaces the target, leaves no temp file beside it', async () => {
      const dst = `${h.scratch}/atomic.txt`;
      await h.t.write(dst, 'first\n');
      await h.t.write(dst, 'second\n', 0o600);
      expect((await h.t.get(dst)).toString()).toBe('second\n');
      expect(
        (await h.t.run(['ls', '-A', h.scratch])).stdout.split('\n').filter((f) => f.includes('kf-')),
      ).toEqual([]);
      expect((await h.t.run(['stat', '-c', '%a', dst])).stdout.trim()).toBe('600');
    });

    it('fails a transfer to a missing directory with an error naming the host and path', async () => {
      await expect(h.t.write(`${h.scratch}/no/such/dir/x`, 'x')).rejects.toThrow(
        new RegExp(`${h.t.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*no/such/dir/x`),
      );
      await expect(h.t.get(`${h.scratch}/missing`)).rejects.toThrow(/missing/);
    });
  });
}
