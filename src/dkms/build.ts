/**
 * Building DKMS modules on the controller against an artifacts headers tree, with the real `dkms`
 * and trees of our own, so this machine's /var/lib/dkms, /usr/src and /lib/modules are never
 * touched:
 *
 *   dkms --dkmstree T --sourcetree S --installtree R/lib/modules --kernelsourcedir HEADERS \
 *        -k REL --no-depmod add DIR | build -m N -v V | install -m N -v V
 *
 * dkms 3 signs modules whatever the tree options say and would create /var/lib/dkms/mok.key: the
 * environment points `sign_file` at a path that does not exist (and the key and certificate inside
 * our tree, should /etc/dkms/framework.conf name a sign-file after all). `--no-depmod` keeps its
 * depmod off /lib/modules. dkms insists on root for `add` and `install`: as another user it runs in
 * a user namespace where it is root (`unshare --map-root-user`) and still owns nothing of the machine.
 *
 * Host trees are snapshotted before and after (`hostTreesSnapshot`), so a dkms that writes there
 * anyway is reported, not trusted.
 */
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { refuseSpecialFiles } from '../compile/extract.js';
import { filesUnder, MAX_DKMS_CONF_BYTES, readRegular } from '../compile/read-file.js';
import { runLocal } from '../host/local.js';

/** Signs one built module file in place (compile/signing.ts moduleSigner). */
export type ModuleSigner = (ko: string) => Promise<void>;

/** A module as the kernelfile declares it (`modules:` entries). */
export interface DkmsModuleSpec {
  name: string;
  version: string;
  /** A directory holding dkms.conf, or a tarball of one. */
  path?: string;
  /** Already on the host (installed by its package manager): nothing to build here. */
  installed?: true;
}

export interface DkmsTrees {
  /** --dkmstree */
  dkmsTree: string;
  /** --sourcetree */
  sourceTree: string;
  /** R: dkms installs into R/lib/modules/<release>/... */
  installRoot: string;
}

/** The dkms options that keep it in our own trees, building against `headersDir`. */
export function treeArgs(trees: DkmsTrees, headersDir: string): string[] {
  return [
    '--dkmstree',
    trees.dkmsTree,
    '--sourcetree',
    trees.sourceTree,
    '--installtree',
    join(trees.installRoot, 'lib', 'modules'),
    '--kernelsourcedir',
    headersDir,
  ];
}

export interface DkmsBuildOutcome {
  name: string;
  version: string;
  ok: boolean;
  /** The installed module files (absolute), e.g. R/lib/modules/REL/updates/dkms/kernelfile_hello.ko. */
  koFiles: string[];
  /** Module names for modprobe: the installed files' names without .ko[.gz|.xz|.zst]. */
  loadNames: string[];
  /** The module names dkms.conf declares (literal values only), known even when the build failed. */
  declaredNames: string[];
  /** One line: what happened (or why it failed). */
  detail: string;
  /** The make.log of a failed build (kept in the dkms tree) and its last lines. */
  makeLog?: string;
  logTail?: string[];
  /** Everything dkms printed, in this file. */
  dkmsLog: string;
  seconds: number;
}

/** Lines of make.log given back with a failure. */
export const MAKE_LOG_TAIL_LINES = 40;

/** The trees under `dir` (created, empty), with R/lib/modules/<release> in place as dkms wants. */
export async function makeDkmsTrees(dir: string, release: string): Promise<DkmsTrees> {
  await rm(dir, { recursive: true, force: true });
  const t = { dkmsTree: join(dir, 'tree'), sourceTree: join(dir, 'source'), installRoot: join(dir, 'root') };
  await mkdir(t.dkmsTree, { recursive: true });
  await mkdir(t.sourceTree, { recursive: true });
  await mkdir(join(t.installRoot, 'lib', 'modules', release), { recursive: true });
  return t;
}

/** The environment that keeps dkms's module signing inside our trees (see the file comment). */
export function dkmsEnv(trees: DkmsTrees): Record<string, string> {
  return {
    sign_file: '/nonexistent/kernelfile-verify/no-module-signing',
    mok_signing_key: join(trees.dkmsTree, 'mok.key'),
    mok_certificate: join(trees.dkmsTree, 'mok.pub'),
  };
}

const isRoot = () => process.getuid?.() === 0;

/**
 * Add, build and install one module into `trees` for `release` against `headersDir`.
 * Never throws for a module that does not build: the outcome says why.
 */
export async function buildDkmsModule(opts: {
  module: DkmsModuleSpec & { path: string };
  headersDir: string;
  release: string;
  trees: DkmsTrees;
  /** Where logs and unpacked tarballs go. */
  workDir: string;
  dkms?: string;
  onLine?: (line: string) => void;
  /**
   * Sign the built modules (in the dkms tree, before install and mktarball copy them) with the
   * kernel's own sign-file; the key stays where the kernelfile names it, on this machine.
   */
  sign?: ModuleSigner;
}): Promise<DkmsBuildOutcome> {
  const t0 = Date.now();
  const { module: m, trees, release } = opts;
  const logPath = join(opts.workDir, `dkms-${m.name}-${m.version}.log`);
  const log: string[] = [];
  const say = (line: string) => {
    log.push(line);
    opts.onLine?.(line);
  };
  const done = async (
    o: Omit<DkmsBuildOutcome, 'name' | 'version' | 'declaredNames' | 'dkmsLog' | 'seconds'>,
  ) => {
    await writeFile(logPath, `${log.join('\n')}\n`);
    return {
      name: m.name,
      version: m.version,
      declaredNames,
      dkmsLog: logPath,
      seconds: (Date.now() - t0) / 1000,
      ...o,
    };
  };
  const fail = (detail: string, extra: Partial<DkmsBuildOutcome> = {}) =>
    done({ ok: false, koFiles: [], loadNames: [], detail, ...extra });

  /** From dkms.conf, as soon as it is read: which modules a failed build would have provided. */
  const declaredNames: string[] = [];
  let src: string;
  try {
    src = await moduleSourceDir(m.path, join(opts.workDir, 'unpacked', `${m.name}-${m.version}`));
  } catch (e) {
    return fail((e as Error).message);
  }
  const declared = await readDkmsConf(join(src, 'dkms.conf'));
  declaredNames.push(...declared.moduleNames);
  for (const [field, want] of [
    ['PACKAGE_NAME', m.name],
    ['PACKAGE_VERSION', m.version],
  ] as const) {
    const got = declared[field];
    if (got !== undefined && got !== want)
      return fail(`${join(src, 'dkms.conf')} says ${field}="${got}" but the kernelfile declares "${want}"`);
  }

  const base = [...treeArgs(trees, opts.headersDir), '-k', release, '--no-depmod'];
  const dkms = async (args: string[]) => {
    const argv = [opts.dkms ?? 'dkms', ...base, ...args];
    // dkms refuses add/install unless uid 0: as another user, be root in a user namespace of our own.
    const full = isRoot() ? argv : ['unshare', '--user', '--map-root-user', '--', ...argv];
    say(`$ ${argv.join(' ')}`);
    const r = await runLocal(full, { env: dkmsEnv(trees), onLine: (l) => say(l) });
    return r;
  };
  const outputTail = (r: { stdout: string; stderr: string }) =>
    `${r.stderr}\n${r.stdout}`
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-3)
      .join(' | ');

  const add = await dkms(['add', src]);
  if (add.code !== 0) return fail(`dkms add failed (exit ${add.code}): ${outputTail(add)}`);

  const build = await dkms(['build', '-m', m.name, '-v', m.version]);
  if (build.code !== 0) {
    const makeLog = findMakeLog(
      trees.dkmsTree,
      m.name,
      m.version,
      release,
      `${build.stdout}\n${build.stderr}`,
    );
    const logTail = makeLog ? await tailLines(makeLog, MAKE_LOG_TAIL_LINES) : undefined;
    const why =
      build.code === 77
        ? 'dkms skipped the build (BUILD_EXCLUSIVE_* in dkms.conf excludes this kernel)'
        : `dkms build failed (exit ${build.code})`;
    return fail(`${why}${makeLog ? `: see ${makeLog}` : `: ${outputTail(build)}`}`, {
      ...(makeLog ? { makeLog } : {}),
      ...(logTail ? { logTail } : {}),
    });
  }

  if (opts.sign) {
    const built = filesUnder(join(trees.dkmsTree, m.name, m.version, release)).filter(
      (f) => KO_RE.test(f) && basename(dirname(f)) === 'module',
    );
    if (built.length === 0) return fail(`dkms build left no module file to sign under ${trees.dkmsTree}`);
    const compressed = built.filter((f) => !f.endsWith('.ko'));
    if (compressed.length > 0)
      return fail(
        `cannot sign ${relative(trees.dkmsTree, compressed[0] as string)}: dkms compressed it (CONFIG_MODULE_COMPRESS_*); signing needs CONFIG_MODULE_COMPRESS_NONE`,
      );
    try {
      for (const ko of built) {
        await opts.sign(ko);
        say(`signed ${relative(trees.dkmsTree, ko)}`);
      }
    } catch (e) {
      return fail((e as Error).message);
    }
  }

  const modDir = join(trees.installRoot, 'lib', 'modules', release);
  const stamp = (f: string) => {
    const st = statSync(f);
    return `${st.size} ${st.mtimeMs} ${st.ino}`;
  };
  const before = new Map(filesUnder(modDir).map((f) => [f, stamp(f)]));
  const inst = await dkms(['install', '-m', m.name, '-v', m.version]);
  if (inst.code !== 0) return fail(`dkms install failed (exit ${inst.code}): ${outputTail(inst)}`);
  const koFiles = filesUnder(modDir)
    .filter((f) => KO_RE.test(f) && before.get(f) !== stamp(f))
    .sort();
  if (koFiles.length === 0) return fail(`dkms install put no module file under ${modDir}`);
  const loadNames = koFiles.map((f) => basename(f).replace(KO_RE, ''));
  return done({
    ok: true,
    koFiles,
    loadNames,
    detail: `built and installed ${koFiles.map((f) => relative(modDir, f)).join(', ')}`,
  });
}

const KO_RE = /\.ko(\.gz|\.xz|\.zst)?$/;

/** A directory holding dkms.conf: `path` itself, or what a tarball at `path` unpacks to. */
export async function moduleSourceDir(path: string, unpackDir: string): Promise<string> {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, 'dkms.conf'))) throw new Error(`${path} has no dkms.conf`);
    return path;
  }
  await rm(unpackDir, { recursive: true, force: true });
  await mkdir(unpackDir, { recursive: true });
  // GNU tar recognises the compression itself, drops leading `/` and refuses `..` members.
  const r = await runLocal([
    'tar',
    '-x',
    '-f',
    path,
    '-C',
    unpackDir,
    '--no-same-owner',
    '--no-same-permissions',
  ]);
  if (r.code !== 0)
    throw new Error(`cannot unpack ${path}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  await refuseSpecialFiles(unpackDir, `the module source ${path}`);
  // dkms.conf at the top, one directory down, or in dkms_source_tree/ (`dkms mktarball` layout).
  const found: string[] = [];
  const look = (dir: string, depth: number) => {
    if (existsSync(join(dir, 'dkms.conf'))) found.push(dir);
    if (depth === 0) return;
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) look(join(dir, e.name), depth - 1);
  };
  look(unpackDir, 2);
  if (found.length === 0) throw new Error(`${path} holds no dkms.conf (looked two directories deep)`);
  if (found.length > 1)
    throw new Error(
      `${path} holds several dkms.conf files: ${found.map((f) => relative(unpackDir, f) || '.').join(', ')}`,
    );
  return found[0] as string;
}

export interface DkmsConfInfo {
  PACKAGE_NAME?: string;
  PACKAGE_VERSION?: string;
  /** BUILT_MODULE_NAME[n] (or DEST_MODULE_NAME[n] where set): the .ko names dkms installs. */
  moduleNames: string[];
}

const LITERAL = `(?:"([^"$\`#]*)"|'([^']*)'|([^\\s"'$\`#;]+))\\s*(?:#.*)?$`;

/**
 * What dkms.conf says in plain literals (no expansion; dkms itself sources the file): the package
 * name and version, and the module names it installs (dkms's default: PACKAGE_NAME).
 */
export async function readDkmsConf(confPath: string): Promise<DkmsConfInfo> {
  const read = await readRegular(confPath, MAX_DKMS_CONF_BYTES);
  const text = read.ok ? read.bytes.toString('utf8') : '';
  const out: DkmsConfInfo = { moduleNames: [] };
  const value = (m: RegExpExecArray | null) => {
    const v = m?.[1] ?? m?.[2] ?? m?.[3];
    return v === '' ? undefined : v;
  };
  for (const key of ['PACKAGE_NAME', 'PACKAGE_VERSION'] as const) {
    const v = value(new RegExp(`^\\s*${key}=${LITERAL}`, 'm').exec(text));
    if (v !== undefined) out[key] = v;
  }
  const indexed = (key: string) => {
    const found = new Map<number, string>();
    for (const m of text.matchAll(new RegExp(`^\\s*${key}\\[(\\d+)\\]=${LITERAL}`, 'gm'))) {
      const v = m[2] ?? m[3] ?? m[4];
      if (v) found.set(Number(m[1]), v);
    }
    return found;
  };
  const built = indexed('BUILT_MODULE_NAME');
  const dest = indexed('DEST_MODULE_NAME');
  for (const [i, n] of [...built].sort((a, b) => a[0] - b[0])) out.moduleNames.push(dest.get(i) ?? n);
  if (out.moduleNames.length === 0 && out.PACKAGE_NAME) out.moduleNames.push(out.PACKAGE_NAME);
  return out;
}

/** Where dkms left make.log: named in its output, else the usual places. */
function findMakeLog(
  tree: string,
  name: string,
  version: string,
  release: string,
  output: string,
): string | undefined {
  const named = /Consult (\S+make\.log)/.exec(output)?.[1];
  const candidates = [
    named,
    join(tree, name, version, 'build', 'make.log'),
    join(tree, name, version, release, process.arch === 'x64' ? 'x86_64' : process.arch, 'log', 'make.log'),
  ];
  return candidates.find((p): p is string => p !== undefined && existsSync(p));
}

export async function tailLines(path: string, n: number): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n);
}

// ── this machine's own trees ────────────────────────────────────────────────────────────────────

/** The trees a dkms with default paths writes to; verify must leave them as they were. */
export const HOST_DKMS_TREES = ['/var/lib/dkms', '/lib/modules', '/usr/src'] as const;

/**
 * A cheap fingerprint of those trees: every entry down to `depth` levels with its type, size and
 * modification time. A directory's mtime changes when an entry is added to or removed from it, so
 * depth 2 sees anything created up to three levels down (/var/lib/dkms/mok.key, /usr/src/N-V,
 * /lib/modules/REL/updates/dkms/x.ko) and any file rewritten up to two levels down (modules.dep).
 */
export function hostTreesSnapshot(
  roots: readonly string[] = HOST_DKMS_TREES,
  depth = 2,
): Map<string, string> {
  const snap = new Map<string, string>();
  const visit = (p: string, level: number) => {
    let st: import('node:fs').Stats;
    try {
      st = lstatSync(p);
    } catch {
      snap.set(p, 'absent');
      return;
    }
    const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f';
    snap.set(p, `${kind} ${st.size} ${st.mtimeMs}`);
    if (kind !== 'd' || level >= depth) return;
    let names: string[];
    try {
      names = readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) visit(join(p, n), level + 1);
  };
  for (const r of roots) visit(r, 0);
  return snap;
}

/** What differs between two snapshots, as `+path` (new), `-path` (gone), `~path` (changed). */
export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [p, v] of after) {
    const b = before.get(p);
    if (b === undefined) out.push(`+${p}`);
    else if (b !== v) out.push(`~${p}`);
  }
  for (const p of before.keys()) if (!after.has(p)) out.push(`-${p}`);
  return out.sort();
}
