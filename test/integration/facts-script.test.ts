/**
 * The real facts script on this machine: under dash (and busybox sh when present), as this user
 * and as an unprivileged one, checked against what Node itself sees; and proof that it only reads.
 * The families that need files this machine lacks (kernels in /boot, receipts with sidecars) also
 * run against a temp root: their script with the directories moved under it.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { config, INSTALLED_CONFIG_MAX_BYTES } from '../../src/facts/config.js';
import { dkms } from '../../src/facts/dkms.js';
import { factsScript, parseFacts } from '../../src/facts/gather.js';
import { kernels } from '../../src/facts/kernels.js';
import { composeScript, deniedPaths, isComplete, splitSections } from '../../src/facts/protocol.js';
import { RECEIPT_DIR, receipts } from '../../src/facts/receipts.js';
import { parseOsRelease } from '../../src/facts/system.js';
import { TOOL_NAMES } from '../../src/facts/types.js';
import { STAT_FILES_SH } from '../../src/receipt/paths.js';
import { journal, journalText, receiptText } from '../helpers/receipt-text.js';
import { canRunUnprivileged, isRoot, NOBODY, runSh, type ShRun, which } from '../helpers/sh.js';

const NONCE = 'kfSCRIPTTEST42';
const script = factsScript(NONCE);
const tmp = mkdtempSync(join(os.tmpdir(), 'kf-script-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gatherHere(opts: Parameters<typeof runSh>[1] = {}) {
  const r = runSh(script, { env: { PATH: '/usr/bin:/bin', TMPDIR: tmp }, ...opts });
  expect(r.code).toBe(0);
  expect(r.stderr).toBe(''); // families run with 2>/dev/null; the prelude itself prints no errors
  return parseFacts(r.stdout, NONCE, 'local');
}

/** What Node sees of this machine, independently of the script. */
function expectThisMachine(f: ReturnType<typeof parseFacts>) {
  expect(f.system.running).toBe(os.release());
  expect(f.system.hostname).toBe(os.hostname());
  expect(f.system.arch).toBe(os.machine());
  const osRelease = ['/etc/os-release', '/usr/lib/os-release'].find(existsSync);
  if (osRelease) expect(f.system.distro).toEqual(parseOsRelease(readFileSync(osRelease, 'utf8')));
  const modules = existsSync('/lib/modules') ? readdirSync('/lib/modules') : [];
  expect(f.kernels.filter((k) => k.modules).map((k) => k.release)).toEqual(
    expect.arrayContaining(modules.filter((m) => statSync(`/lib/modules/${m}`).isDirectory())),
  );
  for (const name of TOOL_NAMES) {
    const path = f.tools[name];
    if (path) expect(statSync(path).mode & 0o111, `${name} at ${path} is executable`).not.toBe(0);
  }
  expect(f.space.boot?.totalBytes ?? 0).toBeGreaterThan(0);
  expect(f.digest).toMatch(/^[0-9a-f]{64}$/);
}

describe('the facts script on this machine', () => {
  it('runs under dash as this user and parses into facts that match the machine', () => {
    const f = gatherHere();
    expectThisMachine(f);
    expect(f.system.uid).toBe(process.getuid?.());
    if (existsSync('/proc/config.gz')) {
      expect(f.config.source).toBe('/proc/config.gz');
      expect(Object.keys(f.config.options).length).toBeGreaterThan(100);
    }
  });

  it.skipIf(!canRunUnprivileged)('runs as an unprivileged user without a sbin PATH', () => {
    const f = gatherHere({ unprivileged: true });
    expectThisMachine(f);
    expect(f.system.uid).toBe(isRoot ? NOBODY : process.getuid?.());
    const depmod = which('depmod');
    if (depmod) expect(f.tools.depmod).toBe(depmod); // found in sbin although PATH has no sbin
  });

  it.skipIf(!which('busybox'))('runs under busybox sh', () => {
    expectThisMachine(gatherHere({ prefix: [which('busybox') as string], shell: 'sh' }));
  });

  it.skipIf(!which('bash'))('gives the same facts under dash and bash', () => {
    const a = gatherHere();
    const b = gatherHere({ shell: which('bash') as string });
    expect({ ...b, space: null, digest: null }).toEqual({ ...a, space: null, digest: null });
  });
});

/*
 * A temp root for the kernels and receipts families: /boot with one release (System.map root-only,
 * as Debian ships it), a symlinked image and a dangling one; a receipt whose sidecar lists five
 * files, of which one changed after apply and one is gone; a pending apply.
 */
const ROOT = mkdtempSync(join(os.tmpdir(), 'kf-root-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));
const REL = '6.1.0-18-amd64';
const sidecarFiles = {
  image: `${ROOT}/boot/vmlinuz-${REL}`,
  config: `${ROOT}/boot/config-${REL}`,
  systemMap: `${ROOT}/boot/System.map-${REL}`,
  module: `${ROOT}/lib/modules/${REL}/updates/dkms/my module.ko`,
  gone: `${ROOT}/boot/initrd.img-${REL}.gone`,
};
function makeRoot(): void {
  chmodSync(ROOT, 0o755);
  for (const d of ['boot/grub', 'images', `lib/modules/${REL}/updates/dkms`, 'var/lib/kernelfile/pending'])
    mkdirSync(join(ROOT, d), { recursive: true });
  const file = (path: string, bytes: number, mode = 0o644) => {
    writeFileSync(path, 'k'.repeat(bytes));
    chmodSync(path, mode);
  };
  file(sidecarFiles.image, 1000);
  file(sidecarFiles.config, 300);
  file(sidecarFiles.systemMap, 83, 0o600);
  file(`${ROOT}/boot/initrd.img-${REL}`, 5000);
  file(sidecarFiles.module, 10);
  file(sidecarFiles.gone, 1);
  file(`${ROOT}/images/vmlinuz-7.0`, 2000);
  symlinkSync('../images/vmlinuz-7.0', `${ROOT}/boot/vmlinuz-7.0`);
  symlinkSync('../images/nowhere', `${ROOT}/boot/initrd.img-7.0`);
  const kf = `${ROOT}${RECEIPT_DIR}`;
  const sums = runSh(
    `sha256sum ${Object.values(sidecarFiles)
      .map((p) => `'${p}'`)
      .join(' ')}\n`,
  );
  expect(sums.code).toBe(0);
  writeFileSync(`${kf}/${REL}.sha256`, sums.stdout);
  writeFileSync(`${kf}/${REL}.json`, receiptText(REL));
  writeFileSync(`${kf}/pending/6.1.0-19-amd64.json`, journalText('6.1.0-19-amd64'));
  writeFileSync(sidecarFiles.config, 'x'.repeat(300)); // changed after apply, same size
  rmSync(sidecarFiles.gone);
}
makeRoot();

const rootScript = composeScript(NONCE, [
  { name: 'kernels', script: kernels.script.replaceAll('/boot', `${ROOT}/boot`) },
  { name: 'receipts', script: receipts.script.replaceAll(RECEIPT_DIR, `${ROOT}${RECEIPT_DIR}`) },
]);

function gatherRoot(opts: Parameters<typeof runSh>[1] = {}) {
  const r: ShRun = runSh(rootScript, { env: { PATH: '/usr/bin:/bin' }, ...opts });
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  const sections = splitSections(r.stdout, NONCE);
  expect(isComplete(sections)).toBe(true);
  return {
    kernels: kernels.parse(sections.kernels ?? {}),
    receipts: receipts.parse(sections.receipts ?? {}),
    unreadable: deniedPaths(sections),
  };
}

/** A directory whose stat and sha256sum are busybox's applets, as on a busybox-only host. */
function busyboxApplets(): string {
  const bin = join(ROOT, 'busybox-bin');
  if (!existsSync(bin)) {
    mkdirSync(bin);
    for (const applet of ['stat', 'sha256sum']) symlinkSync(which('busybox') as string, join(bin, applet));
  }
  return bin;
}

describe('the kernels and receipts families against a temp root', () => {
  const expectRoot = (f: ReturnType<typeof gatherRoot>, expected: string[]) => {
    expect(
      f.kernels.filter((k) => k.release === REL || k.release === '7.0').map((k) => [k.release, k.bootBytes]),
    ).toEqual([
      [REL, 1000 + 300 + 83 + 5000],
      ['7.0', 2000], // the symlink counts as the image it points to; the dangling initramfs is no file
    ]);
    expect(f.receipts.receipts.map((r) => [r.release, r.drift])).toEqual([[REL, expected]]);
    expect(f.receipts.pending.map((r) => [r.release, r.data, r.drift])).toEqual([
      ['6.1.0-19-amd64', journal('6.1.0-19-amd64'), null],
    ]);
    expect(f.receipts.errors).toEqual([]);
  };
  // what the files' owner (this user) sees
  const drift = [sidecarFiles.config, sidecarFiles.gone];

  it('dash, coreutils: sizes from stat, drift from sha256sum -c', () => {
    const f = gatherRoot();
    expectRoot(f, drift);
    expect(f.unreadable).toEqual([]);
  });

  it.skipIf(!which('busybox'))('busybox sh, and busybox stat and sha256sum', () => {
    expectRoot(gatherRoot({ prefix: [which('busybox') as string], shell: 'sh' }), drift);
    const bin = busyboxApplets();
    expectRoot(gatherRoot({ env: { PATH: `${bin}:/usr/bin:/bin` } }), drift);
    expectRoot(
      gatherRoot({
        prefix: [which('busybox') as string],
        shell: 'sh',
        env: { PATH: `${bin}:/usr/bin:/bin` },
      }),
      drift,
    );
  });

  // (as another user than root, the files are this user's own: nothing to deny)
  it.skipIf(!isRoot || !which('setpriv'))(
    'unprivileged: a root-only file is drift, and listed as unreadable',
    () => {
      const f = gatherRoot({ unprivileged: true });
      expectRoot(f, [sidecarFiles.config, sidecarFiles.systemMap, sidecarFiles.gone]);
      expect(f.unreadable).toEqual([sidecarFiles.systemMap]);
    },
  );

  it('no sha256sum on the host: drift null, the rest as before', () => {
    const bin = join(ROOT, 'no-sha256sum-bin');
    if (!existsSync(bin)) {
      mkdirSync(bin);
      for (const t of ['stat', 'cat', 'readlink', 'od']) {
        const path = which(t);
        if (path) symlinkSync(path, join(bin, t));
      }
    }
    // kf_which also looks in the sbin and bin directories: hide them with a PATH-only lookup
    const script = rootScript.replace(
      'for kf_d in $PATH /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do',
      `for kf_d in ${bin}; do`,
    );
    expect(script).not.toBe(rootScript);
    const r = runSh(script, { env: { PATH: bin }, shell: which('dash') ?? 'sh' });
    const sections = splitSections(r.stdout, NONCE);
    expect(isComplete(sections)).toBe(true);
    expect(receipts.parse(sections.receipts ?? {}).receipts.map((x) => x.drift)).toEqual([null]);
    expect(kernels.parse(sections.kernels ?? {}).find((k) => k.release === REL)?.bootBytes).toBe(6383);
  });
});

/*
 * The stat record apply keeps beside a sidecar (<release>.stat, written with STAT_FILES_SH as the
 * executor writes it): while every listed file is as stat saw it, the files are not hashed again;
 * any write, even one that keeps the size and puts the mtime back, changes the ctime and brings
 * sha256sum -c back.
 */
describe('the receipts family: files not hashed again while stat says nothing changed', () => {
  const R = mkdtempSync(join(os.tmpdir(), 'kf-stat-root-'));
  afterAll(() => rmSync(R, { recursive: true, force: true }));
  chmodSync(R, 0o755);
  const rel = '6.1.0-20-amd64';
  const kf = `${R}${RECEIPT_DIR}`;
  mkdirSync(kf, { recursive: true });
  const files = [`${R}/vmlinuz-${rel}`, `${R}/my module.ko`];
  for (const f of files) writeFileSync(f, 'k'.repeat(100));
  const sidecar = `${kf}/${rel}.sha256`;
  writeFileSync(sidecar, runSh(`sha256sum ${files.map((f) => `'${f}'`).join(' ')}\n`).stdout);
  writeFileSync(`${kf}/${rel}.json`, receiptText(rel));
  const script = composeScript(NONCE, [
    { name: 'receipts', script: receipts.script.replaceAll(RECEIPT_DIR, kf) },
  ]);
  const gatherStat = () => {
    const r = runSh(script, { env: { PATH: '/usr/bin:/bin' } });
    expect(r.code).toBe(0);
    const sections = splitSections(r.stdout, NONCE).receipts ?? {};
    return { sections, drift: receipts.parse(sections).receipts.map((x) => x.drift) };
  };
  const record = () => {
    const r = spawnSync(
      'sh',
      ['-c', `(${STAT_FILES_SH}) >"$2.tmp" && mv -f "$2.tmp" "$2"`, 'kf-stat', sidecar, `${kf}/${rel}.stat`],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
  };

  it('no stat record: hashed (sha256sum -c)', () => {
    const { sections, drift } = gatherStat();
    expect(Object.keys(sections)).toContain(`check:${rel}.sha256`);
    expect(drift).toEqual([[]]);
  });

  it('the record matches: not hashed, no drift', () => {
    record();
    expect(readFileSync(`${kf}/${rel}.stat`, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    const { sections, drift } = gatherStat();
    expect(sections[`same:${rel}.sha256`]).toBe('1');
    expect(Object.keys(sections)).not.toContain(`check:${rel}.sha256`);
    expect(drift).toEqual([[]]);
  });

  it('a file rewritten with the same size and its old mtime put back: hashed, and drift found', () => {
    record();
    const before = statSync(files[1] as string);
    writeFileSync(files[1] as string, 'x'.repeat(100));
    utimesSync(files[1] as string, before.atime, before.mtime);
    const { sections, drift } = gatherStat();
    expect(sections[`same:${rel}.sha256`]).toBeUndefined();
    expect(drift).toEqual([[files[1]]]);
  });

  // The shell reads a small sidecar and the record itself and runs one stat: the answer must be
  // cmp's, byte for byte. (A record from another run, then edited: every file hashed again.)
  it.each([
    ['an extra newline at its end', (t: string) => `${t}\n`],
    ['its last newline missing', (t: string) => t.slice(0, -1)],
    ['a line missing', (t: string) => t.split('\n').slice(1).join('\n')],
    ['empty', () => ''],
  ])('a record with %s: hashed', (_what, edit) => {
    writeFileSync(files[1] as string, 'k'.repeat(100));
    writeFileSync(sidecar, runSh(`sha256sum ${files.map((f) => `'${f}'`).join(' ')}\n`).stdout);
    record();
    const stat = `${kf}/${rel}.stat`;
    writeFileSync(stat, edit(readFileSync(stat, 'utf8')));
    const { sections, drift } = gatherStat();
    expect(sections[`same:${rel}.sha256`]).toBeUndefined();
    expect(drift).toEqual([[]]);
    record();
    expect(gatherStat().sections[`same:${rel}.sha256`]).toBe('1');
  });

  it('a sidecar larger than the shell reads itself (8 KiB): stat through STAT_FILES_SH, the same answers', () => {
    const many = Array.from({ length: 90 }, (_, i) => `${R}/module-${String(i).padStart(3, '0')}.ko`);
    for (const f of many) writeFileSync(f, `m${f}`);
    const all = [...files, ...many];
    writeFileSync(sidecar, runSh(`sha256sum ${all.map((f) => `'${f}'`).join(' ')}\n`).stdout);
    expect(statSync(sidecar).size).toBeGreaterThan(8192);
    record();
    const { sections, drift } = gatherStat();
    expect(sections[`same:${rel}.sha256`]).toBe('1');
    expect(sections[`sidecar:${rel}.sha256`]).toBe(readFileSync(sidecar, 'utf8'));
    expect(drift).toEqual([[]]);
    writeFileSync(many[42] as string, 'changed');
    const after = gatherStat();
    expect(after.sections[`same:${rel}.sha256`]).toBeUndefined();
    expect(after.drift).toEqual([[many[42]]]);
    writeFileSync(sidecar, runSh(`sha256sum ${files.map((f) => `'${f}'`).join(' ')}\n`).stdout);
  });
});

/*
 * Several receipts: one stat for the files of every sidecar the shell read, each sidecar's lines
 * compared with its own record; a stat of their own where a listed file is gone (the combined lines
 * no longer match the names), STAT_FILES_SH for a sidecar over 8 KiB.
 */
describe('the receipts family: one stat for several sidecars', () => {
  const R = mkdtempSync(join(os.tmpdir(), 'kf-stats-root-'));
  afterAll(() => rmSync(R, { recursive: true, force: true }));
  chmodSync(R, 0o755);
  const kf = `${R}${RECEIPT_DIR}`;
  mkdirSync(kf, { recursive: true });
  const rels = ['6.1.0-21-amd64', '6.1.0-22-amd64', '6.1.0-23-amd64'];
  const filesOf = (rel: string, n = 3) => Array.from({ length: n }, (_, i) => `${R}/${rel}/file ${i}.ko`);
  const script = composeScript(NONCE, [
    { name: 'receipts', script: receipts.script.replaceAll(RECEIPT_DIR, kf) },
  ]);
  /** Sidecar and stat record of a release, as apply writes them (files written first). */
  const install = (rel: string, n = 3) => {
    mkdirSync(`${R}/${rel}`, { recursive: true });
    for (const f of filesOf(rel, n)) writeFileSync(f, `${f}\n`);
    const sidecar = `${kf}/${rel}.sha256`;
    writeFileSync(
      sidecar,
      runSh(
        `sha256sum ${filesOf(rel, n)
          .map((f) => `'${f}'`)
          .join(' ')}\n`,
      ).stdout,
    );
    writeFileSync(`${kf}/${rel}.json`, receiptText(rel));
    const r = spawnSync('sh', ['-c', `(${STAT_FILES_SH}) >"$2"`, 'kf-stat', sidecar, `${kf}/${rel}.stat`]);
    expect(r.status).toBe(0);
  };
  const shells: [string, Parameters<typeof runSh>[1]][] = [['dash', {}]];
  if (which('busybox')) shells.push(['busybox sh', { prefix: [which('busybox') as string], shell: 'sh' }]);
  if (which('bash')) shells.push(['bash', { shell: which('bash') as string }]);
  const gatherAll = (o: Parameters<typeof runSh>[1]) => {
    const r = runSh(script, { env: { PATH: '/usr/bin:/bin' }, ...o });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const sections = splitSections(r.stdout, NONCE).receipts ?? {};
    const parsed = receipts.parse(sections);
    return {
      same: rels.filter((rel) => sections[`same:${rel}.sha256`] === '1'),
      drift: Object.fromEntries(parsed.receipts.map((x) => [x.release, x.drift])),
    };
  };

  it.each(shells)(
    '%s: every record matches, a file gone when its record was written, a file changed since',
    (_s, o) => {
      for (const rel of rels) install(rel);
      expect(gatherAll(o)).toEqual({ same: rels, drift: Object.fromEntries(rels.map((r) => [r, []])) });
      // A listed file already gone when the record was written: its record says so, still the same.
      rmSync(filesOf(rels[1] as string)[2] as string);
      spawnSync('sh', [
        '-c',
        `(${STAT_FILES_SH}) >"$2"`,
        'kf-stat',
        `${kf}/${rels[1]}.sha256`,
        `${kf}/${rels[1]}.stat`,
      ]);
      expect(gatherAll(o).same).toEqual(rels);
      // A file changed since its record: that sidecar is hashed (drift), the others are not.
      const changed = filesOf(rels[0] as string)[1] as string;
      writeFileSync(changed, 'changed\n');
      expect(gatherAll(o)).toEqual({
        same: [rels[1], rels[2]],
        drift: {
          [rels[0] as string]: [changed],
          [rels[1] as string]: [], // as its record says: not hashed
          [rels[2] as string]: [],
        },
      });
    },
  );

  // (STAT_FILES_SH needs `xargs -d`, which busybox sh's own xargs applet lacks: there, a large
  // sidecar is hashed every time, as it always was)
  it.each(shells)('%s: a sidecar over 8 KiB beside small ones', (s, o) => {
    for (const rel of rels) install(rel);
    install(rels[2] as string, 80);
    expect(statSync(`${kf}/${rels[2]}.sha256`).size).toBeGreaterThan(8192);
    expect(gatherAll(o)).toEqual({
      same: s === 'busybox sh' ? [rels[0], rels[1]] : rels,
      drift: Object.fromEntries(rels.map((r) => [r, []])),
    });
    writeFileSync(filesOf(rels[2] as string, 80)[70] as string, 'changed\n');
    expect(gatherAll(o)).toMatchObject({
      same: [rels[0], rels[1]],
      drift: { [rels[2] as string]: [filesOf(rels[2] as string, 80)[70]] },
    });
  });
});

/*
 * The dkms family against a temp tree (/var/lib/dkms moved under it): the kernel-* links' targets
 * from one GNU readlink, or one busybox readlink per link, are what readlink says of each.
 */
describe('the dkms family: the targets of the kernel links', () => {
  const D = mkdtempSync(join(os.tmpdir(), 'kf-dkms-root-'));
  afterAll(() => rmSync(D, { recursive: true, force: true }));
  const tree = join(D, 'var/lib/dkms');
  const links: Record<string, string> = {
    'hello/kernel-6.1.0-18-amd64-x86_64': '1.0/6.1.0-18-amd64/x86_64',
    'hello/kernel-6.1.0-19-amd64-x86_64': `${tree}/hello/1.0/6.1.0-19-amd64/x86_64`,
    'hello/kernel-7.0-x86_64': '2.0/7.0/x86_64', // dangling
    'other/kernel-6.1.0-18-amd64-x86_64': '0.9/6.1.0-18-amd64/x86_64',
    'newline/kernel-6.1-x86_64': 'a\nb',
  };
  for (const [link, target] of Object.entries(links)) {
    mkdirSync(join(tree, link, '..'), { recursive: true });
    symlinkSync(target, join(tree, link));
  }
  mkdirSync(join(tree, 'hello/1.0/6.1.0-18-amd64/x86_64'), { recursive: true });
  const dkmsScript = composeScript(NONCE, [
    { name: 'dkms', script: dkms.script.replaceAll('/var/lib/dkms', tree) },
  ]);
  const linkKeys = (opts: Parameters<typeof runSh>[1]) => {
    const r = runSh(dkmsScript, { env: { PATH: '/usr/bin:/bin' }, ...opts });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const s = splitSections(r.stdout, NONCE).dkms ?? {};
    return Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('link/')));
  };
  const expected = Object.fromEntries(
    Object.keys(links).map((l) => [`link/${l}`, readlinkSync(join(tree, l))]),
  );

  it('dash, GNU readlink: one for all links, one per link where a target holds a newline', () => {
    expect(linkKeys({})).toEqual(expected);
    const newline = join(tree, 'newline/kernel-6.1-x86_64');
    rmSync(newline);
    const { 'link/newline/kernel-6.1-x86_64': _gone, ...rest } = expected;
    expect(linkKeys({})).toEqual(rest);
    symlinkSync(links['newline/kernel-6.1-x86_64'] as string, newline);
  });

  it.skipIf(!which('bash'))('bash, GNU readlink', () => {
    expect(linkKeys({ shell: which('bash') as string })).toEqual(expected);
  });

  it.skipIf(!which('busybox'))('busybox sh, busybox readlink (one file at a time)', () => {
    const bin = join(D, 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(which('busybox') as string, join(bin, 'readlink'));
    expect(
      linkKeys({ prefix: [which('busybox') as string], shell: 'sh', env: { PATH: `${bin}:/usr/bin:/bin` } }),
    ).toEqual(expected);
  });
});

/*
 * The config family's installed configs against a temp root: /var/lib/kernelfile and /boot moved
 * under it (the running kernel's config is still this machine's /proc/config.gz, when it has one).
 * Receipts' modification times order them, as apply writes them: only the newest two are read.
 */
describe('the config family: the configs of the builds kernelfile installed', () => {
  const CFG = mkdtempSync(join(os.tmpdir(), 'kf-config-root-'));
  afterAll(() => rmSync(CFG, { recursive: true, force: true }));
  chmodSync(CFG, 0o755);
  mkdirSync(join(CFG, 'boot'), { recursive: true });
  mkdirSync(join(CFG, RECEIPT_DIR), { recursive: true });
  const running = os.release();
  const proc = existsSync('/proc/config.gz') ? runSh('gzip -dc /proc/config.gz\n').stdout : null;
  const cfgScript = config.script
    .replaceAll('/boot/config-', `${CFG}/boot/config-`)
    .replaceAll(RECEIPT_DIR, `${CFG}${RECEIPT_DIR}`);
  expect(cfgScript).not.toBe(config.script);

  /** Receipts (oldest first) and their configs: text, null for none, or `{text, mode}`. */
  function layout(receipts: [string, string | null | { text: string; mode: number }][]) {
    rmSync(join(CFG, 'boot'), { recursive: true, force: true });
    rmSync(join(CFG, RECEIPT_DIR), { recursive: true, force: true });
    mkdirSync(join(CFG, 'boot'));
    mkdirSync(join(CFG, RECEIPT_DIR), { recursive: true });
    const t0 = Date.now() / 1000 - 3600;
    receipts.forEach(([release, cfg], i) => {
      const file = join(CFG, RECEIPT_DIR, `${release}.json`);
      writeFileSync(file, receiptText(release));
      utimesSync(file, t0 + i * 60, t0 + i * 60);
      if (cfg === null) return;
      const path = join(CFG, 'boot', `config-${release}`);
      writeFileSync(path, typeof cfg === 'string' ? cfg : cfg.text);
      if (typeof cfg !== 'string') chmodSync(path, cfg.mode);
    });
  }
  function gatherConfig(opts: Parameters<typeof runSh>[1] = {}) {
    const r = runSh(composeScript(NONCE, [{ name: 'config', script: cfgScript }]), {
      env: { PATH: '/usr/bin:/bin' },
      ...opts,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const sections = splitSections(r.stdout, NONCE);
    expect(isComplete(sections)).toBe(true);
    return { config: config.parse(sections.config ?? {}), unreadable: deniedPaths(sections) };
  }
  const WEB =
    'CONFIG_MODULES=y\nCONFIG_LOCALVERSION="-web"\n# CONFIG_AUDIT is not set\nCONFIG_KERNEL_ZSTD=y\n';
  const OLD = 'CONFIG_MODULES=y\nCONFIG_AUDIT=y\n';
  const shells: [string, Parameters<typeof runSh>[1]][] = [['dash', {}]];
  if (which('busybox')) shells.push(['busybox sh', { prefix: [which('busybox') as string], shell: 'sh' }]);
  if (which('bash')) shells.push(['bash', { shell: which('bash') as string }]);

  it.each(shells)(
    '%s: the two newest receipts, newest first; a missing config is said to be missing',
    (_s, o) => {
      layout([
        ['6.1.117-web-kf00000117', OLD],
        ['6.1.118-web-kf00000118', null],
        ['6.1.119-web-kf00000119', WEB],
      ]);
      const { config: c } = gatherConfig(o);
      expect(c.installed).toEqual([
        {
          release: '6.1.119-web-kf00000119',
          path: '/boot/config-6.1.119-web-kf00000119',
          options: {
            CONFIG_MODULES: 'y',
            CONFIG_LOCALVERSION: '"-web"',
            CONFIG_AUDIT: 'n',
            CONFIG_KERNEL_ZSTD: 'y',
          },
          error: null,
        },
        {
          release: '6.1.118-web-kf00000118',
          path: '/boot/config-6.1.118-web-kf00000118',
          options: null,
          error: 'missing',
        },
      ]);
      // The running kernel's config is still this machine's.
      if (proc !== null) expect(c.source).toBe('/proc/config.gz');
    },
  );

  it.skipIf(proc === null)(
    'the running release installed by kernelfile: compared with /proc/config.gz on the host, not sent twice',
    () => {
      layout([
        ['6.1.119-web-kf00000119', WEB],
        [running, proc as string],
      ]);
      const r = runSh(composeScript(NONCE, [{ name: 'config', script: cfgScript }]), {
        env: { PATH: '/usr/bin:/bin' },
      });
      expect(r.stdout).toContain(`${NONCE} config same:${running}\n`);
      expect(r.stdout.split(`${NONCE} config installed:`)).toHaveLength(2); // only 6.1.119 in full
      const { config: c } = gatherConfig();
      expect(c.installed?.[0]).toEqual({
        release: running,
        path: `/boot/config-${running}`,
        options: c.options,
        error: null,
      });
      expect(Object.keys(c.options).length).toBeGreaterThan(100);
      // A /boot/config that differs from what the kernel runs is read in full.
      layout([[running, `${proc}CONFIG_KF_EDITED_SINCE=y\n`]]);
      const edited = gatherConfig().config.installed?.[0];
      expect(edited?.options?.CONFIG_KF_EDITED_SINCE).toBe('y');
      expect(edited?.options).not.toEqual(c.options);
    },
  );

  it('a config larger than the limit is not read beyond it, and not used', () => {
    const big = `CONFIG_MODULES=y\n${'# padding\n'.repeat(Math.ceil((2 * INSTALLED_CONFIG_MAX_BYTES) / 10))}`;
    layout([['6.1.119-web-kf00000119', big]]);
    const r = runSh(composeScript(NONCE, [{ name: 'config', script: cfgScript }]), {
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(r.stdout.length).toBeLessThan(INSTALLED_CONFIG_MAX_BYTES + 64 * 1024 + (proc?.length ?? 0) * 2);
    expect(gatherConfig().config.installed).toEqual([
      {
        release: '6.1.119-web-kf00000119',
        path: '/boot/config-6.1.119-web-kf00000119',
        options: null,
        error: 'larger than 8 MiB: not read',
      },
    ]);
  });

  it.skipIf(!isRoot || !which('setpriv'))(
    'unprivileged: a root-only config is unreadable, and listed so',
    () => {
      layout([['6.1.119-web-kf00000119', { text: WEB, mode: 0o600 }]]);
      const { config: c, unreadable } = gatherConfig({ unprivileged: true });
      expect(c.installed).toEqual([
        {
          release: '6.1.119-web-kf00000119',
          path: '/boot/config-6.1.119-web-kf00000119',
          options: null,
          error: 'not readable by the gathering user',
        },
      ]);
      expect(unreadable).toContain(`${CFG}/boot/config-6.1.119-web-kf00000119`);
    },
  );

  it('no receipts: none', () => {
    layout([]);
    expect(gatherConfig().config.installed).toEqual([]);
  });

  // The shell picks the two newest with test -nt; where it cannot tell (the same time, a symlink),
  // ls -t does, as it always did: the releases must come out in the order `ls -t | head -n 2` gives.
  const lsTwo = () =>
    runSh(`ls -t ${CFG}${RECEIPT_DIR}/*.json | head -n 2\n`)
      .stdout.split('\n')
      .filter(Boolean)
      .map((p) => (p.split('/').pop() as string).replace(/\.json$/, ''));
  const installedOf = (o: Parameters<typeof runSh>[1]) =>
    gatherConfig(o).config.installed?.map((c) => c.release);
  it.each(shells)(
    '%s: the two newest of many receipts, in any order, ties and symlinks included',
    (_s, o) => {
      const releases = ['6.1.110-a', '6.1.111-b', '6.1.112-c', '6.1.113-d', '6.1.114-e'];
      const t0 = Math.floor(Date.now() / 1000) - 3600;
      const dir = join(CFG, RECEIPT_DIR);
      const orders: number[][] = [
        [0, 1, 2, 3, 4],
        [4, 3, 2, 1, 0],
        [2, 4, 0, 3, 1],
        [1, 1, 0, 0, 0], // two tie for the newest
        [3, 2, 2, 1, 0], // two tie for the second
        [0, 0, 0, 0, 0], // all the same time
      ];
      for (const ages of orders) {
        layout(releases.map((r) => [r, WEB]));
        releases.forEach((r, i) => {
          const t = t0 + 60 * (ages[i] as number) + 0.25;
          utimesSync(join(dir, `${r}.json`), t, t);
        });
        const expected = lsTwo();
        expect(expected).toHaveLength(2);
        expect(installedOf(o), JSON.stringify(ages)).toEqual(expected);
      }
      // A symlink among them: ls -t decides (by the link's own time).
      layout(releases.map((r) => [r, WEB]));
      rmSync(join(dir, '6.1.112-c.json'));
      symlinkSync('6.1.110-a.json', join(dir, '6.1.112-c.json'));
      expect(installedOf(o)).toEqual(lsTwo());
    },
  );
});

describe('gathering only reads', () => {
  it('the script redirects output to /dev/null only and runs no command that writes', () => {
    const code = script.replace(/^\s*#.*$/gm, ''); // comments
    const redirections = code.match(/[0-9]*>>?&?[^\s);]*/g) ?? [];
    expect(redirections.length).toBeGreaterThan(0);
    // to /dev/null, or between descriptors (kf_run_err: 2>&1 >&3 3>&-), never to a file
    expect(redirections.filter((r) => !/^[0-9]*>(\/dev\/null|&[0-9-])$/.test(r))).toEqual([]);
    expect(code).not.toMatch(/<</); // here-documents may be temp files
    const writers =
      /(^|[\s;|&(`])(mkdir|touch|rm|rmdir|mv|cp|ln|tee|dd|truncate|chmod|chown|mktemp|mknod|mkfifo|sed)(\s|$)/m;
    expect(code.match(writers)?.[0] ?? null).toBeNull();
    // Tools (update-grub, grubby, dracut, …) are only looked up; the commands run are these:
    // (kf_proc reads a /proc file and runs its fallback command through kf_run "$@": the commands
    // are those its callers name after the path; kf_capture runs one for the shell to cut up)
    const runs = [
      ...[...code.matchAll(/kf_run(?:_err)?\s+\S+\s+(.*?)(?=;|\|\||&&|$)/gm)].map((m) => m[1]?.trim()),
      ...[...code.matchAll(/kf_proc\s+\S+\s+\/proc\/\S+\s+(.*?)(?=;|\|\||&&|$)/gm)].map((m) => m[1]?.trim()),
      ...[...code.matchAll(/kf_capture\s+(.*?)(?=;|\|\||&&|$)/gm)].map((m) => m[1]?.trim()),
    ].filter((r) => r !== '"$@"');
    expect(new Set(runs)).toEqual(
      new Set([
        'uname -m',
        'uname -r',
        'uname -v',
        'uname -n',
        'id -u',
        'gzip -dc /proc/config.gz',
        'zcat /proc/config.gz',
        'dkms --version',
        'dkms status',
        'df -P -k /boot',
        'df -P -k /lib/modules',
        'df -P -k /boot /lib/modules',
        `stat -L -c '%s %n' -- "$@"`,
        'grub-probe --target=device /',
        'grub2-probe --target=device /',
        'sha256sum -c "$kf_x"',
        // dkms: the targets of the kernel-* links, in one readlink where it takes several
        'readlink -- "$@"',
        // config: the newest receipts where the shell's test -nt cannot tell
        'ls -t "$@"',
        // receipts: the stat record's check of a sidecar the shell has read
        `stat -c '%s %y %z %i %n' -- "$@"`,
        // libs: the host's glibc version (read-only)
        'getconf GNU_LIBC_VERSION',
        // secureboot: the Secure Boot state where the EFI variables cannot be read (read-only)
        'mokutil --sb-state',
      ]),
    );
  });

  // strace sees every file the script and its children open for writing. The one exception is
  // dkms itself: every dkms invocation (even --version) sources its config through a temp file
  // from mktemp in $TMPDIR and deletes it (dkms's safe_source). Nothing else may be written.
  function writesOf(text: string): string[] {
    const log = join(tmp, 'strace.log');
    const r = runSh(text, {
      env: { PATH: '/usr/bin:/bin', TMPDIR: tmp },
      prefix: ['strace', '-f', '-qq', '-o', log, '-e', 'trace=%file'],
    });
    expect(r.code).toBe(0);
    const calls = readFileSync(log, 'utf8').split('\n');
    rmSync(log);
    const writes = calls.filter(
      (l) =>
        /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(l) ||
        /\b(mkdir|mkdirat|unlink|unlinkat|rename|renameat2?|link|linkat|symlink|symlinkat|truncate|chmod|fchmodat|chown|fchownat|mknod|mknodat|utimensat)\(/.test(
          l,
        ),
    );
    return writes.filter((l) => {
      if (/"\/dev\/(null|tty)"/.test(l)) return false;
      const path = l.match(/"([^"]+)"/)?.[1] ?? '';
      return !(path.startsWith(`${tmp}/tmp.`) && calls.some((c) => c.includes('unlink') && c.includes(path)));
    });
  }

  it.skipIf(!which('strace'))(
    'opens no file for writing, except the temp files dkms makes and removes',
    () => {
      expect(writesOf(`touch ${tmp}/probe\n`).join('\n')).toContain(`${tmp}/probe`); // the check sees writes
      expect(writesOf(script)).toEqual([]);
      expect(readdirSync(tmp).filter((n) => n.startsWith('tmp.'))).toEqual([]); // dkms removed its temp files
      expect(writesOf(rootScript)).toEqual([]); // stat and sha256sum -c over the temp root
    },
  );
});
