/**
 * The real-host harness (test/helpers/rootfs.ts, sshd.ts) against the real OpenSSH client: what
 * later suites rely on when they converge real hosts over SSH. Needs root and the packages of
 * scripts/install-deps.sh --tests; the first run builds the Debian root (about a minute, then cached).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcResult, pidAlive, run } from '../helpers/proc.js';
import { ensureDebianRoot } from '../helpers/rootfs.js';
import { portOpen, type SshHost, startSshAgent, startSshHost } from '../helpers/sshd.js';

const SETUP_TIMEOUT = 20 * 60_000;

let base: string;
let host: SshHost;
let scratch: string;
let knownHosts: string;

/** The real ssh client, isolated from this machine's ssh configuration and known_hosts. */
function sshOpts(kh: string, identity?: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${kh}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=10',
    ...(identity ? ['-i', identity] : []),
  ];
}

function ssh(
  h: SshHost,
  user: string,
  identity: string,
  command: string,
  opts: { kh?: string; stdin?: string; extra?: string[] } = {},
): Promise<ProcResult> {
  return run(
    [
      'ssh',
      ...sshOpts(opts.kh ?? knownHosts, identity),
      ...(opts.extra ?? []),
      '-p',
      String(h.port),
      '-l',
      user,
      h.host,
      '--',
      command,
    ],
    { timeoutMs: 60_000, ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }) },
  );
}

function writeKnownHosts(h: SshHost, name: string): string {
  const p = join(scratch, name);
  writeFileSync(p, `${h.knownHostsLine()}\n`);
  return p;
}

/** Every mountinfo line, in every mount namespace of this machine, that mentions `path`. */
function mountsMentioning(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let info = '';
    try {
      info = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    for (const line of info.split('\n')) if (line.includes(path)) found.push(`pid ${pid}: ${line}`);
  }
  return found;
}

const initPidOf = (h: SshHost) => Number(/^\/proc\/(\d+)\/root$/.exec(h.root)?.[1]);

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'kernelfile-harness-test-'));
  base = await ensureDebianRoot();
  const t = Date.now();
  host = await startSshHost({ hostname: 'kf-harness' });
  console.log(`[kernelfile-tests] one SSH host up in ${Date.now() - t} ms`);
  knownHosts = writeKnownHosts(host, 'known_hosts');
}, SETUP_TIMEOUT);

afterAll(async () => {
  await host?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the Debian test root', () => {
  it('is Debian 12 with sshd, sudo, dkms and the test users', () => {
    expect(readFileSync(join(base, 'etc/debian_version'), 'utf8')).toMatch(/^12\./);
    for (const f of [
      'usr/sbin/sshd',
      'usr/bin/sudo',
      'usr/sbin/dkms',
      'usr/sbin/update-initramfs',
      'run/sshd',
    ])
      expect(existsSync(join(base, f)), f).toBe(true);
    const passwd = readFileSync(join(base, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^alice:/m);
    expect(passwd).toMatch(/^bob:/m);
  });
});

describe('an SSH host, through the real OpenSSH client', () => {
  it('lets root in with its key: commands run inside the host, which is Debian 12', async () => {
    const r = await ssh(host, 'root', host.keys.root.privateKeyPath, 'uname -n; id -u; cat /etc/os-release');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [name, uid] = r.stdout.split('\n');
    expect(name).toBe('kf-harness');
    expect(name).not.toBe(hostname());
    expect(uid).toBe('0');
    expect(r.stdout).toMatch(/^ID=debian$/m);
    expect(r.stdout).toMatch(/^VERSION_ID="12"$/m);
  });

  it('gives alice sudo without a password', async () => {
    const r = await ssh(
      host,
      'alice',
      host.keys.alice.privateKeyPath,
      'id -un; sudo -n true && sudo -n id -u',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('alice\n0\n');
    expect(r.code).toBe(0);
  });

  it('makes bob give his password to sudo', async () => {
    const refused = await ssh(host, 'bob', host.keys.bob.privateKeyPath, 'sudo -n true');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('a password is required');
    const withPassword = await ssh(host, 'bob', host.keys.bob.privateKeyPath, "sudo -S -p '' id -u", {
      stdin: `${host.bobPassword}\n`,
    });
    expect(withPassword.stdout).toBe('0\n');
    expect(withPassword.code).toBe(0);
  });

  it('refuses the stranger key, and a user key for another user', async () => {
    const stranger = await ssh(host, 'root', host.keys.stranger.privateKeyPath, 'true');
    expect(stranger.code).toBe(255);
    expect(stranger.stderr).toMatch(/Permission denied \(publickey\)/);
    const wrongUser = await ssh(host, 'alice', host.keys.bob.privateKeyPath, 'true');
    expect(wrongUser.code).toBe(255);
    expect(wrongUser.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('logs in with a key held by ssh-agent', async () => {
    const agent = await startSshAgent([host.keys.alice]);
    try {
      const pub = join(scratch, 'alice.pub');
      writeFileSync(pub, `${host.keys.alice.publicKey}\n`);
      // -i with the public key: IdentitiesOnly lets ssh use the agent's matching private key only.
      const r = await ssh(host, 'alice', pub, 'id -un', { extra: ['-o', `IdentityAgent=${agent.socket}`] });
      expect(r.stdout).toBe('alice\n');
      expect(r.code).toBe(0);
    } finally {
      await agent.stop();
    }
    expect(existsSync(agent.socket)).toBe(false);
  });

  it('serves SFTP, and exec()/root see the same host files (not this machine)', async () => {
    const local = join(scratch, 'payload');
    writeFileSync(local, 'over sftp\n');
    const batch = join(scratch, 'batch');
    writeFileSync(batch, `put ${local} /root/payload\n`);
    const sftp = await run(
      [
        'sftp',
        ...sshOpts(knownHosts, host.keys.root.privateKeyPath),
        '-P',
        String(host.port),
        '-b',
        batch,
        `root@${host.host}`,
      ],
      { timeoutMs: 60_000 },
    );
    expect(sftp.stderr).not.toMatch(/subsystem request failed|Connection closed/);
    expect(sftp.code).toBe(0);
    expect(await readFile(`${host.root}/root/payload`, 'utf8')).toBe('over sftp\n');

    const marker = `/tmp/kernelfile-harness-${process.pid}`;
    await writeFile(`${host.root}${marker}`, 'inside\n');
    const r = await host.exec(['sh', '-c', `cat ${marker}; hostname; id -u`]);
    expect(r).toEqual({ code: 0, stdout: 'inside\nkf-harness\n0\n', stderr: '' });
    expect(existsSync(marker)).toBe(false);
    expect((await host.exec(['cat'], { stdin: 'piped' })).stdout).toBe('piped');
    expect((await host.exec(['false'])).code).toBe(1);
  });

  it('mounts nothing in this machine’s mount namespace, and gives the host no disks', async () => {
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(host.tmpDir);
    // The detector used after stop() does see the host's mounts while it runs.
    expect(mountsMentioning(host.tmpDir).length).toBeGreaterThan(0);
    const dev = await host.exec(['ls', '/dev']);
    expect(dev.stdout.split('\n').filter((n) => /^(sd|vd|nvme|xvd|loop|mem|kmsg)/.test(n))).toEqual([]);
  });

  it('restartWithNewHostKey(): same port, another key; strict host key checking then fails', async () => {
    const { port, hostKeyPublic: before } = host;
    await host.restartWithNewHostKey();
    expect(host.port).toBe(port);
    expect(host.hostKeyPublic).not.toBe(before);
    const stale = await ssh(host, 'root', host.keys.root.privateKeyPath, 'true');
    expect(stale.code).toBe(255);
    expect(stale.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    const fresh = await ssh(host, 'root', host.keys.root.privateKeyPath, 'uname -n', {
      kh: writeKnownHosts(host, 'known_hosts.new'),
    });
    expect(fresh.stdout).toBe('kf-harness\n');
    expect(fresh.code).toBe(0);
  });
});

describe('stopping and killing hosts', () => {
  /** Start `ssh … 'echo up; sleep 600'` and resolve once it printed "up". */
  async function openSession(h: SshHost, kh: string): Promise<ChildProcess> {
    const p = spawn(
      'ssh',
      [
        ...sshOpts(kh, h.keys.root.privateKeyPath),
        '-p',
        String(h.port),
        `root@${h.host}`,
        'echo up; exec sleep 600',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      p.stdout?.on('data', (b: Buffer) => b.toString().includes('up') && resolve());
      p.on('exit', (c) => reject(new Error(`ssh exited with ${c}`)));
    });
    return p;
  }

  function exitOf(p: ChildProcess): Promise<number | null> {
    return new Promise((resolve) => {
      if (p.exitCode !== null) resolve(p.exitCode);
      else p.on('exit', (c) => resolve(c));
    });
  }

  async function expectGone(h: SshHost, initPid: number): Promise<void> {
    expect(pidAlive(initPid)).toBe(false);
    expect(mountsMentioning(h.tmpDir)).toEqual([]);
    expect(existsSync(h.tmpDir)).toBe(false);
    expect(await portOpen(h.port)).toBe(false);
  }

  it('stop() ends every process and mount of the host and closes its port, sessions open or not', async () => {
    const h = await startSshHost();
    const initPid = initPidOf(h);
    const session = await openSession(h, writeKnownHosts(h, 'kh-stop'));
    expect(mountsMentioning(h.tmpDir).length).toBeGreaterThan(0);
    await h.stop();
    await h.stop(); // idempotent
    expect(await exitOf(session)).toBe(255);
    await expectGone(h, initPid);
  });

  it('kill() drops an open connection at once; stop() cleans up after it', async () => {
    const h = await startSshHost();
    const initPid = initPidOf(h);
    const session = await openSession(h, writeKnownHosts(h, 'kh-kill'));
    const t = Date.now();
    h.kill();
    expect(await exitOf(session)).toBe(255);
    expect(Date.now() - t).toBeLessThan(5000);
    await h.stop();
    await expectGone(h, initPid);
  });

  it('runs several hosts at once, each with its own port, name, keys and files', async () => {
    const t = Date.now();
    const hosts = await Promise.all([1, 2, 3].map((i) => startSshHost({ hostname: `kf-multi-${i}` })));
    console.log(`[kernelfile-tests] 3 SSH hosts up in parallel in ${Date.now() - t} ms`);
    try {
      expect(new Set(hosts.map((h) => h.port)).size).toBe(3);
      await writeFile(`${hosts[0]?.root}/etc/only-on-1`, '1\n');
      const out = await Promise.all(
        hosts.map((h, i) =>
          ssh(h, 'root', h.keys.root.privateKeyPath, 'uname -n; ls /etc/only-on-1 2>/dev/null || :', {
            kh: writeKnownHosts(h, `kh-multi-${i}`),
          }),
        ),
      );
      expect(out.map((r) => r.stdout)).toEqual([
        'kf-multi-1\n/etc/only-on-1\n',
        'kf-multi-2\n',
        'kf-multi-3\n',
      ]);
      // Keys are per host: host 1's root key does not open host 2.
      const cross = await ssh(
        hosts[1] as SshHost,
        'root',
        hosts[0]?.keys.root.privateKeyPath as string,
        'true',
        {
          kh: join(scratch, 'kh-multi-1'),
        },
      );
      expect(cross.code).toBe(255);
    } finally {
      await Promise.all(hosts.map((h) => h.stop()));
    }
  });
});
