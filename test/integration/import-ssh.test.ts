/**
 * `kernelfile import` against a real SSH host (test/helpers/sshd.ts: a writable overlay of the
 * Debian test root) whose running kernel was installed by hand: the test puts /boot/vmlinuz-R,
 * /boot/config-R, /boot/System.map-R, /boot/initrd.img-R, /lib/modules/R, a GRUB menu entry and a
 * DKMS module built for R there (R is `uname -r`: the host runs this machine's kernel, a hand-built
 * one with /proc/config.gz). Through the real command line:
 *   - import writes the kernelfile and the running config, reads only (nothing appears on the host),
 *     and the kernelfile validates (one warning: the placeholder checksum);
 *   - `plan` stops at what the user must still provide, the source's checksum, before downloading
 *     anything (there is no source of this kernel here to resolve its config with);
 *   - a second import finds the files as they are; one that would change them is refused unless
 *     --force;
 *   - --adopt writes the receipt (version 2, no build id, the /boot files hashed on the host), which
 *     the host's facts read back without drift, and a second --adopt is refused; the planner, given
 *     the imported kernelfile, a build of it (no compile) and the host's fresh facts, installs the
 *     build beside the adopted kernel, compares with its config and never prunes it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release as osRelease, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { nodeFileView } from '../../src/engine/fsview.js';
import { gather } from '../../src/facts/gather.js';
import type { Transport } from '../../src/host/transport.js';
import { configValues } from '../../src/kconfig/config.js';
import { plan } from '../../src/plan/planner.js';
import { decodeReceipt } from '../../src/receipt/decode.js';
import { desiredFrom } from '../../src/resources/desired.js';
import { resolvePath } from '../../src/spec/paths.js';
import { validate } from '../../src/spec/validate.js';
import { cliIn } from '../helpers/cli-in-process.js';
import { planOptions } from '../helpers/plan-fixtures.js';
import { openRoot, type SshHost, startSshHost } from '../helpers/sshd.js';

const R = osRelease();
const PLACEHOLDER = '0'.repeat(64);
let h: SshHost;
let dir: string;
let t: Transport;
const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** The hand-installed kernel: what `make install modules_install` and dkms would have left. */
const SETUP = `set -e
R=$1
mkdir -p /boot/grub /lib/modules/$R/kernel/fs /var/lib/dkms/hello/1.0/$R/x86_64/module /usr/src/hello-1.0
head -c 65536 /dev/urandom > /boot/vmlinuz-$R
gzip -dc /proc/config.gz > /boot/config-$R
printf 'ffffffff81000000 T _text\\n' > /boot/System.map-$R
head -c 4096 /dev/urandom > /boot/initrd.img-$R
: > /lib/modules/$R/kernel/fs/ext4.ko
: > /lib/modules/$R/modules.dep
printf 'PACKAGE_NAME="hello"\\nPACKAGE_VERSION="1.0"\\n' > /usr/src/hello-1.0/dkms.conf
ln -s /usr/src/hello-1.0 /var/lib/dkms/hello/1.0/source
: > /var/lib/dkms/hello/1.0/$R/x86_64/module/hello.ko
ln -s 1.0/$R/x86_64 /var/lib/dkms/hello/kernel-$R-x86_64
cat > /boot/grub/grub.cfg <<EOF
set default="hand-built"
menuentry 'Debian GNU/Linux, with Linux $R' --class debian --id 'hand-built' {
	linux	/boot/vmlinuz-$R root=/dev/vda1 ro quiet console=ttyS0,115200
	initrd	/boot/initrd.img-$R
}
EOF
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-import-ssh-'));
  h = await startSshHost();
  const r = await h.exec(['sh', '-c', SETUP, 'setup', R]);
  expect(r.code, r.stderr).toBe(0);
  t = await openRoot(h, dir); // writes dir/known_hosts
}, 300_000);
afterAll(async () => {
  await t?.close();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => cliIn(dir, args);

const host = () => [
  '--host',
  `ssh://root@127.0.0.1:${h.port}`,
  '--ssh-config',
  'none',
  '--known-hosts',
  join(dir, 'known_hosts'),
  '-i',
  h.keys.root.privateKeyPath,
];

const version = R.match(/^\d+\.\d+\.\d+/)?.[0] as string;
const localversion = R.slice(version.length);

describe('kernelfile import of a hand-installed kernel over SSH', () => {
  it('writes the kernelfile and the running config; reads only', async () => {
    const r = await cli('import', ...host(), '--out', 'web');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`imported the running kernel ${R} of ssh://root@127.0.0.1:${h.port} as`);
    expect(r.out).toContain(`  wrote     web/kernelfile.yaml`);
    expect(r.out).toContain(`  wrote     web/${R}.config`);
    expect(r.out).toContain('Still to provide (also at the top of web/kernelfile.yaml):');
    expect(r.out).toContain(`  - kernel.source.sha256: the sha256 of linux-${version}.tar.xz`);
    expect(r.out).toContain(`      sha256sum linux-${version}.tar.xz`);
    expect(r.out).toContain(`  kernelfile plan web/kernelfile.yaml --host ssh://root@127.0.0.1:${h.port}`);

    const kf = parse(readFileSync(join(dir, 'web/kernelfile.yaml'), 'utf8'));
    expect(kf).toEqual({
      apiVersion: 'kernelfile/v1',
      name: expect.any(String),
      kernel: {
        version,
        source: {
          url: `https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz`,
          sha256: PLACEHOLDER,
        },
        ...(localversion ? { localversion } : {}),
      },
      config: { base: { file: `${R}.config` } },
      modules: [{ name: 'hello', version: '1.0', installed: true }],
      initramfs: { generator: 'initramfs-tools' },
      boot: { loader: 'grub', entries: [{ cmdline: 'ro quiet console=ttyS0,115200', default: true }] },
    });
    // The config is the host's running one, option for option.
    const running = (await h.exec(['sh', '-c', 'gzip -dc /proc/config.gz'])).stdout;
    expect(configValues(readFileSync(join(dir, `web/${R}.config`), 'utf8'))).toEqual(configValues(running));
    // Nothing was written on the host.
    expect((await h.exec(['sh', '-c', 'ls -A /var/lib/kernelfile 2>/dev/null | wc -l'])).stdout.trim()).toBe(
      '0',
    );
  });

  it('the kernelfile validates; its one warning is the checksum to fill in', async () => {
    const r = await cli('validate', 'web/kernelfile.yaml');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('warning: kernel.source.sha256 is a placeholder (64 zeros)');
    expect(r.out).toContain('web/kernelfile.yaml is valid (1 warning).');
    expect((await cli('validate', '--strict', 'web/kernelfile.yaml')).code).toBe(1);
  });

  it('plan stops at the checksum the user must provide, before downloading anything', async () => {
    const r = await cli('plan', 'web/kernelfile.yaml', ...host());
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `kernel source https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-${version}.tar.xz: its sha256 is the placeholder 0000…0000 (kernelfile import writes it for a checksum it cannot know): nothing was downloaded`,
    );
    const sources = join(dir, 'cache/kernelfile/sources');
    expect(existsSync(sources) ? readdirSync(sources) : []).toEqual([]);
  });

  it('again: the same files stay; a change is never overwritten without --force', async () => {
    const same = await cli('import', ...host(), '--out', 'web');
    expect(same.code, same.err).toBe(0);
    expect(same.out).toContain('  unchanged web/kernelfile.yaml');
    const file = join(dir, 'web/kernelfile.yaml');
    const mine = `${readFileSync(file, 'utf8')}# my notes\n`;
    writeFileSync(file, mine);
    const refused = await cli('import', ...host(), '--out', 'web');
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(
      `${file} exists (with other contents): kernelfile import never overwrites a file`,
    );
    expect(refused.err).toContain(
      'hint: import into another directory with --out DIR, or replace it with --force',
    );
    expect(readFileSync(file, 'utf8')).toBe(mine);
    const forced = await cli('import', ...host(), '--out', 'web', '--force');
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toContain('  replaced  web/kernelfile.yaml');
    expect(readFileSync(file, 'utf8')).not.toContain('# my notes');
  });

  it('--adopt writes the receipt of the running kernel; the facts read it back; a second --adopt is refused', async () => {
    const r = await cli('import', ...host(), '--out', 'adopted', '--name', 'edge', '--adopt');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(
      `adopted ${R}: wrote the receipt /var/lib/kernelfile/${R}.json on ssh://root@127.0.0.1:${h.port} (3 files listed for drift).`,
    );

    const text = (await h.exec(['cat', `/var/lib/kernelfile/${R}.json`])).stdout;
    const receipt = decodeReceipt(text, `${R}.json`);
    if (!receipt.ok) throw new Error(receipt.error);
    const boot = async (name: string) => (await h.exec(['cat', `/boot/${name}-${R}`])).stdout;
    const kfBytes = readFileSync(join(dir, 'adopted/kernelfile.yaml'));
    expect(receipt.value).toMatchObject({
      receiptVersion: 2,
      adopted: true,
      buildId: null,
      name: 'edge',
      release: R,
      version,
      kernelfile: { path: 'adopted/kernelfile.yaml', sha256: sha256(kfBytes) },
      modules: [{ name: 'hello', version: '1.0' }],
      initramfs: `/boot/initrd.img-${R}`,
      entries: ['hand-built'],
      loader: null,
      host: `ssh://root@127.0.0.1:${h.port}`,
    });
    // The image is binary: its digest on the host, from the host's own sha256sum.
    const image = (await h.exec(['sh', '-c', `sha256sum /boot/vmlinuz-${R} | cut -c1-64`])).stdout.trim();
    expect(receipt.value.files).toEqual([
      {
        path: `/boot/System.map-${R}`,
        sha256: sha256(await boot('System.map')),
        size: Buffer.byteLength(await boot('System.map')),
      },
      {
        path: `/boot/config-${R}`,
        sha256: sha256(await boot('config')),
        size: Buffer.byteLength(await boot('config')),
      },
      { path: `/boot/vmlinuz-${R}`, sha256: image, size: 65536 },
    ]);

    const facts = await gather(t);
    expect(facts.receipts.errors).toEqual([]);
    expect(facts.receipts.receipts.map((x) => [x.release, x.data.adopted, x.drift])).toEqual([[R, true, []]]);

    const shown = await cli('facts', ...host());
    expect(shown.out).toMatch(new RegExp(`Receipts:\\s+${R.replace(/[.+]/g, '\\$&')} \\(adopted\\)\n`));

    const again = await cli('import', ...host(), '--out', 'adopted', '--name', 'edge', '--adopt');
    expect(again.code).toBe(1);
    expect(again.err).toContain(
      `cannot adopt the running kernel: ${R} was already adopted (by the kernelfile edge)`,
    );
  });

  it('the next plan (a build of the imported kernelfile, no compile) installs it beside the adopted kernel', async () => {
    const file = join(dir, 'adopted/kernelfile.yaml');
    const bytes = readFileSync(file);
    const v = validate(bytes, 'adopted/kernelfile.yaml', { fs: nodeFileView, kernelfile: file, home: dir });
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    const facts = await gather(t);
    const buildId = sha256('a build of the imported kernelfile');
    const release = `${version}${localversion}-kf${buildId.slice(0, 8)}`;
    const desired = desiredFrom(
      v.value.spec,
      { path: 'adopted/kernelfile.yaml', sha256: sha256(bytes) },
      (w) => resolvePath(w, { kernelfile: file, home: dir }),
      {
        release,
        buildId,
        arch: 'x86_64',
        // What olddefconfig resolves the running config to, for the same source and compiler.
        effective: configValues(readFileSync(join(dir, `adopted/${R}.config`), 'utf8')),
        requested: [],
        artifacts: { cached: true, bootBytes: 70000 },
      },
      [],
    );
    const p = plan(desired, facts, planOptions(facts));
    const kernel = p.changes.find((c) => c.resource === 'kernel');
    expect(kernel).toMatchObject({ action: 'create', after: release });
    expect(kernel?.reason).toContain(
      `installed beside ${R} (the kernel adopted by kernelfile import), which stays`,
    );
    expect(p.changes.filter((c) => c.resource === 'prune')).toEqual([]);
    expect(p.notes).toContain(
      `${R} was adopted (kernelfile import --adopt): kernelfile did not build it and never removes it; remove it by hand when it is no longer wanted`,
    );
    // The Kconfig difference starts from the adopted kernel's config: nothing changed.
    expect(p.config).toMatchObject({
      base: 'installed',
      release: R,
      buildId: null,
      added: [],
      removed: [],
      changed: [],
    });
    expect(p.kept.map((k) => k.release)).toEqual([R]);
  });

  it('a root filesystem runs no kernel: nothing to import', async () => {
    const r = await cli('import', '--host', `root:${join(dir, 'web')}`, '--out', 'image');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is a root filesystem: it runs no kernel, so there is no running kernel to import/);
    expect(existsSync(join(dir, 'image'))).toBe(false);
  });
});
