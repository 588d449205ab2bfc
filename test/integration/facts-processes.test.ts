/**
 * How many processes the facts script starts on a host (issue 15: a plan's cost on each host). They
 * are counted in the host's own PID namespace: /proc/sys/kernel/ns_last_pid before and after
 * `sh -s` (every fork counts, subshells and command substitutions included; nothing else runs in a
 * test host meanwhile). On the Debian test root as it is, and on a converged layout: two kernelfile
 * releases installed, the running one and the one before (`keep: 2`), their receipts, sidecars and
 * stat records as apply writes them, a DKMS module installed for both, grub.cfg, grubenv and
 * /etc/default/grub. Each gather also with the running config kept on the controller (a plan after
 * the first in a boot).
 *
 * The numbers are pinned per family: a change that starts more processes fails here; one that
 * starts fewer lowers them. (What each family still runs is listed beside its number.)
 */
import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILIES, type FamilyName } from '../../src/facts/families.js';
import { factsScript, parseFacts } from '../../src/facts/gather.js';
import { composeScript, splitSections } from '../../src/facts/protocol.js';
import { STAT_FILES_SH } from '../../src/receipt/paths.js';
import { receiptText } from '../helpers/receipt-text.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';

const NONCE = 'kfPROCESSES01';
/** The test host runs this machine's kernel: its /proc/config.gz, if the kernel has one. */
const procConfig = existsSync('/proc/config.gz');
const REL = release();
const OLD = '6.1.191-tiny-kf00000191';

/** The processes each family starts; `kept`: the running config is kept on the controller. */
function expected(layout: 'debian' | 'converged', kept: boolean): Record<FamilyName, number> {
  const converged = layout === 'converged';
  // config: gzip -dc /proc/config.gz (unless kept); converged: the running release's /boot/config
  // compared with it (gzip | cmp), the previous release's read (head -c). Without /proc/config.gz:
  // /boot/config-REL read (cat), and known to be the running config without comparing.
  const config = procConfig ? (kept ? 0 : 1) + (converged ? 3 : 0) : converged ? 2 : 0;
  return {
    system: 0,
    kernels: converged ? 1 : 0, // stat -L of /boot's files
    config,
    dkms: converged ? 2 : 1, // grep for dkms's version; converged: one readlink of both kernel links
    initramfs: 0,
    // grub-probe; converged: cat of grub.cfg, and grubenv and /etc/default/grub read whole (kf_grab:
    // one process each, cheaper than the shell's byte-at-a-time read of their kilobyte or so)
    boot: converged ? 4 : 1,
    space: 1, // df (one for /boot and /lib/modules)
    receipts: converged ? 1 : 0, // one stat for both sidecars (their stat records match: no sha256sum)
    tools: 0,
    libs: 1, // getconf GNU_LIBC_VERSION
    // dkms's framework.conf read whole (kf_grab); no EFI variables in a test host without EFI, no
    // mokutil in the test root
    secureboot: 1,
  };
}

/** Receipts, sidecars and stat records of two releases, as apply leaves them; sh run in the host. */
function convergeSh(): string {
  const release = (r: string, cfg: string) => `
mkdir -p /lib/modules/${r}/kernel/fs /lib/modules/${r}/updates/dkms /var/lib/dkms/kernelfile-hello/1.0/${r}/x86_64/module
head -c 300000 /dev/urandom >/boot/vmlinuz-${r}
head -c 100000 /dev/urandom >/boot/System.map-${r}; chmod 600 /boot/System.map-${r}
head -c 200000 /dev/urandom >/boot/initrd.img-${r}
${cfg}
echo 'kernel/fs/a.ko:' >/lib/modules/${r}/modules.dep
head -c 1000 /dev/urandom >/lib/modules/${r}/kernel/fs/a.ko
head -c 1000 /dev/urandom >/lib/modules/${r}/updates/dkms/kernelfile_hello.ko
ln -s 1.0/${r}/x86_64 /var/lib/dkms/kernelfile-hello/kernel-${r}-x86_64
cat >/var/lib/kernelfile/${r}.json <<'RECEIPT'
${receiptText(r)}RECEIPT
sha256sum /boot/vmlinuz-${r} /boot/System.map-${r} /boot/config-${r} /boot/initrd.img-${r} \\
  /lib/modules/${r}/kernel/fs/a.ko /lib/modules/${r}/updates/dkms/kernelfile_hello.ko >/var/lib/kernelfile/${r}.sha256
set -- /var/lib/kernelfile/${r}.sha256; (${STAT_FILES_SH}) >/var/lib/kernelfile/${r}.stat
`;
  return `set -eu
mkdir -p /var/lib/kernelfile /boot/grub /usr/src/kernelfile-hello-1.0 /var/lib/dkms/kernelfile-hello/1.0
printf 'PACKAGE_NAME="kernelfile-hello"\\nPACKAGE_VERSION="1.0"\\nAUTOINSTALL="yes"\\n' >/usr/src/kernelfile-hello-1.0/dkms.conf
ln -s /usr/src/kernelfile-hello-1.0 /var/lib/dkms/kernelfile-hello/1.0/source
${release(OLD, `printf 'CONFIG_MODULES=y\\n' >/boot/config-${OLD}`)}
touch -d '1 hour ago' /var/lib/kernelfile/${OLD}.json
${release(REL, procConfig ? `gzip -dc /proc/config.gz >/boot/config-${REL}` : `printf 'CONFIG_MODULES=y\\nCONFIG_X=y\\n' >/boot/config-${REL}`)}
cat >/boot/grub/grub.cfg <<'GRUB'
set default="0"
menuentry 'kernelfile (${REL})' --class debian $menuentry_id_option 'kernelfile-${REL}' {
	linux	/boot/vmlinuz-${REL} root=/dev/vda ro console=ttyS0
	initrd	/boot/initrd.img-${REL}
}
menuentry 'kernelfile (${OLD})' --class debian $menuentry_id_option 'kernelfile-${OLD}' {
	linux	/boot/vmlinuz-${OLD} root=/dev/vda ro console=ttyS0
	initrd	/boot/initrd.img-${OLD}
}
GRUB
printf '# GRUB Environment Block\\nsaved_entry=kernelfile-${REL}\\n' >/boot/grub/grubenv
printf 'GRUB_DEFAULT=saved\\nGRUB_TIMEOUT=5\\nGRUB_CMDLINE_LINUX=""\\n' >/etc/default/grub
`;
}

let h: SshHost;
beforeAll(async () => {
  h = await startSshHost({ hostname: 'kf-processes' });
});
afterAll(async () => {
  await h?.stop();
});

/** Run a script in the host: the processes it started, and its output. */
async function counted(script: string): Promise<{ processes: number; output: string }> {
  const r = await h.exec(
    [
      'sh',
      '-c',
      'a=$(cat /proc/sys/kernel/ns_last_pid); sh -s >/tmp/kf-out; b=$(cat /proc/sys/kernel/ns_last_pid); echo $((b - a - 2))',
    ],
    { stdin: script },
  );
  expect(r.code, r.stderr).toBe(0);
  const out = await h.exec(['cat', '/tmp/kf-out']);
  return { processes: Number(r.stdout.trim()), output: out.stdout };
}

async function check(layout: 'debian' | 'converged', kept: boolean) {
  const bootId = (await h.exec(['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
  const opts = kept ? { knownBoot: bootId } : {};
  const want = expected(layout, kept);
  const perFamily: Record<string, number> = {};
  for (const [name, family] of Object.entries(FAMILIES))
    perFamily[name] = (await counted(composeScript(NONCE, [family], opts))).processes;
  expect(perFamily).toEqual(want);
  const whole = await counted(factsScript(NONCE, opts));
  expect(whole.processes).toBe(Object.values(want).reduce((a, b) => a + b, 0));
  return {
    facts: parseFacts(whole.output, NONCE, 'kf-processes'),
    sections: splitSections(whole.output, NONCE),
  };
}

describe('processes the facts script starts on a host', () => {
  it('the Debian test root: 6 (5 with the running config kept)', async () => {
    const { facts } = await check('debian', false);
    expect(facts.system.distro.id).toBe('debian');
    expect(facts.tools['update-initramfs']).not.toBeNull();
    expect(facts.space.boot?.totalBytes).toBeGreaterThan(0);
    expect(facts.space.modules).toBeNull(); // no /lib/modules in the test root
    await check('debian', true);
  });

  it('a converged layout: 15 (14 with the running config kept)', async () => {
    const r = await h.exec(['sh', '-s'], { stdin: convergeSh() });
    expect(r.code, r.stderr).toBe(0);
    const { facts, sections } = await check('converged', false);
    // The layout takes the paths it is meant to: both stat records match, the running release's
    // config is the running one, the previous one's is read, both kernel links are read.
    expect(sections.receipts?.[`same:${REL}.sha256`]).toBe('1');
    expect(sections.receipts?.[`same:${OLD}.sha256`]).toBe('1');
    expect(facts.receipts.receipts.map((x) => [x.release, x.drift])).toEqual([
      [OLD, []],
      [REL, []],
    ]);
    expect(facts.config.installed?.map((c) => [c.release, c.error])).toEqual([
      [REL, null],
      [OLD, null],
    ]);
    expect(sections.config?.[`same:${REL}`]).toBe('running');
    expect(facts.dkms.modules.map((m) => [m.kernel, m.state])).toEqual([
      [OLD, 'installed'],
      [REL, 'installed'],
    ]);
    expect(facts.boot.loader).toBe('grub');
    expect(facts.boot.default).toBe(`kernelfile-${REL}`);
    expect(facts.kernels.filter((k) => k.bootBytes !== null).map((k) => k.release)).toEqual([OLD, REL]);
    expect(facts.space.modules?.totalBytes).toBeGreaterThan(0);
    await check('converged', true);
  });
});
