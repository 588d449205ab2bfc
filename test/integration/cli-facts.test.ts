/** `kernelfile facts` as a user runs it: local, a real SSH host, and each way a host can fail. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/io.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { receiptText } from '../helpers/receipt-text.js';
import { freePort, type SshHost, startSshHost } from '../helpers/sshd.js';

let dir: string;
let h: SshHost;
let kh: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-facts-'));
  h = await startSshHost();
  kh = join(dir, 'known_hosts');
  writeFileSync(kh, `${h.knownHostsLine()}\n`);
}, 300_000);
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const io = fakeIo(dir, { env: { HOME: dir, USER: 'kf-test' } });
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}
const ssh = (user = 'root', key: keyof SshHost['keys'] = 'root') => [
  '--host',
  `ssh://${user}@127.0.0.1:${h.port}`,
  '--ssh-config',
  'none',
  '--known-hosts',
  kh,
  '-i',
  h.keys[key].privateKeyPath,
];

describe('kernelfile facts', () => {
  it('--host local --json prints the facts of this machine', async () => {
    const r = await cli('facts', '--json');
    expect(r.code).toBe(0);
    const f = jsonOutput(r.out, 'facts');
    expect(f).toMatchObject({
      factsVersion: 1,
      kind: 'kernelfile-facts',
      kernelfileVersion: expect.any(String),
      generatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      host: 'local',
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(f.system.running).toBe((await import('node:os')).release());
  });

  it('summarises a Debian host over SSH', async () => {
    const r = await cli('facts', ...ssh());
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Host: +ssh://root@127\\.0\\.0\\.1:${h.port}$`, 'm'));
    expect(r.out).toMatch(
      new RegExp(`^System: +Debian GNU/Linux 12 \\(bookworm\\), x86_64, hostname ${h.hostname}$`, 'm'),
    );
    expect(r.out).toMatch(/^DKMS: +dkms 3\.\d+/m);
    expect(r.out).toMatch(/^Tools: .*\bdkms\b.*\bupdate-initramfs\b.*\bgrub-mkconfig\b/m);
    expect(r.out).toMatch(/^Libraries: +\d+ in .*\/usr\/lib\/x86_64-linux-gnu.*; glibc 2\.36$/m);
    expect(r.out).toMatch(/^Digest: +[0-9a-f]{64}$/m);
  });

  it('gives the same digest twice for an unchanged host, and a new one after a change', async () => {
    const digest = async () => jsonOutput((await cli('facts', '--json', ...ssh())).out, 'facts').digest;
    const a = await digest();
    expect(await digest()).toBe(a);
    await h.exec(['mkdir', '-p', '/lib/modules/6.1.0-99-amd64']);
    const b = await digest();
    expect(b).not.toBe(a);
    await h.exec(['rmdir', '/lib/modules/6.1.0-99-amd64']);
  });

  it('reads the configs of the builds kernelfile installed last: in full, or compared with the running one on the host', async () => {
    const older = '6.1.118-web-kf00000118';
    const newer = '6.1.119-web-kf00000119';
    const running = (await h.exec(['uname', '-r'])).stdout.trim();
    const put = (path: string, text: string) => h.exec(['sh', '-c', `cat > '${path}'`], { stdin: text });
    await h.exec(['mkdir', '-p', '/var/lib/kernelfile', '/boot']);
    try {
      await put(`/var/lib/kernelfile/${older}.json`, receiptText(older));
      await put(`/boot/config-${older}`, 'CONFIG_MODULES=y\nCONFIG_AUDIT=y\n');
      await h.exec(['touch', '-d', '@1700000000', `/var/lib/kernelfile/${older}.json`]);
      await put(`/var/lib/kernelfile/${newer}.json`, receiptText(newer));
      await put(`/boot/config-${newer}`, 'CONFIG_MODULES=y\n# CONFIG_AUDIT is not set\n');
      await h.exec(['touch', '-d', '@1700000100', `/var/lib/kernelfile/${newer}.json`]);
      const f = jsonOutput((await cli('facts', '--json', ...ssh())).out, 'facts');
      expect(f.config.installed).toEqual([
        {
          release: newer,
          path: `/boot/config-${newer}`,
          options: { CONFIG_MODULES: 'y', CONFIG_AUDIT: 'n' },
          error: null,
        },
        {
          release: older,
          path: `/boot/config-${older}`,
          options: { CONFIG_MODULES: 'y', CONFIG_AUDIT: 'y' },
          error: null,
        },
      ]);
      const text = await cli('facts', ...ssh());
      expect(text.out).toContain(`  installed by kernelfile: /boot/config-${newer} (2 options)\n`);
      // The host runs a kernelfile build (the running release has a receipt): its config is the
      // running one, compared on the host (this machine's /proc/config.gz) and not sent twice.
      // The host shares this machine's kernel.
      if (existsSync('/proc/config.gz')) {
        expect(f.config.source).toBe('/proc/config.gz');
        await h.exec(['sh', '-c', `gzip -dc /proc/config.gz > '/boot/config-${running}'`]);
        await put(`/var/lib/kernelfile/${running}.json`, receiptText(running));
        const g = jsonOutput((await cli('facts', '--json', ...ssh())).out, 'facts');
        expect(g.config.installed?.map((c) => c.release)).toEqual([running, newer]);
        expect(g.config.installed?.[0]).toEqual({
          release: running,
          path: `/boot/config-${running}`,
          options: g.config.options,
          error: null,
        });
      }
    } finally {
      await h.exec([
        'sh',
        '-c',
        `rm -f /var/lib/kernelfile/*.json '/boot/config-${older}' '/boot/config-${newer}' '/boot/config-${running}'`,
      ]);
    }
  });

  it('reports a host without dkms and without /boot as facts, not as a failure', async () => {
    const bare = await startSshHost();
    try {
      await bare.exec(['sh', '-c', 'rm -f /usr/sbin/dkms && rm -rf /boot /var/lib/dkms']);
      writeFileSync(kh, `${h.knownHostsLine()}\n${bare.knownHostsLine()}\n`);
      const r = await cli(
        'facts',
        '--json',
        '--host',
        `ssh://root@127.0.0.1:${bare.port}`,
        '--ssh-config',
        'none',
        '--known-hosts',
        kh,
        '-i',
        bare.keys.root.privateKeyPath,
      );
      expect(r.code).toBe(0);
      const f = jsonOutput(r.out, 'facts');
      expect(f.dkms).toMatchObject({ version: null, modules: [] });
      expect(f.tools.dkms).toBeNull();
      expect(f.kernels.filter((k) => k.image)).toEqual([]);
    } finally {
      await bare.stop();
    }
  });

  it('a non-root user lists what it could not read; --sudo reads it as root', async () => {
    await h.exec([
      'sh',
      '-c',
      'mkdir -p /var/lib/kernelfile && echo "{}" > /var/lib/kernelfile/x.json && chmod 700 /var/lib/kernelfile',
    ]);
    const plain = jsonOutput((await cli('facts', '--json', ...ssh('alice', 'alice'))).out, 'facts');
    expect(plain.system.uid).not.toBe(0);
    expect(plain.unreadable).toContain('/var/lib/kernelfile');
    const sudo = jsonOutput((await cli('facts', '--json', '--sudo', ...ssh('alice', 'alice'))).out, 'facts');
    expect(sudo.system.uid).toBe(0);
    expect(sudo.unreadable).not.toContain('/var/lib/kernelfile');
  });

  describe('a host that cannot be used: one line naming the host and the cause, exit 1', () => {
    it.each([
      [
        'unreachable port',
        async () => [
          '--host',
          `ssh://root@127.0.0.1:${await freePort()}`,
          '--ssh-config',
          'none',
          '--known-hosts',
          kh,
        ],
        /^kernelfile: ssh:\/\/root@127\.0\.0\.1:\d+: connection refused on 127\.0\.0\.1:\d+\n {2}hint: /,
      ],
      [
        'refused authentication',
        async () => ssh('root', 'stranger'),
        /^kernelfile: ssh:\/\/root@127\.0\.0\.1:\d+: authentication refused for user root \(offered: .*\)\n {2}hint: /,
      ],
      [
        'unknown host key',
        async () => [
          '--host',
          `ssh://root@127.0.0.1:${h.port}`,
          '--ssh-config',
          'none',
          '--known-hosts',
          join(dir, 'empty'),
          '-i',
          h.keys.root.privateKeyPath,
        ],
        /^kernelfile: ssh:\/\/root@127\.0\.0\.1:\d+: host key SHA256:\S+ is not in known_hosts .*\n {2}hint: .*--accept-new-host-keys/,
      ],
      [
        'sudo wanting a password',
        async () => ['--sudo', ...ssh('bob', 'bob')],
        /^kernelfile: ssh:\/\/bob@127\.0\.0\.1:\d+: sudo wants a password for bob\n {2}hint: .*NOPASSWD/,
      ],
      [
        'a root filesystem that does not exist',
        async () => ['--host', 'root:/nonexistent/kf-root'],
        /^kernelfile: root:\/nonexistent\/kf-root: \/nonexistent\/kf-root is not a directory\n/,
      ],
      [
        'an address that is not one',
        async () => ['--host', 'web;reboot'],
        /^kernelfile: cannot read a host name in --host web;reboot\n {2}hint: use `local`/,
      ],
    ])('%s', async (_name, args, message) => {
      const given = await args();
      const r = await cli('facts', ...given);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err.split('\n').filter(Boolean).length).toBeLessThanOrEqual(2);
      // With --json: the same error as the error document on stdout; the text on stderr, exit 1.
      const j = await cli('facts', '--json', ...given);
      expect(j.code).toBe(1);
      expect(j.err).toMatch(message);
      const e = jsonOutput(j.out, 'error');
      expect(e.command).toBe('facts');
      expect(j.err).toContain(`kernelfile: ${e.error.message}\n`);
      if (e.error.hint) expect(j.err).toContain(`  hint: ${e.error.hint}`);
      expect(e.error.internal).toBe(false);
    });
  });
});
