/**
 * A REAL artifacts directory for tests that boot or build against a kernel: examples/qemu-tiny
 * (Debian's linux-source-6.1, tinyconfig + its fragment and patch) built by kernelfile's own build
 * pipeline into the test build cache, the same cache the end-to-end suite uses, so CI compiles the
 * test kernel once for every suite. About 2 minutes on 2 cores the first time; a cache hit after.
 * Parallel vitest workers share it through a lock file.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, prepare } from '../../src/compile/build.js';
import { cacheDirs, cacheRoot } from '../../src/compile/cache.js';
import { nodeFileView } from '../../src/engine/fsview.js';
import { resolvePath } from '../../src/spec/paths.js';
import { validate } from '../../src/spec/validate.js';
import { requireDebianSource } from './debian.js';
import { withFileLock } from './proc.js';
import { testCacheDir } from './rootfs.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const EXAMPLE = join(REPO, 'examples/qemu-tiny/kernelfile.yaml');
export const HELLO_MODULE = join(REPO, 'examples/qemu-tiny/modules/hello');
/** XDG_CACHE_HOME for the tests' builds: kernelfile's cache is its `kernelfile/` directory. */
export const TEST_BUILD_CACHE = join(testCacheDir(), 'build-cache');

let pending: Promise<string> | undefined;

/** The path of the example's artifacts directory (shared: read-only by convention). */
export function ensureKernelArtifacts(): Promise<string> {
  pending ??= buildExample().catch((e) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

async function buildExample(): Promise<string> {
  requireDebianSource();
  const v = validate(readFileSync(EXAMPLE), 'kernelfile.yaml', {
    fs: nodeFileView,
    kernelfile: EXAMPLE,
    home: homedir(),
  });
  if (!v.ok) throw new Error(`${EXAMPLE} does not validate: ${v.errors.map((e) => e.message).join('; ')}`);
  const dirs = cacheDirs(cacheRoot(undefined, { HOME: homedir(), XDG_CACHE_HOME: TEST_BUILD_CACHE }));
  return withFileLock(join(TEST_BUILD_CACHE, 'build.lock'), async () => {
    const p = await prepare({
      spec: v.value.spec,
      arch: 'x86_64',
      dirs,
      resolvePath: (w) => resolvePath(w, { kernelfile: EXAMPLE, home: homedir() }),
      setOrigin: () => ({ file: EXAMPLE, line: 1 }),
    });
    return (await build(p)).dir;
  });
}
