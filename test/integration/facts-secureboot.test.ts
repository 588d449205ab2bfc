/**
 * The secureboot family's real script: under dash and busybox sh against a temp root (EFI
 * variables in efivarfs layout, /etc/dkms, /var/lib/dkms) with a stand-in mokutil on PATH printing
 * mokutil's formats; as an unprivileged user where the variables are root-only; and gathered from a
 * root:DIR image, where neither the variables (the image's /sys is this machine's) nor the image's
 * mokutil are used, while its dkms configuration is.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gather } from '../../src/facts/gather.js';
import { composeScript, isComplete, splitSections } from '../../src/facts/protocol.js';
import { EFI_GLOBAL_GUID, SHIM_GUID, secureboot } from '../../src/facts/secureboot.js';
import { ChrootTransport } from '../../src/host/chroot.js';
import { copyRoot, ensureDebianRoot } from '../helpers/rootfs.js';
import { canRunUnprivileged, runSh, which } from '../helpers/sh.js';

const NONCE = 'kfSBTEST0001';
const root = mkdtempSync(join(tmpdir(), 'kf-sb-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const efivars = join(root, 'sys/firmware/efi/efivars');
const log = join(root, 'mokutil.log');

function cert(name: string, cn: string): { der: string; sha1: string; colons: string } {
  const der = join(root, `${name}.der`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '30',
      '-subj',
      `/CN=${cn}/`,
      '-keyout',
      '/dev/null',
      '-outform',
      'DER',
      '-out',
      der,
    ],
    { stdio: 'ignore' },
  );
  const fp = execFileSync('openssl', [
    'x509',
    '-inform',
    'DER',
    '-in',
    der,
    '-noout',
    '-fingerprint',
    '-sha1',
  ])
    .toString()
    .trim()
    .replace(/^.*=/, '')
    .toLowerCase();
  return { der, sha1: fp.replace(/:/g, ''), colons: fp };
}

/** What mokutil 0.6 prints for --list-enrolled/--list-new: [key N], the fingerprint, openssl's text. */
function listing(certs: { der: string; colons: string }[]): string {
  return certs
    .map((c, i) => {
      const text = execFileSync('openssl', [
        'x509',
        '-inform',
        'DER',
        '-in',
        c.der,
        '-noout',
        '-text',
      ]).toString();
      return `[key ${i + 1}]\nSHA1 Fingerprint: ${c.colons}\n${text}`;
    })
    .join('\n');
}

let kf: ReturnType<typeof cert>;
let host: ReturnType<typeof cert>;
beforeAll(() => {
  kf = cert('kf', 'kernelfile test key');
  host = cert('host', 'host dkms key');
  mkdirSync(efivars, { recursive: true });
  writeFileSync(join(efivars, `SecureBoot-${EFI_GLOBAL_GUID}`), Buffer.from([6, 0, 0, 0, 1]));
  writeFileSync(join(efivars, `SetupMode-${EFI_GLOBAL_GUID}`), Buffer.from([6, 0, 0, 0, 0]));
  writeFileSync(join(efivars, `MokSBStateRT-${SHIM_GUID}`), Buffer.from([6, 0, 0, 0, 1]));
  mkdirSync(join(root, 'etc/dkms/framework.conf.d'), { recursive: true });
  mkdirSync(join(root, 'keys'));
  writeFileSync(join(root, 'keys/MOK.priv'), 'PRIVATE KEY BYTES: never read by the script\n');
  chmodSync(join(root, 'keys/MOK.priv'), 0o600);
  writeFileSync(
    join(root, 'etc/dkms/framework.conf'),
    `# mok_signing_key=/var/lib/dkms/mok.key\nmok_signing_key="${root}/keys/MOK.priv"\nmok_certificate='${host.der}'\n`,
  );
  writeFileSync(join(root, 'enrolled.txt'), listing([host]));
  writeFileSync(join(root, 'new.txt'), listing([kf]));
  mkdirSync(join(root, 'bin'));
  writeFileSync(
    join(root, 'bin/mokutil'),
    `#!/bin/sh\necho "$*" >> ${log}\ncase $1 in\n--sb-state) echo 'SecureBoot enabled'; echo 'SecureBoot validation is disabled in shim' ;;\n--list-enrolled) cat ${root}/enrolled.txt ;;\n--list-new) cat ${root}/new.txt ;;\n*) exit 1 ;;\nesac\n`,
  );
  chmodSync(join(root, 'bin/mokutil'), 0o755);
}, 60_000);

function script(image = false): string {
  const s = secureboot.script
    .replaceAll('/sys/firmware/efi', `${root}/sys/firmware/efi`)
    .replaceAll('/etc/dkms', `${root}/etc/dkms`)
    .replaceAll('/var/lib/dkms', `${root}/var/lib/dkms`);
  return composeScript(NONCE, [{ name: 'secureboot', script: s }], { image });
}

function gatherRoot(opts: { shell?: string; unprivileged?: boolean; image?: boolean } = {}) {
  rmSync(log, { force: true });
  const r = runSh(script(opts.image), {
    env: { PATH: `${root}/bin:/usr/bin:/bin` },
    ...(opts.shell ? { shell: opts.shell } : {}),
    ...(opts.unprivileged ? { unprivileged: true } : {}),
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const sections = splitSections(r.stdout, NONCE);
  expect(isComplete(sections)).toBe(true);
  return { facts: secureboot.parse(sections.secureboot ?? {}), stdout: r.stdout };
}

const shells = [
  ['dash', which('dash')],
  ['busybox sh', which('busybox')],
].filter(([, p]) => p);

describe.each(shells)('the secureboot family under %s', (name) => {
  const shell = name === 'dash' ? (which('dash') as string) : undefined;
  const run = (o: { unprivileged?: boolean; image?: boolean } = {}) =>
    name === 'dash'
      ? gatherRoot({ shell: shell as string, ...o })
      : gatherRoot({ shell: `${root}/busybox-sh`, ...o });
  beforeAll(() => {
    if (name !== 'dash' && !existsSync(`${root}/busybox-sh`))
      writeFileSync(`${root}/busybox-sh`, `#!/bin/sh\nexec ${which('busybox')} sh "$@"\n`, { mode: 0o755 });
  });

  it('reads the variables, the enrolled and pending keys, and dkms signing configuration', () => {
    const { facts, stdout } = run();
    expect(facts).toEqual({
      state: 'enabled',
      source: 'efivars',
      shimValidationDisabled: true,
      mokutil: `${root}/bin/mokutil`,
      enrolled: { sha1: [host.sha1], hashes: 0 },
      pending: { sha1: [kf.sha1], hashes: 0 },
      dkms: {
        from: `${root}/etc/dkms/framework.conf`,
        key: `${root}/keys/MOK.priv`,
        certificate: host.der,
        keyExists: true,
        certificateExists: true,
        certificateSha1: host.sha1,
      },
    });
    // The key is never read; the certificate text mokutil prints is not kept.
    expect(stdout).not.toContain('PRIVATE KEY BYTES');
    expect(stdout).not.toContain('Signature Algorithm');
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['--list-enrolled', '--list-new']);
  });

  it.skipIf(!canRunUnprivileged)('root-only variables: the state from mokutil --sb-state', () => {
    chmodSync(join(efivars, `SecureBoot-${EFI_GLOBAL_GUID}`), 0o600);
    try {
      const { facts } = run({ unprivileged: true });
      expect(facts.state).toBe('enabled');
      expect(facts.source).toBe('mokutil');
      expect(facts.dkms.keyExists).toBe(true); // the key's existence, although it cannot be read
    } finally {
      chmodSync(join(efivars, `SecureBoot-${EFI_GLOBAL_GUID}`), 0o644);
    }
  });

  it('an image: no variables, no mokutil; the dkms configuration is read', () => {
    const { facts } = run({ image: true });
    expect(facts).toMatchObject({
      state: 'unknown',
      source: null,
      mokutil: null,
      enrolled: null,
      pending: null,
    });
    expect(facts.dkms.certificateSha1).toBe(host.sha1);
    expect(existsSync(log)).toBe(false);
  });
});

describe('a root:DIR host', () => {
  let image: { dir: string; cleanup(): Promise<void> };
  beforeAll(async () => {
    image = await copyRoot(await ensureDebianRoot());
    // A mokutil in the image that would leave a mark if anything ran it.
    writeFileSync(
      `${image.dir}/usr/bin/mokutil`,
      '#!/bin/sh\ntouch /ran-mokutil\necho SecureBoot enabled\n',
      {
        mode: 0o755,
      },
    );
    mkdirSync(`${image.dir}/etc/dkms`, { recursive: true });
    writeFileSync(`${image.dir}/etc/dkms/framework.conf`, 'mok_signing_key=/var/lib/dkms/mok.key\n');
  }, 30 * 60_000);
  afterAll(() => image?.cleanup());

  it("reports the state unknown, runs none of the image's mokutil, reads its dkms configuration", async () => {
    const t = new ChrootTransport(image.dir);
    const f = await gather(t);
    expect(f.secureboot).toMatchObject({ state: 'unknown', mokutil: null, enrolled: null, pending: null });
    expect(f.secureboot?.dkms).toMatchObject({ key: '/var/lib/dkms/mok.key', keyExists: false });
    expect(existsSync(`${image.dir}/ran-mokutil`)).toBe(false);
  }, 120_000);
});
