/**
 * The SSH transport against real OpenSSH sshd hosts (Debian's, in test namespaces on 127.0.0.1):
 * the shared contract, then every way a connection can go wrong.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/host/known-hosts.js';
import { type HostOptions, openHost } from '../../src/host/open.js';
import type { SshTransport } from '../../src/host/ssh.js';
import { freePort, type SshHost, startSshAgent, startSshHost } from '../helpers/sshd.js';
import { transportContract } from './contract.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-ssh-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function options(
  h: SshHost,
  extra: Partial<HostOptions> & { user?: 'root' | 'alice' | 'bob' | 'stranger' } = {},
): HostOptions {
  const knownHosts = join(dir, `known_hosts-${h.port}`);
  writeFileSync(knownHosts, `${h.knownHostsLine()}\n`);
  return {
    sshConfig: 'none',
    knownHosts: [knownHosts],
    identities: [h.keys[extra.user ?? 'root'].privateKeyPath],
    connectTimeoutMs: 5000,
    env: { HOME: dir, USER: 'kf-test' },
    ...extra,
  };
}

transportContract('ssh (root)', async () => {
  const h = await startSshHost();
  const t = await openHost(`ssh://root@127.0.0.1:${h.port}`, options(h));
  await t.run(['mkdir', '-p', '/tmp/kf-scratch']);
  return {
    t,
    scratch: '/tmp/kf-scratch',
    sudoBecomesRoot: true,
    stop: async () => {
      await t.close();
      await h.stop();
    },
  };
});

transportContract('ssh (alice, passwordless sudo)', async () => {
  const h = await startSshHost();
  const t = await openHost(`ssh://alice@127.0.0.1:${h.port}`, options(h, { user: 'alice' }));
  const scratch = (await t.run(['mktemp', '-d'])).stdout.trim();
  return {
    t,
    scratch,
    sudoBecomesRoot: true,
    stop: async () => {
      await t.close();
      await h.stop();
    },
  };
});

describe('ssh: connecting, and refusing to', () => {
  let h: SshHost;
  beforeAll(async () => {
    h = await startSshHost();
  }, 300_000);
  afterAll(() => h?.stop());

  const addr = (user = 'root') => `ssh://${user}@127.0.0.1:${h.port}`;

  it('authenticates with a key file and reuses one connection for every command', async () => {
    const t = (await openHost(addr(), options(h))) as SshTransport;
    const sessions = async () =>
      Number((await t.run(['sh', '-c', 'ps -e -o comm= | grep -c "^sshd"'])).stdout.trim());
    const before = await sessions();
    for (let i = 0; i < 5; i++) await t.run(['true']);
    expect(await sessions()).toBe(before);
    expect((await t.run(['uname', '-n'])).stdout.trim()).toBe(h.hostname);
    await t.close();
  });

  it('authenticates through ssh-agent', async () => {
    const agent = await startSshAgent([h.keys.root]);
    try {
      const t = await openHost(addr(), {
        ...options(h),
        identities: [],
        env: { HOME: dir, USER: 'x', SSH_AUTH_SOCK: agent.socket },
      });
      expect((await t.run(['id', '-un'])).stdout.trim()).toBe('root');
      await t.close();
    } finally {
      await agent.stop();
    }
  });

  it('authenticates with RSA and ECDSA key files too (each signs with its own hash)', async () => {
    const rsa = await startSshHost({ rsaKey: true });
    try {
      const ecdsa = join(dir, 'id_ecdsa');
      rmSync(ecdsa, { force: true });
      expect(spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '384', '-N', '', '-f', ecdsa]).status).toBe(
        0,
      );
      await rsa.exec(['sh', '-c', 'cat >> /etc/ssh/kernelfile/authorized_keys/root'], {
        stdin: readFileSync(`${ecdsa}.pub`),
      });
      for (const key of [rsa.rsaKey?.privateKeyPath as string, ecdsa]) {
        // twice: the second connection signs with the key object the first one made
        for (let i = 0; i < 2; i++) {
          const t = await openHost(`ssh://root@127.0.0.1:${rsa.port}`, {
            ...options(rsa),
            identities: [key],
          });
          expect((await t.run(['id', '-un'])).stdout.trim()).toBe('root');
          await t.close();
        }
      }
      // a key the host refuses first (its signed request fails), then one it accepts
      const t = await openHost(`ssh://root@127.0.0.1:${rsa.port}`, {
        ...options(rsa),
        identities: [rsa.keys.stranger.privateKeyPath, ecdsa],
      });
      expect((await t.run(['id', '-un'])).stdout.trim()).toBe('root');
      await t.close();
    } finally {
      await rsa.stop();
    }
  });

  it('refuses an unknown host key, naming the fingerprint and how to accept it', async () => {
    const o = { ...options(h), knownHosts: [join(dir, 'empty_known_hosts')] };
    await expect(openHost(addr(), o)).rejects.toMatchObject({
      kind: 'host-key-unknown',
      message: expect.stringMatching(
        new RegExp(`^ssh://root@127\\.0\\.0\\.1:${h.port}: host key SHA256:\\S+ is not in known_hosts`),
      ),
      hint: expect.stringMatching(/--accept-new-host-keys/),
    });
  });

  it('with --accept-new-host-keys records the key, then knows it', async () => {
    const kh = join(dir, 'accept_known_hosts');
    const o = { ...options(h), knownHosts: [kh], acceptNewHostKeys: true };
    await (await openHost(addr(), o)).close();
    expect(readFileSync(kh, 'utf8')).toBe(`${h.knownHostsLine()}\n`);
    await (await openHost(addr(), { ...o, acceptNewHostKeys: false })).close();
    expect(readFileSync(kh, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('refuses a changed host key, even with --accept-new-host-keys', async () => {
    const other = await startSshHost();
    try {
      const o = { ...options(other), acceptNewHostKeys: true };
      await other.restartWithNewHostKey();
      await expect(openHost(`ssh://root@127.0.0.1:${other.port}`, o)).rejects.toMatchObject({
        kind: 'host-key-changed',
        message: expect.stringMatching(
          /HOST KEY CHANGED: the host presented SHA256:\S+, but .*known_hosts-\d+:1 records a different key/,
        ),
        hint: expect.stringMatching(/ssh-keygen -R/),
      });
    } finally {
      await other.stop();
    }
  });

  it('refuses a key the host does not authorize, saying what was offered', async () => {
    await expect(openHost(addr(), options(h, { user: 'stranger' }))).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringMatching(/authentication refused for user root \(offered: .*stranger/),
    });
  });

  it('names a key file that holds no key among what was offered, and goes on to the next', async () => {
    // an OpenSSH private key file whose key count is 0
    const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const str = (x: string) => Buffer.concat([u32(x.length), Buffer.from(x)]);
    const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(0)]);
    const empty = join(dir, 'id_empty');
    writeFileSync(
      empty,
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    );
    await expect(openHost(addr(), { ...options(h), identities: [empty] })).rejects.toMatchObject({
      kind: 'auth',
      message: expect.stringContaining(`${empty} (unusable: no key in it)`),
    });
    const t = await openHost(addr(), { ...options(h), identities: [empty, h.keys.root.privateKeyPath] });
    expect((await t.run(['id', '-un'])).stdout.trim()).toBe('root');
    await t.close();
  });

  it('reports a closed port as unreachable', async () => {
    const port = await freePort();
    await expect(openHost(`ssh://root@127.0.0.1:${port}`, options(h))).rejects.toMatchObject({
      kind: 'unreachable',
      message: `ssh://root@127.0.0.1:${port}: connection refused on 127.0.0.1:${port}`,
    });
  });

  it('a user whose sudo wants a password gets a clear error, not a hang', async () => {
    const t = await openHost(addr('bob'), options(h, { user: 'bob' }));
    await expect(t.run(['id', '-u'], { sudo: true })).rejects.toMatchObject({
      kind: 'sudo-password',
      message: expect.stringMatching(/sudo wants a password for bob/),
      hint: expect.stringMatching(/NOPASSWD/),
    });
    expect((await t.run(['id', '-un'])).stdout.trim()).toBe('bob');
    await t.close();
  });
});

describe('ssh: a login without the exchanges kernelfile does not need', () => {
  it('signs with its key at once (no query first) and does not ask sshd to prove the host keys it announces, as ssh2 alone does', async () => {
    const h = await startSshHost({ ecdsaHostKey: true, sshdConfig: ['LogLevel DEBUG1'] });
    try {
      const proofs = (log: string) =>
        log.split('\n').filter((l) => l.includes('rtype hostkeys-prove-00@openssh.com'));
      // sshd writes its log as it goes: wait until that many sessions' ends have reached it
      const settled = async (from: number, sessions: number) => {
        const ends = () =>
          h
            .log()
            .slice(from)
            .split('\n')
            .filter((l) => l.includes('Disconnected from')).length;
        for (let i = 0; i < 50 && ends() < sessions; i++) await new Promise((r) => setTimeout(r, 100));
        return h.log().slice(from);
      };
      // The control: ssh2 on its own asks whether the key would do (sshd postpones: it answers
      // PK_OK), then signs; after the login it asks the host to prove its keys.
      let from = h.log().length;
      await new Promise<void>((resolve, reject) => {
        const c = new ssh2.Client();
        c.on('ready', () =>
          c.exec('true', (e, ch) => {
            if (e) return reject(e);
            ch.on('close', () => {
              c.end();
              resolve();
            });
            ch.resume();
          }),
        );
        c.on('error', reject);
        c.connect({
          host: '127.0.0.1',
          port: h.port,
          username: 'root',
          privateKey: readFileSync(h.keys.root.privateKeyPath),
        });
      });
      const control = await settled(from, 1);
      expect(proofs(control)).toHaveLength(1);
      expect(control).toMatch(/Postponed publickey for root/);
      // kernelfile's connections do not, and work as before.
      from = h.log().length;
      for (let i = 0; i < 2; i++) {
        const t = await openHost(`ssh://root@127.0.0.1:${h.port}`, options(h));
        expect((await t.run(['id', '-un'])).stdout.trim()).toBe('root');
        await t.close();
      }
      const log = await settled(from, 2);
      expect(log.match(/Accepted publickey for root/g)).toHaveLength(2);
      expect(proofs(log)).toEqual([]);
      expect(log).not.toMatch(/Postponed publickey/);
      // The announcement is answered with one keepalive each (its reply is consumed), so that
      // sshd's next packet is not held back for a late acknowledgement.
      expect(log.match(/rtype keepalive@openssh\.com want_reply 1/g)).toHaveLength(2);
    } finally {
      await h.stop();
    }
  });
});

describe('ssh: a connection dropped mid-upload', () => {
  it('leaves no partial file at the final path', async () => {
    const h = await startSshHost();
    try {
      const t = await openHost(`ssh://root@127.0.0.1:${h.port}`, options(h));
      const big = join(dir, 'big.bin');
      writeFileSync(big, Buffer.alloc(64 * 1024 * 1024, 0x5a));
      const upload = t.put(big, '/root/big.bin', 0o644);
      // Kill the host once the upload is under way (the temp file has started to grow).
      for (let i = 0; i < 200; i++) {
        const r = await h.exec(['sh', '-c', 'ls -A /root | grep -c "^\\.big\\.bin\\.kf-" || true']);
        if (r.stdout.trim() !== '0') break;
        await new Promise((res) => setTimeout(res, 10));
      }
      const rootBefore = h.root;
      const listing = (await h.exec(['ls', '-A', '/root'])).stdout;
      h.kill();
      await expect(upload).rejects.toMatchObject({ kind: 'disconnected' });
      expect(listing).toMatch(/\.big\.bin\.kf-/);
      expect(listing).not.toMatch(/^big\.bin$/m);
      expect(rootBefore).toBeTruthy();
      await t.close();
    } finally {
      await h.stop();
    }
  });
});

describe('ssh: ~/.ssh/config aliases and ProxyJump', () => {
  it('connects to an alias through a jump host, verifying both host keys', async () => {
    const [jump, target] = await Promise.all([startSshHost(), startSshHost()]);
    try {
      const config = join(dir, 'ssh_config_jump');
      writeFileSync(
        config,
        `Host kf-target\n  HostName 127.0.0.1\n  Port ${target.port}\n  User root\n  ProxyJump kf-jump\n` +
          `Host kf-jump\n  HostName 127.0.0.1\n  Port ${jump.port}\n  User root\n`,
      );
      const kh = join(dir, 'known_hosts_jump');
      writeFileSync(kh, `${jump.knownHostsLine()}\n${target.knownHostsLine()}\n`);
      const o: HostOptions = {
        sshConfig: config,
        knownHosts: [kh],
        identities: [jump.keys.root.privateKeyPath, target.keys.root.privateKeyPath],
        env: { HOME: dir, USER: 'kf-test' },
      };
      const t = await openHost('kf-target', o);
      expect(t.name).toBe(`ssh://root@kf-target:${target.port}`);
      expect((await t.run(['uname', '-n'])).stdout.trim()).toBe(target.hostname);
      await t.close();
      // The jump host's key is verified too: without it, the connection is refused at the jump.
      writeFileSync(kh, `${target.knownHostsLine()}\n`);
      await expect(openHost('kf-target', o)).rejects.toMatchObject({
        kind: 'host-key-unknown',
        message: expect.stringContaining(`kf-jump:${jump.port}`),
      });
    } finally {
      await Promise.all([jump.stop(), target.stop()]);
    }
  });
});

describe('ssh: a host with ed25519 and ecdsa host keys (known_hosts with one type, as OpenSSH)', () => {
  let h: SshHost;
  beforeAll(async () => {
    h = await startSshHost({ ecdsaHostKey: true });
  }, 300_000);
  afterAll(() => h?.stop());

  const addr = () => `ssh://root@127.0.0.1:${h.port}`;
  const knownHosts = (name: string, key: string) => {
    const kh = join(dir, name);
    writeFileSync(kh, `[127.0.0.1]:${h.port} ${key}\n`);
    return { ...options(h), knownHosts: [kh] };
  };

  it('connects when known_hosts holds only its ecdsa key (the host is asked for that type first)', async () => {
    const t = await openHost(addr(), knownHosts('kh-ecdsa-only', h.ecdsaHostKeyPublic as string));
    try {
      expect((await t.run(['true'])).code).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('connects when known_hosts holds only its ed25519 key', async () => {
    await (await openHost(addr(), knownHosts('kh-ed25519-only', h.hostKeyPublic))).close();
  });

  it('reads known_hosts again when it changed since the last connection of this process', async () => {
    const other = join(dir, 'other_ecdsa_2');
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', other], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const key = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const o = knownHosts('kh-rewritten', h.ecdsaHostKeyPublic as string);
    await (await openHost(addr(), o)).close();
    // The same file, now naming another key: the host's key is refused as changed, not remembered.
    const kh = (o.knownHosts as string[])[0] as string;
    writeFileSync(
      kh,
      readFileSync(kh, 'utf8').replace(
        (h.ecdsaHostKeyPublic as string).split(' ').slice(0, 2).join(' '),
        key,
      ),
    );
    await expect(openHost(addr(), o)).rejects.toMatchObject({ kind: 'host-key-changed' });
  });

  it('refuses as changed when known_hosts holds a different ecdsa key for it', async () => {
    const other = join(dir, 'other_ecdsa');
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', other], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const key = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    // The host presented its ecdsa key (the type known_hosts holds), not its ed25519 one.
    const presented = fingerprint(
      Buffer.from((h.ecdsaHostKeyPublic as string).split(' ')[1] as string, 'base64'),
    );
    await expect(openHost(addr(), knownHosts('kh-ecdsa-other', key))).rejects.toMatchObject({
      kind: 'host-key-changed',
      message: expect.stringContaining(
        `HOST KEY CHANGED: the host presented ${presented}, but ${join(dir, 'kh-ecdsa-other')}:1 records a different key`,
      ),
    });
  });
});
