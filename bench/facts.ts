/**
 * Facts over SSH to real sshd hosts on 127.0.0.1 (the test harness), against OpenSSH's own client
 * running `true` on the same hosts: connect + gather for one host, and for 10 hosts in parallel.
 * Goals (issue "Hosts"): one host ≤ 0.3 s, 10 hosts ≤ 1 s.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gather } from '../src/facts/gather.js';
import { openHost } from '../src/host/open.js';
import { type SshHost, startSshHost } from '../test/helpers/sshd.js';
import { sideBySide } from './lib.js';

function sshTrue(h: SshHost, kh: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      'ssh',
      [
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${kh}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-i',
        h.keys.root.privateKeyPath,
        '-p',
        String(h.port),
        'root@127.0.0.1',
        'true',
      ],
      { stdio: 'ignore' },
    );
    p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`ssh exited ${c}`))));
  });
}

export async function benchFacts(root: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kf-bench-'));
  const hosts = await Promise.all(Array.from({ length: 10 }, () => startSshHost()));
  try {
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `${hosts.map((h) => h.knownHostsLine()).join('\n')}\n`);
    const opts = (h: SshHost) => ({
      sshConfig: 'none',
      knownHosts: [kh],
      identities: [h.keys.root.privateKeyPath],
      env: { HOME: dir, USER: 'bench' },
    });
    const gatherOne = async (h: SshHost) => {
      const t = await openHost(`ssh://root@127.0.0.1:${h.port}`, opts(h));
      try {
        await gather(t);
      } finally {
        await t.close();
      }
    };
    const first = hosts[0] as SshHost;
    await gatherOne(first); // warm the JIT the way a long run would be
    await sideBySide(
      'connect + gather facts, 1 host (in process)',
      'ssh root@host true (OpenSSH)',
      () => sshTrue(first, kh),
      () => gatherOne(first),
      15,
    );
    await sideBySide(
      'connect + gather facts, 10 hosts in parallel',
      'ssh … true ×10 in parallel',
      () => Promise.all(hosts.map((h) => sshTrue(h, kh))),
      () => Promise.all(hosts.map(gatherOne)),
      10,
    );
    const bin = `${root}bin/kernelfile.cjs`;
    await sideBySide(
      'kernelfile facts --host ssh://… --json (CLI)',
      'ssh root@host true (OpenSSH)',
      () => sshTrue(first, kh),
      () => {
        const r = spawnSync(process.execPath, [
          bin,
          'facts',
          '--json',
          '--host',
          `ssh://root@127.0.0.1:${first.port}`,
          '--ssh-config',
          'none',
          '--known-hosts',
          kh,
          '-i',
          first.keys.root.privateKeyPath,
        ]);
        if (r.status !== 0) throw new Error(String(r.stderr));
      },
      10,
    );
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
