/**
 * `kernelfile import --host H [--out DIR] [--adopt]`: adopt a host's hand-built running kernel. Gathers
 * the host's facts (read-only, one round trip), makes the kernelfile that reproduces the running
 * kernel and its config file (./import-document.ts, pure), validates them as `kernelfile validate`
 * would before anything is written, and writes them beside each other, never over an existing file
 * (O_EXCL; `force` replaces them). What the host cannot tell (the source's checksum, the patches)
 * is listed, in the result and at the top of the kernelfile.
 *
 * `adopt`: also writes a receipt for the running kernel on the host (/var/lib/kernelfile, the typed
 * receipt apply writes, version 2 with `adopted` and no build id), under the host lock and through
 * the executor's receipt writer, so that the next plan compares with it rather than with nothing:
 * the build is installed beside it, its config is the one the Kconfig difference starts from,
 * rollback can return to it, and prune never removes it. The only write to the host.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { recordStat, writeReceipt } from '../apply/executor.js';
import { acquireHostLock, thisController } from '../apply/host-lock.js';
import { writeAtomic } from '../compile/cache.js';
import { gather } from '../facts/gather.js';
import type { HostFacts } from '../facts/types.js';
import { type HostAddress, parseHostAddress } from '../host/address.js';
import { type HostOptions, openHost } from '../host/open.js';
import type { Transport } from '../host/transport.js';
import { decodeReceipt } from '../receipt/decode.js';
import { encodeAdoptedReceipt } from '../receipt/encode.js';
import { pendingPath, receiptPath } from '../receipt/paths.js';
import type { ReceiptFile } from '../receipt/types.js';
import type { FileView } from '../spec/semantic.js';
import { validate } from '../spec/validate.js';
import { UserError } from './errors.js';
import { nodeFileView } from './fsview.js';
import {
  adoptedReceiptData,
  adoptFiles,
  adoptProblem,
  deriveVersion,
  type ImportDocument,
  importDocument,
  kernelOrgUrl,
} from './import-document.js';

export type { ImportDocument, ImportTodo } from './import-document.js';

export interface ImportOptions {
  /** The host whose running kernel to import (`--host`), as written or parsed. */
  host: string | HostAddress;
  hostOptions?: HostOptions;
  /** Gather as root with `sudo -n` (a non-root SSH user). */
  sudo?: boolean;
  /** Where the kernelfile and its config file go (created if missing); relative to `cwd`. Default `.`. */
  out?: string;
  /** Replace existing files (default: never overwrite one). */
  force?: boolean;
  /** The kernelfile's `name` (default: from the host's name). */
  name?: string;
  /** A kernel source tarball or tree on the controller, relative to `cwd`. */
  source?: string;
  /** Also write a receipt for the running kernel on the host. */
  adopt?: boolean;
  cwd: string;
  /** The clock (ISO 8601), for the receipt. */
  now?: () => string;
}

export interface ImportedFile {
  path: string;
  state: 'written' | 'replaced' | 'unchanged';
}

export interface ImportResult {
  /** The host's transport name. */
  host: string;
  document: Omit<ImportDocument, 'kernelfile' | 'configText'>;
  /** The kernelfile first, then its config file. */
  files: ImportedFile[];
  /** Validation warnings of the written kernelfile (the placeholder checksum, if any), as messages. */
  warnings: string[];
  /** The receipt written with `adopt`. */
  adopted: { release: string; receipt: string; files: number } | null;
}

/** Where /usr/src keeps a source of `version` on this machine, when it does: a tree, or kernel.org's tarball. */
function localSource(version: string): string | null {
  const url = kernelOrgUrl(version);
  const tarball = url ? `/usr/src/${url.slice(url.lastIndexOf('/') + 1)}` : null;
  const tree = `/usr/src/linux-${version}`;
  if (existsSync(join(tree, 'Makefile')) && existsSync(join(tree, 'Kconfig'))) return tree;
  if (tarball && nodeFileView.stat(tarball) === 'file') return tarball;
  return null;
}

/** How the kernelfile names a controller path: relative to its directory when inside it, else absolute. */
function written(abs: string, dir: string): string {
  const rel = relative(dir, abs);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel) ? rel : abs;
}

/** A word as a shell reads it (for the commands shown): as is when plain, else single-quoted. */
const shellWord = (s: string) => (/^[A-Za-z0-9@%+=:,./_~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

/** What would happen to a file: written anew, the same bytes already there, or a refusal. */
function fileState(path: string, content: string, force: boolean): ImportedFile['state'] {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return 'written';
  }
  if (st.isFile() && st.size === Buffer.byteLength(content) && readFileSync(path, 'utf8') === content)
    return 'unchanged';
  if (force && (st.isFile() || st.isSymbolicLink())) return 'replaced';
  throw new UserError(
    `${path} exists${st.isFile() ? ' (with other contents)' : st.isDirectory() ? ' and is a directory' : ''}: kernelfile import never overwrites a file`,
    'import into another directory with --out DIR, or replace it with --force',
  );
}

/** A new file, created exclusively (O_EXCL: never over one that appeared meanwhile). */
function createExclusive(path: string, content: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError(`${path} appeared while importing: not overwritten`, 'run the import again');
    throw new UserError(`cannot create ${path}: ${(e as Error).message}`);
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** The file system as validation sees it, with the files about to be written already there. */
function withFiles(files: ReadonlyMap<string, string>): FileView {
  return {
    ...nodeFileView,
    stat: (abs) => (files.has(abs) ? 'file' : nodeFileView.stat(abs)),
    readText: (abs, max) => {
      const t = files.get(abs);
      if (t === undefined) return nodeFileView.readText(abs, max);
      return Buffer.byteLength(t) > max ? { error: `larger than ${max} bytes` } : t;
    },
    realpath: (abs) => (files.has(abs) ? abs : nodeFileView.realpath?.(abs)),
    mode: (abs) => (files.has(abs) ? 0o644 : nodeFileView.mode?.(abs)),
  };
}

/** The sha256 and size of each file on the host (read-only), as the receipt lists them. */
async function hashOnHost(t: Transport, paths: readonly string[]): Promise<ReceiptFile[]> {
  const r = await t.run(
    [
      'sh',
      '-c',
      'for f; do s=$(stat -c %s -- "$f") && h=$(sha256sum -- "$f") || exit 1; printf "%s %.64s\\n" "$s" "$h"; done',
      'kf-adopt',
      ...paths,
    ],
    { sudo: true },
  );
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  const files = lines.map((l, i) => {
    const m = /^([0-9]+) ([0-9a-f]{64})$/.exec(l);
    const path = paths[i];
    if (!m || path === undefined) return null;
    return { path, sha256: m[2] as string, size: Number(m[1]) };
  });
  if (r.code !== 0 || files.length !== paths.length || files.some((f) => f === null))
    throw new UserError(
      `${t.name}: cannot hash the running kernel's files (${paths.join(', ')}): ${r.stderr.trim().split('\n').slice(-2).join(' ') || `exit ${r.code}`}`,
      'check that sha256sum and stat run on the host, as root',
    );
  return files as ReceiptFile[];
}

/** The receipt of the running kernel, under the host lock, through the executor's receipt writer. */
async function adopt(
  t: Transport,
  f: HostFacts,
  doc: ImportDocument,
  kernelfile: { path: string; sha256: string },
  now: () => string,
): Promise<{ release: string; receipt: string; files: number }> {
  const release = doc.release;
  const lock = await acquireHostLock(t, thisController(now(), kernelfile.path), 0);
  try {
    // The facts were gathered before the lock: an apply or another import may have written since.
    const free = await t.run(
      ['sh', '-c', '[ ! -e "$1" ] && [ ! -e "$2" ]', 'kf-adopt', receiptPath(release), pendingPath(release)],
      { sudo: true },
    );
    if (free.code !== 0)
      throw new UserError(
        `${t.name}: ${receiptPath(release)} (or an apply of ${release}) appeared since the facts were gathered: not adopted`,
        'run `kernelfile facts` to see what it is',
      );
    const files = await hashOnHost(t, adoptFiles(f, release));
    const text = encodeAdoptedReceipt(adoptedReceiptData(f, doc, kernelfile), files, now(), t.name);
    // Never a receipt the facts would refuse to read (it would be an error there, and no adoption).
    const back = decodeReceipt(text, `${release}.json`);
    if (!back.ok) throw new Error(`the receipt of ${release} does not read back: ${back.error}`);
    await writeReceipt(t, release, files, text);
    await recordStat(t, release);
    return { release, receipt: receiptPath(release), files: files.length };
  } finally {
    await lock.release().catch(() => {});
  }
}

export async function importHost(o: ImportOptions): Promise<ImportResult> {
  const address = typeof o.host === 'string' ? parseHostAddress(o.host) : o.host;
  const outDir = resolve(o.cwd, o.out ?? '.');
  const kfAbs = join(outDir, 'kernelfile.yaml');
  const kfShown = relative(o.cwd, kfAbs) || 'kernelfile.yaml';
  let sourcePath: string | undefined;
  if (o.source !== undefined) {
    const abs = resolve(o.cwd, o.source.replace(/^~(?=\/)/, homedir()));
    const kind = nodeFileView.stat(abs);
    if (kind !== 'file' && kind !== 'dir')
      throw new UserError(
        `--source ${o.source}: ${kind === 'missing' ? 'no such file or directory' : 'not a file or directory'}`,
        'give a kernel source tarball or an unpacked source tree on this machine',
      );
    sourcePath = written(abs, outDir);
  }
  if (existsSync(outDir) && !statSync(outDir).isDirectory())
    throw new UserError(`--out ${o.out}: not a directory`);
  const t = await openHost(address, o.hostOptions);
  try {
    if (!t.capabilities.runningKernel)
      throw new UserError(
        `${t.name} is a root filesystem: it runs no kernel, so there is no running kernel to import`,
        'import from the machine that runs the kernel (--host local or an SSH host)',
      );
    const f = await gather(t, { sudo: o.sudo === true });
    if (sourcePath === undefined && f.system.running) {
      const v = deriveVersion(f.system.running, f.system.kernelVersion, f.config.options);
      const found = v.upstream && !v.distro ? localSource(v.version) : null;
      if (found) sourcePath = written(found, outDir);
    }
    const doc = importDocument({
      facts: f,
      hostArg: shellWord(typeof o.host === 'string' ? o.host : t.name),
      kernelfileArg: shellWord(kfShown),
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(sourcePath !== undefined ? { sourcePath } : {}),
    });
    if (sourcePath !== undefined && o.source === undefined)
      doc.notes.push(
        `kernel.source: ${sourcePath} was found on this machine: check that it is the source the running kernel was built from`,
      );
    const problem = o.adopt ? adoptProblem(f, doc) : null;
    if (problem)
      throw new UserError(`${t.name}: cannot adopt the running kernel: ${problem}`, 'import without --adopt');
    const cfgAbs = join(outDir, doc.configFile);
    // What `kernelfile validate` will say of the files, before they are written.
    const v = validate(
      Buffer.from(doc.kernelfile),
      kfShown,
      { fs: withFiles(new Map([[cfgAbs, doc.configText]])), kernelfile: kfAbs, home: homedir() },
      Buffer.byteLength(doc.kernelfile),
    );
    if (!v.ok)
      throw new Error(
        `the imported kernelfile does not validate: ${v.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('; ')}`,
      );
    const plan = [
      { path: kfAbs, content: doc.kernelfile },
      { path: cfgAbs, content: doc.configText },
    ].map((x) => ({ ...x, state: fileState(x.path, x.content, o.force === true) }));
    mkdirSync(dirname(kfAbs), { recursive: true });
    // The config first: a kernelfile is never there without the file it names.
    for (const x of [...plan].reverse()) {
      if (x.state === 'written') createExclusive(x.path, x.content);
      else if (x.state === 'replaced') writeAtomic(x.path, x.content, 0o644);
    }
    const now = o.now ?? (() => new Date().toISOString());
    const adopted = o.adopt
      ? await adopt(t, f, doc, { path: kfShown, sha256: sha256(doc.kernelfile) }, now)
      : null;
    const { kernelfile: _k, configText: _c, ...document } = doc;
    return {
      host: t.name,
      document,
      files: plan.map((x) => ({ path: x.path, state: x.state })),
      warnings: v.warnings.map((w) => `${kfShown}:${w.line}:${w.column}: ${w.message}`),
      adopted,
    };
  } finally {
    await t.close();
  }
}
