/**
 * SSH hosts in network namespaces of their own (startSshHost({ netns: true })), what the fleet
 * end-to-end test stands on: each host has its own address and name, is reached over its veth pair
 * with the real OpenSSH client, can be taken off the network and put back while it runs, and leaves
 * no namespace, veth or route behind, also when the test process is killed (the next run sweeps).
 * Needs root, iproute2 and the packages of scripts/install-deps.sh --tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidAlive, run, sweepStale } from '../helpers/proc.js';
import { ensureDebianRoot } from '../helpers/rootfs.js';
import { portOpen, type SshHost, startSshHost, sweepStaleNetns } from '../helpers/sshd.js';

const SETUP_TIMEOUT = 20 * 60_000;
const REPO = fileURLToPath(new URL('../..', import.meta.url));

let scratch: string;
let hosts: SshHost[] = [];

/** The real ssh client against host h, isolated from this machine's ssh configuration. */
function ssh(h: SshHost, command: string, opts: { connectTimeout?: number } = {}) {
  const kh = join(scratch, `kh-${h.hostname}`);
  writeFileSync(kh, `${h.knownHostsLine()}\n`);
  return run(
    [
      'ssh',
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
      `ConnectTimeout=${opts.connectTimeout ?? 10}`,
      '-i',
      h.keys.root.privateKeyPath,
      '-p',
      String(h.port),
      `root@${h.address}`,
      '--',
      command,
    ],
    { timeoutMs: 60_000 },
  );
}

const netnsList = async () => (await run(['ip', 'netns', 'list'])).stdout;
const links = async () => (await run(['ip', '-o', 'link', 'show'])).stdout;
const routes = async () => (await run(['ip', '-4', 'route', 'show', 'table', 'all'])).stdout;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'kf-netns-test-'));
  await ensureDebianRoot();
  const t = Date.now();
  hosts = await Promise.all([1, 2].map((i) => startSshHost({ netns: true, hostname: `kf-net-${i}` })));
  console.log(`[kernelfile-tests] 2 netns SSH hosts up in parallel in ${Date.now() - t} ms`);
}, SETUP_TIMEOUT);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('SSH hosts in network namespaces of their own', () => {
  it('have their own addresses (a /30 each, port 22) and names, and ssh reaches each one there', async () => {
    const [a, b] = hosts as [SshHost, SshHost];
    for (const h of [a, b]) {
      expect(h.address).toMatch(/^10\.\d+\.\d+\.\d+$/);
      expect(h.host).toBe(h.address);
      expect(h.port).toBe(22);
      expect(h.url()).toBe(`ssh://root@${h.address}:22`);
      expect(h.knownHostsLine()).toBe(`${h.address} ${h.hostKeyPublic}`);
      expect(h.netns?.name).toMatch(new RegExp(`^kernelfile-sshd-${process.pid}-\\d+$`));
      expect(await netnsList()).toContain(h.netns?.name);
    }
    expect(a.address).not.toBe(b.address);
    expect(a.netns?.subnet).not.toBe(b.netns?.subnet);
    const out = await Promise.all(
      [a, b].map((h) => ssh(h, 'uname -n; echo $SSH_CONNECTION; cat /proc/net/dev | grep -c eth0')),
    );
    for (const [i, h] of [a, b].entries()) {
      const r = out[i] as Awaited<ReturnType<typeof ssh>>;
      expect(r.code, r.stderr).toBe(0);
      const [name, conn, eth] = r.stdout.trim().split('\n');
      expect(name).toBe(h.hostname);
      // client address and port, server address and port: this machine's end of the veth → the host.
      expect(conn?.split(' ')).toEqual([h.netns?.gateway, expect.any(String), h.address, '22']);
      expect(eth).toBe('1');
    }
    // exec() runs in the host's network namespace too: it sees its own address, not this machine's.
    const fib = await a.exec(['cat', '/proc/net/fib_trie']);
    expect(fib.stdout).toContain(a.address);
    expect(fib.stdout).not.toContain(b.address);
    // portOpen() takes the address too.
    expect(await portOpen(22, 500, a.address)).toBe(true);
    expect(await portOpen(2222, 500, a.address)).toBe(false);
  });

  it('cutNetwork() makes a new connection fail at once ("No route to host"); restoreNetwork() brings it back', async () => {
    const [a, b] = hosts as [SshHost, SshHost];
    await a.cutNetwork();
    try {
      const t = Date.now();
      const r = await ssh(a, 'true');
      expect(Date.now() - t).toBeLessThan(3000);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/No route to host/);
      // The host itself runs on, and the other host is untouched.
      expect((await a.exec(['uname', '-n'])).stdout).toBe(`${a.hostname}\n`);
      expect((await ssh(b, 'uname -n')).stdout).toBe(`${b.hostname}\n`);
    } finally {
      await a.restoreNetwork();
    }
    const back = await ssh(a, 'uname -n');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toBe(`${a.hostname}\n`);
  });

  it('cutNetwork({ mode: "drop" }) loses every packet: a connection attempt times out', async () => {
    const [a] = hosts as [SshHost];
    await a.cutNetwork({ mode: 'drop' });
    try {
      const t = Date.now();
      const r = await ssh(a, 'true', { connectTimeout: 2 });
      expect(Date.now() - t).toBeGreaterThanOrEqual(1900);
      expect(Date.now() - t).toBeLessThan(8000);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/timed out/i);
    } finally {
      await a.restoreNetwork();
    }
    expect((await ssh(a, 'true')).code).toBe(0);
  });

  it('cutNetwork({ dropOpen: true }) also aborts the connections already open', async () => {
    const [, b] = hosts as [SshHost, SshHost];
    const kh = join(scratch, `kh-${b.hostname}`);
    writeFileSync(kh, `${b.knownHostsLine()}\n`);
    const session: ChildProcess = spawn(
      'ssh',
      [
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${kh}`,
        '-o',
        'IdentitiesOnly=yes',
        '-i',
        b.keys.root.privateKeyPath,
        `root@${b.address}`,
        'echo up; exec sleep 600',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => session.on('exit', (c) => resolve(c)));
    await new Promise<void>((resolve, reject) => {
      session.stdout?.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
      session.on('exit', (c) => reject(new Error(`ssh exited with ${c}`)));
    });
    const t = Date.now();
    await b.cutNetwork({ dropOpen: true });
    try {
      expect(await exited).toBe(255);
      expect(Date.now() - t).toBeLessThan(3000);
    } finally {
      await b.restoreNetwork();
    }
    expect((await ssh(b, 'true')).code).toBe(0);
  });

  it('kill() leaves the address refusing connections; stop() removes the namespace, the veth and the routes', async () => {
    const h = await startSshHost({ netns: true, hostname: 'kf-net-stop' });
    const n = h.netns;
    if (!n) throw new Error('no netns');
    await h.cutNetwork(); // a route to remove too
    await h.restoreNetwork();
    await h.cutNetwork();
    expect(await routes()).toContain(`unreachable ${h.address}`);
    await h.restoreNetwork();
    expect((await ssh(h, 'true')).code).toBe(0);
    h.kill();
    // The namespace is still there (nothing listens in it): refused at once, never routed elsewhere.
    const r = await ssh(h, 'true');
    expect(r.stderr).toMatch(/Connection refused/);
    await h.cutNetwork();
    await h.stop();
    await h.stop(); // idempotent
    expect(await netnsList()).not.toContain(n.name);
    expect(await links()).not.toContain(`${n.veth}@`);
    const left = await routes();
    expect(left).not.toContain(`${h.address} `);
    expect(left).not.toContain(n.subnet);
    await expect(h.cutNetwork()).rejects.toThrow(/after stop/);
  });

  it('an ordinary host has no network namespace, and cutNetwork() says so', async () => {
    const h = await startSshHost({ hostname: 'kf-net-none' });
    try {
      expect(h.address).toBe('127.0.0.1');
      expect(h.netns).toBeUndefined();
      expect(h.knownHostsLine()).toBe(`[127.0.0.1]:${h.port} ${h.hostKeyPublic}`);
      await expect(h.cutNetwork()).rejects.toThrow(/needs startSshHost\(\{ netns: true \}\)/);
    } finally {
      await h.stop();
    }
  });

  it('a killed test process leaves its namespace to the next run’s sweep, which removes it and its routes', async () => {
    const script = join(scratch, 'killed.mts');
    writeFileSync(
      script,
      [
        `import { startSshHost } from ${JSON.stringify(join(REPO, 'test/helpers/sshd.ts'))};`,
        'const h = await startSshHost({ netns: true, hostname: "kf-net-killed" });',
        'await h.cutNetwork();',
        'console.log(JSON.stringify({ ...h.netns, address: h.address }));',
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const info = await new Promise<{ name: string; veth: string; subnet: string; address: string }>(
      (resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const line = out.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line));
        });
        child.on('exit', (c) => reject(new Error(`the child exited with ${c}: ${err}`)));
      },
    );
    const pid = child.pid as number;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(pidAlive(pid)).toBe(false);
    // What a killed run leaves: the named namespace (empty: its processes died with the test
    // process), its veth, and the routes on this machine.
    expect(await netnsList()).toContain(info.name);
    // (The kernel kills a dead namespace's processes as their init goes: on a loaded machine the
    // last of them may take a moment to go.)
    const pids = async () => (await run(['ip', 'netns', 'pids', info.name])).stdout.trim();
    for (let i = 0; i < 50 && (await pids()) !== ''; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await pids()).toBe('');
    expect(await routes()).toContain(`unreachable ${info.address}`);
    const removed = await sweepStaleNetns();
    expect(removed).toContain(info.name);
    expect(await netnsList()).not.toContain(info.name);
    expect(await links()).not.toContain(`${info.veth}@`);
    const left = await routes();
    expect(left).not.toContain(`${info.address} `);
    expect(left).not.toContain(info.subnet);
    await sweepStale('kernelfile-sshd'); // its temp dir too
    // The live hosts of this process are untouched.
    for (const h of hosts) expect((await ssh(h, 'true')).code).toBe(0);
  }, 60_000);
});
