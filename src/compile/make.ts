/**
 * Compiling: the kernel's own make, out of tree (O=), reproducible by default (KBUILD_BUILD_*
 * fixed), through ccache/distcc when asked. Progress comes from make's own output lines; the full
 * log is kept, and a failure shows its last 40 lines and where the log is.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import type { Spec } from '../spec/schema.js';
import { buildDirOf, linkSource } from './build-dir.js';
import { makeArgs } from './config.js';
import { type DistccCounts, type DistccRun, DistccTally } from './distcc.js';
import { BuildError } from './errors.js';

export interface MakeEvent {
  stage: string;
  /** Objects compiled so far (CC, AS, LD … lines). */
  compiled: number;
  line?: string;
  /** Through distcc: where the compiles went so far. */
  distcc?: DistccCounts;
}

export interface MakeInput {
  spec: Spec;
  arch: string;
  srctree: string;
  objtree: string;
  configText: string;
  buildId: string;
  logFile: string;
  onEvent?: (e: MakeEvent) => void;
  /** More environment for make (KBUILD_SIGN_PIN): never written to the log. */
  env?: Record<string, string>;
  /** The file mode creation mask make runs with (`build --check-reproducible` varies it). */
  umask?: string;
  /** Compiling through distcc (distcc.ts: its environment, CC, -j and log). */
  distcc?: DistccRun;
}

/**
 * The build date every build claims (SOURCE_DATE_EPOCH 0), in the form `date -d` and GNU tar read:
 * the kernel stamps it on the built-in initramfs (gen_initramfs.sh: `date -d "$KBUILD_BUILD_TIMESTAMP"`,
 * else the time of the build) and on the IKHEADERS archive (`tar --mtime`), so it must be a date.
 */
export const BUILD_DATE = 'Thu Jan  1 00:00:00 UTC 1970';

/** The LOCALVERSION make variable: the build id in `uname -r` (after CONFIG_LOCALVERSION). */
export function buildSuffix(buildId: string): string {
  return `-kf${buildId.slice(0, 8)}`;
}

/**
 * Everything make is called with, for compiling and installing. Without a build id (a seed's
 * configuration synchronised before it is known: seed-early.ts), what only the release and
 * `uname -v` take from it is left out: Kconfig reads neither.
 */
export function compileArgs(
  input: Pick<MakeInput, 'spec' | 'arch' | 'env' | 'distcc'> & {
    buildId: string | undefined;
    srctree?: string;
    objtree?: string;
  },
): {
  args: string[];
  env: Record<string, string>;
} {
  const { spec, buildId } = input;
  const args = [...makeArgs(spec, input.arch), ...(buildId ? [`LOCALVERSION=${buildSuffix(buildId)}`] : [])];
  const hostEnv: Record<string, string> = {};
  if (input.srctree) {
    // Paths relative to the tree, wherever it is unpacked. make runs in the build directory
    // (build-dir.ts), so Kbuild names the source `..`; the kernel maps __FILE__ itself
    // (-fmacro-prefix-map), not debug information; host tools (kconfig's conf, objtool: built with
    // -g) map neither, and objtool's sub-make names the tree by its own path. No path of this
    // build's directory goes into the kernel's own flags: they are on every command record, which
    // then stays true in a copy of the object tree (seed.ts). Appended to the user's flags, if any.
    const user = (v: string) => (spec.build?.makeVars?.[v] ? `${spec.build?.makeVars?.[v]} ` : '');
    const debug = '-fdebug-prefix-map=../=';
    args.push(`KCFLAGS=${user('KCFLAGS')}${debug}`, `KAFLAGS=${user('KAFLAGS')}${debug}`);
    // objtool's sub-make runs in tools/objtool and names tools/lib's files `../lib/…`: kept as they
    // are (the later map wins), as when Kbuild named the source by its absolute path.
    const host = [
      ...['..', input.srctree, input.objtree].filter(Boolean).map((d) => `-ffile-prefix-map=${d}/=`),
      '-ffile-prefix-map=../lib=../lib',
    ];
    args.push(`HOSTCFLAGS=${user('HOSTCFLAGS')}${host.join(' ')}`);
    // objtool's libsubcmd takes its own CFLAGS plus EXTRA_CFLAGS; from the environment, which
    // Kbuild's own EXTRA_CFLAGS (reset in scripts/Makefile.build) does not see.
    hostEnv.EXTRA_CFLAGS = host.join(' ');
  }
  const env: Record<string, string> = {
    // The same bytes from the same inputs, whenever and wherever they are built: a fixed build
    // number (not make's counter in .version), a fixed date for what the kernel timestamps, and
    // the build id for `uname -v` (Debian's trees read KBUILD_BUILD_VERSION_TIMESTAMP for it;
    // upstream trees show the date).
    KBUILD_BUILD_VERSION: '1',
    KBUILD_BUILD_TIMESTAMP: BUILD_DATE,
    ...(buildId ? { KBUILD_BUILD_VERSION_TIMESTAMP: `kernelfile ${buildId.slice(0, 12)}` } : {}),
    KBUILD_BUILD_USER: 'kernelfile',
    KBUILD_BUILD_HOST: spec.name,
    ...hostEnv,
    ...input.env,
  };
  // distcc: `CC=distcc gcc` (HOSTCC stays local: distcc.ts says why) and its private environment;
  // under ccache, ccache calls distcc (CCACHE_PREFIX).
  const cc = spec.build?.makeVars?.CC ?? 'gcc';
  const distcc = input.distcc;
  if (spec.build?.ccache) {
    args.push(`CC=ccache ${cc}`);
    if (distcc) env.CCACHE_PREFIX = 'distcc';
  } else if (distcc) args.push(`CC=${distcc.cc}`);
  if (distcc) Object.assign(env, distcc.env);
  return { args, env };
}

/** What a file grew by since `offset` (nothing when it is not there yet). */
function readGrowth(file: string, offset: number): Buffer {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return Buffer.alloc(0);
  }
  if (size <= offset) return Buffer.alloc(0);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    const n = readSync(fd, buf, 0, buf.length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

const COMPILE_LINE =
  /^\s+(CC|AS|LD|AR|HOSTCC|HOSTLD|CPP|OBJCOPY|GEN|UPD|SYSHDR|SYSTBL|CALL|VDSO|RELOCS|MODPOST|BTF)(\s|\[)/;

/**
 * Run make with its output going straight into the log file (no pipe through this process, which
 * would take CPU from the compilers on a small machine); progress is read from the log once a second.
 */
async function makeLogged(
  input: MakeInput,
  targets: string[],
  stage: string,
  counter: { n: number; distcc?: DistccTally },
): Promise<void> {
  const { args, env } = compileArgs(input);
  const jobs = input.spec.build?.jobs ?? input.distcc?.jobs ?? availableParallelism();
  const tally = counter.distcc;
  let distccOffset = 0;
  const readDistcc = () => {
    if (!tally || !input.distcc) return;
    const text = readGrowth(input.distcc.log, distccOffset);
    distccOffset += text.length;
    tally.feed(text.toString('utf8'));
  };
  const argv = [
    'make',
    '-C',
    buildDirOf(input.objtree),
    `O=${input.objtree}`,
    `-j${jobs}`,
    ...args,
    ...targets,
  ];
  appendFileSync(input.logFile, `$ ${argv.join(' ')}\n`);
  let offset = statSync(input.logFile).size;
  let partial = '';
  const tail: string[] = [];
  const readNew = () => {
    const buf = readGrowth(input.logFile, offset);
    if (buf.length === 0) return;
    offset += buf.length;
    const lines = (partial + buf.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (COMPILE_LINE.test(line)) counter.n++;
    }
    readDistcc();
    input.onEvent?.({
      stage,
      compiled: counter.n,
      line: lines[lines.length - 1],
      ...(tally ? { distcc: tally.counts() } : {}),
    });
  };
  const timer = setInterval(readNew, 1000);
  let r: Awaited<ReturnType<typeof runLocal>>;
  try {
    r = await runLocal(
      [
        'sh',
        '-c',
        `${input.umask ? `umask ${input.umask}; ` : ''}log=$1; shift; exec "$@" >>"$log" 2>&1`,
        'kf-make',
        input.logFile,
        ...argv,
      ],
      { env },
    );
  } finally {
    clearInterval(timer);
  }
  readNew();
  readDistcc();
  if (partial) tail.push(partial);
  if (r.code !== 0)
    throw new BuildError(
      `the kernel build failed at \`make ${targets.join(' ')}\` (exit ${r.code}); full log: ${input.logFile}`,
      'the last lines of the log are above',
      tail.slice(-40),
    );
}

/**
 * The image make built for this architecture (`make image_name`), as a path in the object tree:
 * asked once make has synchronised the configuration (compile()).
 */
export async function imagePath(input: MakeInput): Promise<string> {
  const r = await runLocal([
    'make',
    '-s',
    '-C',
    buildDirOf(input.objtree),
    `O=${input.objtree}`,
    ...compileArgs(input).args,
    'image_name',
  ]);
  const name = r.stdout.trim().split('\n').pop();
  if (r.code !== 0 || !name) throw new BuildError(`\`make image_name\` failed: ${r.stderr.trim()}`);
  return join(input.objtree, name);
}

/** What to ask make for: the image and modules (x86: bzImage; elsewhere the default target builds both). */
function targets(arch: string, modules: boolean): string[] {
  if (arch === 'x86_64' || arch === 'i686') return ['bzImage', ...(modules ? ['modules'] : [])];
  return ['all'];
}

/**
 * Compile image and modules; returns the release the build produced, whether it has modules and
 * how many files make compiled (the image: imagePath).
 */
export async function compile(
  input: MakeInput,
): Promise<{ release: string; modules: boolean; compiled: number; distcc?: DistccCounts }> {
  linkSource(input.srctree, input.objtree);
  const dotConfig = join(input.objtree, '.config');
  if (!existsSync(dotConfig) || readFileSync(dotConfig, 'utf8') !== input.configText)
    writeFileSync(dotConfig, input.configText);
  const counter = { n: 0, ...(input.distcc ? { distcc: new DistccTally(input.distcc.hosts) } : {}) };
  input.onEvent?.({ stage: 'compiling', compiled: 0 });
  const modules = /^CONFIG_MODULES=y$/m.test(input.configText);
  await makeLogged(input, targets(input.arch, modules), 'compiling', counter);
  const release = readFileSync(join(input.objtree, 'include/config/kernel.release'), 'utf8').trim();
  return {
    release,
    modules,
    compiled: counter.n,
    ...(counter.distcc ? { distcc: counter.distcc.counts() } : {}),
  };
}

/** Install the modules of the object tree compile() built (its build directory linked then). */
export async function modulesInstall(input: MakeInput, dest: string): Promise<void> {
  await makeLogged(input, [`INSTALL_MOD_PATH=${dest}`, 'modules_install'], 'installing modules', { n: 0 });
}
