/**
 * REAL artifacts directories for tests that boot or build against a kernel, built by kernelfile's
 * own build pipeline into the test build cache, the same cache the end-to-end suite uses, so CI
 * compiles each test kernel once for every suite. Parallel vitest workers share it through a lock
 * file; a cache hit after the first time.
 *  - ensureKernelArtifacts(): examples/qemu-tiny (Debian's linux-source-6.1, tinyconfig + its
 *    fragment and patch), the kernel for busybox initramfs boots and Debian roots: about 2 minutes
 *    on 2 cores the first time.
 *  - ensureVmKernelArtifacts(): examples/qemu-vm, the kernel that boots the full Debian VMs
 *    (systemd, sshd; GRUB or systemd-boot): about 6 minutes on 2 quiet cores. With `localversion`,
 *    the same kernelfile with another kernel.localversion: a second, distinct build (its own build
 *    id and release) for rollback and prune tests, compiled incrementally from the first build's
 *    object tree (about a minute) when that tree is in the cache.
 */
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Prepared, prepare } from '../../src/compile/build.js';
import { type CacheDirs, cacheDirs, cacheRoot } from '../../src/compile/cache.js';
import { nodeFileView } from '../../src/engine/fsview.js';
import { keygen } from '../../src/engine/keygen.js';
import { PATTERNS } from '../../src/spec/format.js';
import { resolvePath } from '../../src/spec/paths.js';
import type { Spec } from '../../src/spec/schema.js';
import { validate } from '../../src/spec/validate.js';
import { requireDebianSource } from './debian.js';
import { withFileLock } from './proc.js';
import { testCacheDir } from './rootfs.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const EXAMPLE = join(REPO, 'examples/qemu-tiny/kernelfile.yaml');
export const HELLO_MODULE = join(REPO, 'examples/qemu-tiny/modules/hello');
/** The full-VM kernel: tinyconfig + what systemd, udev, sshd, GRUB/initramfs-tools and systemd-boot/dracut need. */
export const VM_EXAMPLE = join(REPO, 'examples/qemu-vm/kernelfile.yaml');
/** The signing example: qemu-tiny with `signing:` (its key pair is made by signedExampleCopy). */
export const SIGNED_EXAMPLE = join(REPO, 'examples/qemu-signed/kernelfile.yaml');
/** XDG_CACHE_HOME for the tests' builds: kernelfile's cache is its `kernelfile/` directory. */
export const TEST_BUILD_CACHE = join(testCacheDir(), 'build-cache');

/** One build per kernelfile and localversion per test process: the same promise for every caller. */
const pending = new Map<string, Promise<string>>();

function once(key: string, make: () => Promise<string>): Promise<string> {
  let p = pending.get(key);
  if (!p) {
    p = make().catch((e) => {
      pending.delete(key);
      throw e;
    });
    pending.set(key, p);
  }
  return p;
}

/** The path of examples/qemu-tiny's artifacts directory (shared: read-only by convention). */
export function ensureKernelArtifacts(): Promise<string> {
  return once(EXAMPLE, () => buildExample(EXAMPLE));
}

/**
 * The path of examples/qemu-vm's artifacts directory (shared: read-only by convention); its
 * manifest.json holds the release and build id. `localversion` (e.g. `-vm2`) replaces the example's
 * kernel.localversion: a distinct build. A CLI run on a copy of the example with that localversion
 * (fragment path made absolute) has the same build id, so it finds this build in the cache.
 */
export function ensureVmKernelArtifacts(opts: { localversion?: string } = {}): Promise<string> {
  const { localversion } = opts;
  if (localversion === undefined) return once(VM_EXAMPLE, () => buildExample(VM_EXAMPLE));
  if (!new RegExp(PATTERNS.localversion).test(localversion))
    throw new Error(`localversion ${JSON.stringify(localversion)} does not match ${PATTERNS.localversion}`);
  return once(`${VM_EXAMPLE}\0${localversion}`, async () => {
    // The first build first: kernelfile seeds the variant's object tree from it (same patches, one
    // option apart), so make recompiles only what the release string reaches.
    await ensureVmKernelArtifacts();
    return buildExample(VM_EXAMPLE, { localversion });
  });
}

/**
 * The test key pair for examples/qemu-signed: made once with `kernelfile keygen`'s engine function in
 * the test cache, never in the repository, so the signed example's build id (which covers the
 * certificate) is the same on every run and its build is cached like the others.
 */
export async function testSigningKey(): Promise<{ key: string; certificate: string }> {
  const dir = join(testCacheDir(), 'signing-test-key');
  const key = join(dir, 'mok.key');
  const certificate = join(dir, 'mok.crt');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await withFileLock(join(dir, 'make.lock'), async () => {
    if (existsSync(key) && existsSync(certificate)) return;
    // kernelfile's own keygen (code signing, CA:FALSE), into a fresh directory, then moved in place.
    const tmp = mkdtempSync(join(dir, '.tmp-'));
    try {
      const made = await keygen({ out: tmp, cn: 'kernelfile test MOK' });
      renameSync(made.certificate, certificate);
      renameSync(made.key, key);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  return { key, certificate };
}

/**
 * A copy of examples/qemu-signed in `dir` with the test key pair in its keys/ (copies, mode 0600)
 * and the paths into examples/qemu-tiny made absolute: the kernelfile path of the copy.
 */
export async function signedExampleCopy(dir: string): Promise<string> {
  const pair = await testSigningKey();
  const src = join(REPO, 'examples/qemu-signed');
  cpSync(join(src, 'fragments'), join(dir, 'fragments'), { recursive: true });
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  copyFileSync(pair.key, join(dir, 'keys/mok.key'));
  chmodSync(join(dir, 'keys/mok.key'), 0o600);
  copyFileSync(pair.certificate, join(dir, 'keys/mok.crt'));
  const text = readFileSync(join(src, 'kernelfile.yaml'), 'utf8').replaceAll(
    '../qemu-tiny/',
    `${join(REPO, 'examples/qemu-tiny')}/`,
  );
  writeFileSync(join(dir, 'kernelfile.yaml'), text);
  return join(dir, 'kernelfile.yaml');
}

/** The artifacts directory of examples/qemu-signed built with the test key (shared: read-only). */
export function ensureSignedKernelArtifacts(): Promise<string> {
  return once(SIGNED_EXAMPLE, async () => {
    const dir = join(testCacheDir(), 'signed-example');
    mkdirSync(dir, { recursive: true });
    const kernelfile = await withFileLock(join(testCacheDir(), 'signed-example.lock'), () =>
      signedExampleCopy(dir),
    );
    return buildExample(kernelfile);
  });
}

/**
 * examples/qemu-signed with `signing.image: true` and the EFI stub it needs (CONFIG_EFI and
 * CONFIG_EFI_STUB, which on x86 need CONFIG_ACPI): the image is signed with sbsign. A copy in the
 * test cache; the artifacts directory (shared: read-only).
 */
export function ensureSignedImageArtifacts(): Promise<string> {
  return once(`${SIGNED_EXAMPLE}\0image`, async () => {
    const dir = join(testCacheDir(), 'signed-image-example');
    mkdirSync(dir, { recursive: true });
    const kernelfile = await withFileLock(join(testCacheDir(), 'signed-example.lock'), async () => {
      const f = await signedExampleCopy(dir);
      writeFileSync(f, signedImageVariant(readFileSync(f, 'utf8')));
      return f;
    });
    return buildExample(kernelfile);
  });
}

/** The signed example's text with the EFI stub requested and signing.image on. */
export function signedImageVariant(text: string): string {
  const out = text
    .replace(
      '    CONFIG_64BIT: y # tinyconfig on x86 is 32-bit otherwise\n',
      '    CONFIG_64BIT: y # tinyconfig on x86 is 32-bit otherwise\n    CONFIG_ACPI: y\n    CONFIG_EFI: y\n    CONFIG_EFI_STUB: y\n',
    )
    .replace('  dkms: true # kernelfile-hello', '  image: true\n  dkms: true # kernelfile-hello');
  if (!out.includes('CONFIG_EFI_STUB') || !out.includes('image: true'))
    throw new Error('examples/qemu-signed changed: signedImageVariant no longer applies');
  return out;
}

/**
 * A kernelfile validated and prepared for an x86_64 build in `dirs` (source, patches, Kconfig: the
 * build id, nothing compiled), its spec changed by `adjust` first. Shared with the bench.
 */
export async function prepareKernelfile(
  kernelfile: string,
  dirs: CacheDirs,
  adjust: (spec: Spec) => Spec = (spec) => spec,
): Promise<Prepared> {
  const v = validate(readFileSync(kernelfile), 'kernelfile.yaml', {
    fs: nodeFileView,
    kernelfile,
    home: homedir(),
  });
  if (!v.ok) throw new Error(`${kernelfile} does not validate: ${v.errors.map((e) => e.message).join('; ')}`);
  return prepare({
    spec: adjust(v.value.spec),
    arch: 'x86_64',
    dirs,
    resolvePath: (w) => resolvePath(w, { kernelfile, home: homedir() }),
    setOrigin: () => ({ file: kernelfile, line: 1 }),
    vars: process.env,
  });
}

async function buildExample(kernelfile: string, variant?: { localversion: string }): Promise<string> {
  requireDebianSource();
  const dirs = cacheDirs(cacheRoot(undefined, { HOME: homedir(), XDG_CACHE_HOME: TEST_BUILD_CACHE }));
  return withFileLock(join(TEST_BUILD_CACHE, 'build.lock'), async () => {
    const p = await prepareKernelfile(kernelfile, dirs, (spec) => {
      const base = variant
        ? { ...spec, kernel: { ...spec.kernel, localversion: variant.localversion } }
        : spec;
      // The tests' cache keeps every object tree (not build.keepObjectTrees' 3 per source): the
      // variants and the seeded-build tests start from them.
      return { ...base, build: { ...base.build, keepObjectTrees: 100 } };
    });
    return (await build(p)).dir;
  });
}
