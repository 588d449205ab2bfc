/**
 * Kept SSH connections (`--control-persist`): the user's keeper (src/host/keeper.ts, run from its
 * bundle dist/bundle/keeper.cjs, which `npm run build` makes) against real OpenSSH sshd hosts. The
 * Transport contract through it; then that a kept connection is really reused (the same sshd session
 * process on the host runs the next command), that it is not when anything it was authenticated
 * with changed, that a connection the host dropped is replaced, that an unsafe socket directory is
 * refused, that the keeper ends when idle, and that a keeper killed midway costs nothing but the
 * reuse. Each test's keeper lives in a directory of its own (XDG_RUNTIME_DIR), stopped afterwards.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEEPER_FILE, KeptTransport, keeperSocket, keeperStats, stopKeeper } from '../../src/host/kept.js';
import { type HostOptions, openHost } from '../../src/host/open.js';
import { HostError, type Transport } from '../../src/host/transport.js';
import { kernelfile } from '../helpers/cli.js';
import { sshTarget } from '../helpers/host-state.js';
import { freePort, type SshHost, startSshHost } from '../helpers/sshd.js';
import { transportContract } from './contract.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-kept-test-'));
  if (!existsSync(KEEPER_FILE)) throw new Error(`${KEEPER_FILE} is missing: run \`npm run build\` first`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runtimes = 0;
/** A runtime directory of its own (0700), for one keeper. */
function runtimeDir(): string {
  const d = join(dir, `run-${++runtimes}`);
  mkdirSync(d, { mode: 0o700 });
  return d;
}

function options(h: SshHost, runtime: string, extra: Partial<HostOptions> = {}): HostOptions {
  const knownHosts = join(dir, `known_hosts-${h.port}`);
  if (!existsSync(knownHosts)) writeFileSync(knownHosts, `${h.knownHostsLine()}\n`);
  return {
    sshConfig: 'none',
    knownHosts: [knownHosts],
    identities: [h.keys.root.privateKeyPath],
    connectTimeoutMs: 5000,
    env: { HOME: dir, USER: 'kf-test', XDG_RUNTIME_DIR: runtime },
    controlPersistMs: 60_000,
    ...extra,
  };
}

const address = (h: SshHost) => `ssh://root@127.0.0.1:${h.port}`;

/** The sshd session process that runs the host's commands for this connection. */
async function session(t: Transport): Promise<string> {
  const r = await t.run(['sh', '-c', 'echo $PPID']);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

async function stop(runtime: string): Promise<void> {
  await stopKeeper(keeperSocket({ XDG_RUNTIME_DIR: runtime }));
}

/** The counters of the keeper in `runtime`. */
const statsOf = (runtime: string) => keeperStats(keeperSocket({ XDG_RUNTIME_DIR: runtime }));

transportContract('ssh through the keeper (--control-persist)', async () => {
  const h = await startSshHost();
  const runtime = runtimeDir();
  const t = await openHost(address(h), options(h, runtime));
  expect(t).toBeInstanceOf(KeptTransport);
  await t.run(['mkdir', '-p', '/tmp/kf-scratch']);
  return {
    t,
    scratch: '/tmp/kf-scratch',
    sudoBecomesRoot: true,
    stop: async () => {
      await t.close();
      await stop(runtime);
      await h.stop();
    },
  };
});

describe('kept connections', () => {
  let h: SshHost;
  beforeAll(async () => {
    h = await startSshHost();
  }, 300_000);
  afterAll(() => h?.stop());

  it('a second open runs its commands on the kept connection: no second login', async () => {
    const runtime = runtimeDir();
    try {
      const a = await openHost(address(h), options(h, runtime));
      const first = await session(a);
      await a.close();
      const b = await openHost(address(h), options(h, runtime));
      expect(await session(b)).toBe(first);
      await b.close();
      const stats = await statsOf(runtime);
      expect(stats).toMatchObject({ connections: 1, logins: 1 });
      expect(stats?.reused).toBeGreaterThanOrEqual(3);
      // Without the option: a connection of its own (another sshd session).
      const direct = await openHost(address(h), { ...options(h, runtime), controlPersistMs: undefined });
      expect(direct).not.toBeInstanceOf(KeptTransport);
      expect(await session(direct)).not.toBe(first);
      await direct.close();
    } finally {
      await stop(runtime);
    }
  });

  it('is not reused once known_hosts changed: a host key no longer recorded is refused as without it', async () => {
    const runtime = runtimeDir();
    const kh = join(dir, `kh-changed-${h.port}`);
    writeFileSync(kh, `${h.knownHostsLine()}\n`);
    try {
      const a = await openHost(address(h), options(h, runtime, { knownHosts: [kh] }));
      await session(a);
      await a.close();
      // Another key recorded for the host (a reinstalled host, a man in the middle): refused.
      const key = join(dir, `other-${h.port}`);
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const other = readFileSync(`${key}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
      writeFileSync(kh, `[127.0.0.1]:${h.port} ${other}\n`);
      const e = await openHost(address(h), options(h, runtime, { knownHosts: [kh] })).catch((x) => x);
      expect(e).toBeInstanceOf(HostError);
      expect((e as HostError).kind).toBe('host-key-changed');
      // The right key again: a new login (the old connection is not taken back either).
      writeFileSync(kh, `${h.knownHostsLine()}\n`);
      const b = await openHost(address(h), options(h, runtime, { knownHosts: [kh] }));
      await session(b);
      await b.close();
      expect(await statsOf(runtime)).toMatchObject({ logins: 3 });
    } finally {
      await stop(runtime);
    }
  });

  it('another identity is another connection', async () => {
    const runtime = runtimeDir();
    try {
      const a = await openHost(address(h), options(h, runtime));
      const copy = join(dir, `root-key-copy-${h.port}`);
      writeFileSync(copy, readFileSync(h.keys.root.privateKeyPath), { mode: 0o600 });
      const b = await openHost(address(h), options(h, runtime, { identities: [copy] }));
      expect(await session(b)).not.toBe(await session(a));
      await a.close();
      await b.close();
    } finally {
      await stop(runtime);
    }
  });

  it('through a ProxyJump hop (resolved by the command, from its ssh config): kept, and both host keys checked', async () => {
    const jump = await startSshHost();
    const runtime = runtimeDir();
    try {
      const config = join(dir, 'ssh_config_jump');
      writeFileSync(
        config,
        `Host kf-target\n  HostName 127.0.0.1\n  Port ${h.port}\n  User root\n  ProxyJump kf-jump\n` +
          `Host kf-jump\n  HostName 127.0.0.1\n  Port ${jump.port}\n  User root\n`,
      );
      const kh = join(dir, 'known_hosts_jump');
      writeFileSync(kh, `${jump.knownHostsLine()}\n${h.knownHostsLine()}\n`);
      const o = options(h, runtime, {
        sshConfig: config,
        knownHosts: [kh],
        identities: [jump.keys.root.privateKeyPath, h.keys.root.privateKeyPath],
      });
      const a = await openHost('kf-target', o);
      expect(a).toBeInstanceOf(KeptTransport);
      expect(a.name).toBe(`ssh://root@kf-target:${h.port}`);
      expect((await a.run(['uname', '-n'])).stdout.trim()).toBe(h.hostname);
      const first = await session(a);
      const b = await openHost('kf-target', o);
      expect(await session(b)).toBe(first);
      await Promise.all([a.close(), b.close()]);
      // The jump host's key gone from known_hosts: a new connection, refused at the jump.
      writeFileSync(kh, `${h.knownHostsLine()}\n`);
      await expect(openHost('kf-target', o)).rejects.toMatchObject({
        kind: 'host-key-unknown',
        message: expect.stringContaining(`kf-jump:${jump.port}`),
      });
    } finally {
      await stop(runtime);
      await jump.stop();
    }
  });

  it('a connection the host dropped is replaced at the next command', async () => {
    const runtime = runtimeDir();
    try {
      const a = await openHost(address(h), options(h, runtime));
      const first = await session(a);
      await h.exec(['kill', first]);
      await new Promise((r) => setTimeout(r, 300));
      const r = await a.run(['echo', 'still here']);
      expect(r).toEqual({ code: 0, stdout: 'still here\n', stderr: '' });
      const second = await session(a);
      expect(second).not.toBe(first);
      await a.close();
    } finally {
      await stop(runtime);
    }
  });

  it('a keeper killed midway: the command runs on a connection of its own', async () => {
    const runtime = runtimeDir();
    const a = await openHost(address(h), options(h, runtime));
    const kept = await session(a);
    const stats = await statsOf(runtime);
    expect(stats?.pid).toBeGreaterThan(0);
    process.kill(stats?.pid as number, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(await session(a)).not.toBe(kept);
    await a.close();
  });

  it('the keeper ends when its connections were unused for their persist time', async () => {
    const runtime = runtimeDir();
    const a = await openHost(address(h), options(h, runtime, { controlPersistMs: 1000 }));
    await session(a);
    await a.close();
    const sock = keeperSocket({ XDG_RUNTIME_DIR: runtime });
    expect(await keeperStats(sock)).toMatchObject({ connections: 1 });
    const until = Date.now() + 10_000;
    while (existsSync(sock) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(sock)).toBe(false);
    expect(await keeperStats(sock)).toBeUndefined();
  });

  it('a persist time past what a timer holds (24.8 days) keeps the connection, not closes it at once', async () => {
    const runtime = runtimeDir();
    try {
      const a = await openHost(address(h), options(h, runtime, { controlPersistMs: 1e12 }));
      await session(a);
      await a.close();
      await new Promise((r) => setTimeout(r, 1500));
      expect(await statsOf(runtime)).toMatchObject({ connections: 1 });
    } finally {
      await stop(runtime);
    }
  });

  it("a host's refusal through the keeper is the error a direct connection gives", async () => {
    const runtime = runtimeDir();
    try {
      const port = await freePort();
      const o = { ...options(h, runtime), knownHosts: [join(dir, `known_hosts-${h.port}`)] };
      const via = await openHost(`ssh://root@127.0.0.1:${port}`, o).catch((x) => x);
      const direct = await openHost(`ssh://root@127.0.0.1:${port}`, {
        ...o,
        controlPersistMs: undefined,
      }).catch((x) => x);
      expect(via).toBeInstanceOf(HostError);
      expect({ kind: via.kind, message: via.message, hint: via.hint }).toEqual({
        kind: direct.kind,
        message: direct.message,
        hint: direct.hint,
      });
      expect(via.kind).toBe('unreachable');
      // A refused key too (another user's key for root).
      const auth = await openHost(address(h), { ...o, identities: [h.keys.stranger.privateKeyPath] }).catch(
        (x) => x,
      );
      expect(auth).toBeInstanceOf(HostError);
      expect(auth.kind).toBe('auth');
    } finally {
      await stop(runtime);
    }
  });

  it("refuses a socket directory that is not the user's alone, naming it", async () => {
    const runtime = runtimeDir();
    mkdirSync(join(runtime, 'kernelfile'), { mode: 0o755 });
    chmodSync(join(runtime, 'kernelfile'), 0o755);
    const e = await openHost(address(h), options(h, runtime)).catch((x) => x);
    expect(e).toBeInstanceOf(HostError);
    expect((e as HostError).message).toContain(`${join(runtime, 'kernelfile')}, can be entered by others`);
    expect((e as HostError).hint).toContain('chmod 700');
  });

  it('kernelfile facts --control-persist: the same facts as without, the second run on the kept connection', async () => {
    const runtime = runtimeDir();
    const args = ['facts', ...sshTarget(h, dir), '--json'];
    const env = { HOME: dir, XDG_RUNTIME_DIR: runtime };
    try {
      const plain = await kernelfile(args, { env });
      expect(plain.code, plain.err).toBe(0);
      const once = await kernelfile([...args, '--control-persist', '30'], { env });
      const twice = await kernelfile([...args, '--control-persist', '30'], { env });
      expect(twice.code, twice.err).toBe(0);
      const facts = (out: string) => {
        const f = JSON.parse(out) as { system: unknown; kernels: unknown; config: unknown };
        return { system: f.system, kernels: f.kernels, config: f.config };
      };
      expect(facts(once.out)).toEqual(facts(plain.out));
      expect(facts(twice.out)).toEqual(facts(plain.out));
      expect(await statsOf(runtime)).toMatchObject({ logins: 1 });
      const bad = await kernelfile([...args, '--control-persist', 'soon'], { env });
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain('--control-persist must be a positive number of seconds, got `soon`');
      const apply = await kernelfile(['apply', '--host', address(h), '--control-persist', '30'], { env });
      expect(apply.err).toContain("unknown option '--control-persist'");
    } finally {
      await stop(runtime);
    }
  });
});
