/**
 * Signing end to end (issue 16): examples/qemu-signed, with a test key pair made by openssl at test
 * time (test/helpers/kernel-artifacts.ts keeps it in the test cache, never in the repository), built
 * by kernelfile's build pipeline (cached by build id like the other test kernels, about 4 minutes
 * cold on 2 cores), then:
 *  - the artifacts: every in-tree module carries a signature, no file holds the private key, and
 *    the object tree kept no key file;
 *  - `kernelfile verify` (the CLI, as installed) boots it under QEMU with module.sig_enforce=1: the
 *    signed in-tree and DKMS modules load, an unsigned copy and a copy signed by another key are
 *    refused, with the kernel's messages;
 *  - the DKMS tarball a host without a compiler receives holds a signed module and not the key;
 *  - with signing.image (and the EFI stub), the image verifies with sbverify and still boots.
 * Needs root (dkms), linux-source-6.1, libssl-dev, openssl, dkms, qemu-system-x86, busybox-static.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuildSigning,
  buildSigning,
  isSigned,
  moduleSigner,
  SIG_KEY_PATH,
  keyNeedles as srcKeyNeedles,
  stripSignature,
} from '../../src/compile/signing.js';
import { buildDkmsTarball } from '../../src/dkms/tarball.js';
import { keygen } from '../../src/engine/keygen.js';
import type { Spec } from '../../src/spec/schema.js';
import { type ArtifactsInfo, loadArtifacts, verifyKernel } from '../../src/verify/verify.js';
import {
  ensureSignedImageArtifacts,
  ensureSignedKernelArtifacts,
  HELLO_MODULE,
  signedExampleCopy,
  TEST_BUILD_CACHE,
  testSigningKey,
} from '../helpers/kernel-artifacts.js';
import { note, requireCommands, secs } from '../helpers/proc.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin/kernelfile.cjs');
const SETUP_TIMEOUT = 40 * 60_000;

/** What a leak of the key would contain: its private numbers and PEM lines past the public modulus. */
function keyNeedles(keyPem: string): Buffer[] {
  const needles = srcKeyNeedles(keyPem);
  // The test's own look, independent of the code under test: d, p and q in full.
  const jwk = createPrivateKey(keyPem).export({ format: 'jwk' });
  for (const part of [jwk.d, jwk.p, jwk.q]) needles.push(Buffer.from(part as string, 'base64url'));
  return needles;
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, f))
    .filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
}

function holdingKey(files: string[], needles: Buffer[]): string[] {
  return files.filter((f) => {
    const bytes = readFileSync(f);
    return needles.some((n) => bytes.includes(n));
  });
}

describe('signing: examples/qemu-signed', () => {
  let artifacts: ArtifactsInfo;
  let scratch: string;
  let keyPem: string;
  let needles: Buffer[];

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error('the signing tests need root: dkms refuses add/install otherwise');
    requireCommands('signing', [
      ['openssl', 'openssl'],
      ['dkms', 'dkms'],
      ['qemu-system-x86_64', 'qemu-system-x86'],
      ['/bin/busybox', 'busybox-static'],
    ]);
    const t0 = Date.now();
    const dir = await ensureSignedKernelArtifacts();
    artifacts = await loadArtifacts(dir, { verifyChecksums: true });
    note(
      `signing: artifacts ready in ${secs(Date.now() - t0)} (build ${artifacts.manifest.seconds} s, compile ${artifacts.manifest.compileSeconds} s): ${dir}`,
    );
    keyPem = readFileSync((await testSigningKey()).key, 'utf8');
    needles = keyNeedles(keyPem);
    scratch = mkdtempSync(join(tmpdir(), 'kf-signing-'));
  }, SETUP_TIMEOUT);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('built a kernel that embeds the certificate and signed every in-tree module', () => {
    expect(artifacts.configText).toMatch(/^CONFIG_MODULE_SIG=y$/m);
    expect(artifacts.configText).toMatch(/^CONFIG_MODULE_SIG_ALL=y$/m);
    expect(artifacts.configText).toContain(`CONFIG_MODULE_SIG_KEY="${SIG_KEY_PATH}"`);
    const kos = filesUnder(artifacts.modulesDir as string).filter((f) => f.endsWith('.ko'));
    expect(kos.map((f) => f.slice(f.lastIndexOf('/') + 1))).toContain('crc7.ko');
    for (const ko of kos) expect(isSigned(readFileSync(ko)), ko).toBe(true);
    // The kernel's sign-file is in the headers, for DKMS modules built against them.
    expect(existsSync(join(artifacts.headersDir as string, 'scripts/sign-file'))).toBe(true);
  });

  it('kept the private key out of every artifact, the headers tree included, and out of the object tree', () => {
    expect(needles.length).toBeGreaterThanOrEqual(7);
    expect(holdingKey(filesUnder(artifacts.dir), needles)).toEqual([]);
    // obj/ of the build's directory (build-dir.ts); the directory itself in a test cache whose build
    // an earlier kernelfile made.
    const buildDir = join(TEST_BUILD_CACHE, 'kernelfile/objects', artifacts.buildId);
    const objtree = existsSync(join(buildDir, 'obj')) ? join(buildDir, 'obj') : buildDir;
    expect(existsSync(join(objtree, 'certs/signing_key.x509'))).toBe(true);
    expect(existsSync(join(objtree, SIG_KEY_PATH))).toBe(false);
  });

  it(
    '`kernelfile verify` boots it with enforced signatures: signed modules load, the unsigned and other-key copies are refused',
    async () => {
      const copy = join(scratch, 'example');
      mkdirSync(copy, { recursive: true });
      const kernelfile = await signedExampleCopy(copy);
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [bin, 'verify', '--json', kernelfile], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: TEST_BUILD_CACHE },
        maxBuffer: 64 * 1024 * 1024,
      });
      note(`signing: kernelfile verify in ${secs(Date.now() - t0)}`);
      const v = JSON.parse(r.stdout);
      expect(v.problems).toEqual([]);
      expect(r.status).toBe(0);
      expect(v.release).toBe(artifacts.release);
      expect(v.modules.map((m: { name: string; status: string }) => [m.name, m.status])).toEqual([
        ['kernelfile-hello', 'ok'],
        ['crc7', 'ok'],
      ]);
      expect(v.signatures.enforced).toBe(true);
      expect(v.signatures.checks).toEqual([
        {
          label: 'unsigned',
          module: 'kernelfile_hello',
          refused: true,
          detail: expect.stringMatching(
            /Key was rejected by service.*kernel: .*Loading of unsigned module is rejected/,
          ),
        },
        {
          label: 'other-key',
          module: 'kernelfile_hello',
          refused: true,
          detail: expect.stringMatching(/kernel: .*Loading of module with unavailable key is rejected/),
        },
      ]);
      // The text view says both.
      const text = spawnSync(process.execPath, [bin, 'verify', kernelfile], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: TEST_BUILD_CACHE },
      });
      note(`signing: kernelfile verify says\n${text.stdout}`);
      expect(text.stdout).toMatch(
        /ok {6}signatures enforced \(module\.sig_enforce=1\): every module above loaded signed/,
      );
      expect(text.stdout).toMatch(
        /ok {6}unsigned copy of kernelfile_hello refused: .*Loading of unsigned module is rejected/,
      );
      expect(text.stdout).toMatch(
        /ok {6}copy signed by another key of kernelfile_hello refused: .*unavailable key/,
      );
      // Nothing verify wrote holds the key (dkms logs, initramfs, console).
      const work = join(TEST_BUILD_CACHE, 'kernelfile/verify', artifacts.buildId);
      expect(holdingKey(filesUnder(work), needles)).toEqual([]);
      expect(`${r.stdout}${r.stderr}${text.stdout}${text.stderr}`).not.toContain(keyPem.split('\n')[3]);
    },
    10 * 60_000,
  );

  it(
    'signs the DKMS module of a host without a compiler on the controller: the tarball holds it signed, and not the key',
    async () => {
      const dir = join(scratch, 'example-dkms');
      mkdirSync(dir, { recursive: true });
      const kernelfile = await signedExampleCopy(dir);
      const signing = buildSigning(
        { signing: { key: 'keys/mok.key', certificate: 'keys/mok.crt', dkms: true } } as unknown as Spec,
        (w) => join(dir, w),
      ) as BuildSigning;
      expect(kernelfile).toBe(join(dir, 'kernelfile.yaml'));
      const archive = await buildDkmsTarball({
        name: 'kernelfile-hello',
        version: '1.0',
        from: HELLO_MODULE,
        release: artifacts.release,
        artifactsDir: artifacts.dir,
        workDir: join(scratch, 'tarball'),
        signing,
      });
      const tar = gunzipSync(readFileSync(archive));
      expect(needles.some((n) => tar.includes(n))).toBe(false);
      const list = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout.split('\n');
      const member = list.find((l) => l.endsWith('kernelfile_hello.ko'));
      expect(member).toBeDefined();
      const out = join(scratch, 'tarball-out');
      mkdirSync(out);
      expect(spawnSync('tar', ['-xzf', archive, '-C', out, member as string]).status).toBe(0);
      const ko = readFileSync(join(out, member as string));
      expect(isSigned(ko)).toBe(true);
      const signer = spawnSync('modinfo', ['-F', 'signer', join(out, member as string)], {
        encoding: 'utf8',
      });
      expect(signer.stdout.trim()).toBe('kernelfile test MOK');
    },
    10 * 60_000,
  );

  it('signs with a passphrase-protected key: the passphrase from signing.passphraseEnv reaches sign-file, a wrong one is an error', async () => {
    const dir = join(scratch, 'encrypted');
    mkdirSync(dir, { recursive: true });
    await keygen({
      out: dir,
      cn: 'kernelfile encrypted test',
      days: 30,
      passphraseEnv: 'KF_TEST_PIN',
      env: { KF_TEST_PIN: 'sesame' },
    });
    expect(readFileSync(join(dir, 'mok.key'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');
    const spec = {
      signing: { key: 'mok.key', certificate: 'mok.crt', passphraseEnv: 'KF_TEST_PIN', dkms: true },
    } as unknown as Spec;
    const crc7 = filesUnder(artifacts.modulesDir as string).find((f) => f.endsWith('/crc7.ko')) as string;
    const ko = join(dir, 'crc7.ko');
    writeFileSync(ko, stripSignature(readFileSync(crc7)));
    const good = buildSigning(spec, (w) => join(dir, w), { KF_TEST_PIN: 'sesame' }) as BuildSigning;
    await moduleSigner(good, artifacts.headersDir as string, artifacts.configText)(ko);
    expect(isSigned(readFileSync(ko))).toBe(true);
    const signer = spawnSync('modinfo', ['-F', 'signer', ko], { encoding: 'utf8' });
    expect(signer.stdout.trim()).toBe('kernelfile encrypted test');
    writeFileSync(ko, stripSignature(readFileSync(crc7)));
    const bad = buildSigning(spec, (w) => join(dir, w), { KF_TEST_PIN: 'wrong' }) as BuildSigning;
    await expect(moduleSigner(bad, artifacts.headersDir as string, artifacts.configText)(ko)).rejects.toThrow(
      /sign-file could not sign .*crc7\.ko/,
    );
  });
});

describe('signing.image: the qemu-signed example with the EFI stub', () => {
  let artifacts: ArtifactsInfo;
  let scratch: string;

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error('the signing tests need root: dkms refuses add/install otherwise');
    requireCommands('signing.image', [
      ['sbverify', 'sbsigntool'],
      ['qemu-system-x86_64', 'qemu-system-x86'],
    ]);
    const t0 = Date.now();
    artifacts = await loadArtifacts(await ensureSignedImageArtifacts(), { verifyChecksums: true });
    note(
      `signing.image: artifacts ready in ${secs(Date.now() - t0)} (build ${artifacts.manifest.seconds} s)`,
    );
    scratch = mkdtempSync(join(tmpdir(), 'kf-signing-image-'));
  }, SETUP_TIMEOUT);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it(
    'signed the image with the certificate (sbverify), kept the key out, and the image still boots with enforced module signatures',
    async () => {
      expect(artifacts.configText).toMatch(/^CONFIG_EFI_STUB=y$/m);
      const { certificate, key } = await testSigningKey();
      const ok = spawnSync('sbverify', ['--cert', certificate, artifacts.image], { encoding: 'utf8' });
      expect(ok.stdout + ok.stderr).toContain('Signature verification OK');
      expect(ok.status).toBe(0);
      // Another certificate does not verify it.
      const otherPair = await keygen({ out: join(scratch, 'other'), cn: 'other', days: 1 });
      expect(spawnSync('sbverify', ['--cert', otherPair.certificate, artifacts.image]).status).not.toBe(0);
      expect(holdingKey(filesUnder(artifacts.dir), keyNeedles(readFileSync(key, 'utf8')))).toEqual([]);
      const dir = join(scratch, 'example');
      mkdirSync(dir, { recursive: true });
      await signedExampleCopy(dir);
      const r = await verifyKernel({
        artifacts,
        modules: [{ name: 'kernelfile-hello', version: '1.0', path: HELLO_MODULE }],
        initramfsModules: ['kernelfile_hello', 'crc7'],
        workDir: join(scratch, 'verify'),
        signing: buildSigning(
          {
            signing: { key: 'keys/mok.key', certificate: 'keys/mok.crt', dkms: true, image: true },
          } as unknown as Spec,
          (w) => join(dir, w),
        ) as BuildSigning,
      });
      expect(r.problems).toEqual([]);
      // ACPI and EFI bring in-tree modules for hardware the VM lacks: their signatures pass, their init says no device.
      expect(r.modules.find((m) => m.name === 'efivarfs')).toMatchObject({
        status: 'ok',
        detail: expect.stringMatching(
          /^signature accepted; the module itself refused to start: .*No such device/,
        ),
      });
      expect(r.signatures?.enforced).toBe(true);
      expect(r.signatures?.checks.map((c) => [c.label, c.refused])).toEqual([
        ['unsigned', true],
        ['other-key', true],
      ]);
    },
    10 * 60_000,
  );
});
