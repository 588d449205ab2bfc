/**
 * Checks the schema cannot express: files exist and are what they should be, values that YAML
 * accepted but Kconfig would not, names used twice, and kernelfiles that could never converge.
 * Pure: the file system is read through `FileView`. Written defensively, so it runs on data the
 * schema rejected too and the user sees every problem in one go.
 */
import { posix } from 'node:path';
import { isScalar, type Scalar } from 'yaml';
import { checkValue, formatSetValue, fragmentShape, parseConfig } from '../kconfig/config.js';
import { isLoopback, parseStoreUrl } from '../store/url.js';
import { cmdlineProblem, rootProblem, titleProblem } from './boot-text.js';
import type { Diagnostic, PathSegment } from './diagnostic.js';
import { distccAddress, parseDistccHost } from './distcc.js';
import { PATTERNS, PLACEHOLDER_SHA256, STRIP_DEFAULT, TITLE_PLACEHOLDERS } from './format.js';
import { gitUrlProblem } from './git-url.js';
import { type FileRole, projectRoot, type ResolvedFile, sourceFiles } from './paths.js';
import { typeName } from './schema-errors.js';
import { checkSigning } from './signing-checks.js';
import { at, locate, nodeAt, type SourceDoc } from './source.js';
import { suggest as nearest } from './suggest.js';

/** What validation may know of the controller's file system. */
export interface FileView {
  /** `special`: a FIFO, a device or a socket, which kernelfile never reads. */
  stat(abs: string): 'file' | 'dir' | 'missing' | 'special';
  /** What a `special` file is, for messages: "a FIFO (named pipe)", "a character device". */
  kindOf?(abs: string): string;
  /**
   * Contents of a regular text file of at most maxBytes; `{ error }` says why it was not read (not
   * a regular file, larger than the limit); undefined when it does not exist.
   */
  readText(abs: string, maxBytes: number): string | { error: string } | undefined;
  /** Names in a directory ([] when it cannot be read). */
  list(absDir: string): string[];
  /** The path with every symbolic link resolved (undefined when it cannot be). */
  realpath?(abs: string): string | undefined;
  /** The permission bits of a file (undefined when unknown): a signing key readable by others is reported. */
  mode?(abs: string): number | undefined;
}

/** Limits of what validation reads (the same as compile's: src/compile/read-file.ts). */
export const READ_LIMITS = { config: 8 * 1024 * 1024, patch: 64 * 1024 * 1024, dkmsConf: 1024 * 1024 };
/** Per-line problems shown for one fragment; the rest are counted. */
const MAX_LINE_PROBLEMS = 20;

export interface SemanticEnv {
  fs: FileView;
  /** Absolute path of the kernelfile. */
  kernelfile: string;
  /** The user's home, for `~/` paths. */
  home?: string;
  /** The environment (signing.passphraseEnv is looked up in it); none: no variable is set. */
  vars?: Record<string, string | undefined>;
  /** The time certificates must be valid at (default: now). */
  now?: Date;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const TARBALL = /\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|tar\.zst)$/;
const RESERVED_MAKE_VARS =
  /^(ARCH|O|LOCALVERSION|INSTALL_[A-Z_]+|KBUILD_BUILD_[A-Z_]+|KERNELRELEASE|CROSS_COMPILE_COMPAT)$/;

export function semanticChecks(data: unknown, src: SourceDoc, env: SemanticEnv): Diagnostic[] {
  const out: Diagnostic[] = [];
  const err = (path: PathSegment[], code: string, message: string, hint?: string, key = false) =>
    out.push(at(src, path, { severity: 'error', code, message, ...(hint ? { hint } : {}) }, { key }));
  const warn = (path: PathSegment[], code: string, message: string, hint?: string, key = false) =>
    out.push(at(src, path, { severity: 'warning', code, message, ...(hint ? { hint } : {}) }, { key }));
  const line = (path: PathSegment[], key = false) => locate(src, path, { key }).line;

  const doc = obj(data);
  if (!doc) {
    if (data !== undefined)
      err(
        [],
        'not-a-mapping',
        `the kernelfile must be a mapping of keys to values, not ${typeName(data)}`,
        'start from kernelfile.example.yaml',
      );
    return out;
  }

  // ── files ──────────────────────────────────────────────────────────────────────────────────
  const root = projectRoot(env);
  const files = sourceFiles(data, env);
  const inside = (p: string) => !!root && (p === root || p.startsWith(`${root}/`));
  const checkFile = (f: ResolvedFile): 'file' | 'dir' | 'missing' | 'special' => {
    const kind = env.fs.stat(f.abs);
    if (kind === 'special') {
      err(
        f.path,
        'not-a-regular-file',
        `${f.what} ${f.written} is ${env.fs.kindOf?.(f.abs) ?? 'not a regular file'}${f.written !== f.abs ? ` (${f.abs})` : ''}; kernelfile reads only regular files`,
        'point it at a regular file (a FIFO, a device or a socket is never read)',
      );
    } else if (kind === 'missing') {
      const dir = f.abs.slice(0, f.abs.lastIndexOf('/')) || '/';
      const base = f.abs.slice(f.abs.lastIndexOf('/') + 1);
      const near = nearest(base, env.fs.list(dir));
      err(
        f.path,
        'file-not-found',
        `${f.what} not found: ${f.written}${f.written !== f.abs ? ` (looked for ${f.abs})` : ''}`,
        near
          ? `did you mean \`${near}\`?`
          : f.role === 'signing-key' || f.role === 'signing-certificate'
            ? 'make a key pair with `kernelfile keygen`, or point the path at yours (relative paths are relative to the directory of the kernelfile)'
            : f.written.startsWith('/') || f.written.startsWith('~')
              ? 'check the path'
              : 'relative paths are relative to the directory of the kernelfile',
      );
    } else if (f.role === 'signing-key') {
      // A private key is best kept out of the repository: no "outside the project" warning for it.
    } else if (f.relative && root && !(f.abs === root || f.abs.startsWith(`${root}/`))) {
      warn(
        f.path,
        'path-escapes-project',
        `${f.what} ${f.written} is outside the project (${root})`,
        'a checkout of this repository will not contain it; move it into the repository, or use an absolute path to make the dependency on this machine explicit',
      );
    } else if (f.relative && inside(f.abs)) {
      const real = env.fs.realpath?.(f.abs);
      if (real !== undefined && !inside(real))
        warn(
          f.path,
          'path-escapes-project',
          `${f.what} ${f.written} is a symbolic link to ${real}, outside the project (${root})`,
          'a checkout of this repository will not contain it; copy the file into the repository, or name its absolute path',
        );
    }
    return kind;
  };

  /**
   * A fragment's or base config's text, or undefined (reported) when it cannot be read or is not a
   * Kconfig fragment at all: then no line of it is quoted (it may be a key that was named by mistake).
   */
  const configText = (f: ResolvedFile): string | undefined => {
    const text = env.fs.readText(f.abs, READ_LIMITS.config);
    if (text === undefined) return undefined;
    if (typeof text !== 'string') {
      err(f.path, 'unreadable-file', `${f.what} ${f.written}: ${text.error}`, 'point it at a regular file');
      return undefined;
    }
    const shape = fragmentShape(text);
    if (!shape.ok) {
      err(
        f.path,
        'not-a-fragment',
        `${f.written} does not look like a Kconfig fragment: ${shape.why}`,
        f.role === 'base-file'
          ? 'config.base.file names a .config (CONFIG_NAME=value lines): is this the right file?'
          : 'config.fragments lists files of `CONFIG_NAME=value` lines (like a .config): is this the right file?',
      );
      return undefined;
    }
    return text;
  };
  const signingFiles = new Map<FileRole, ResolvedFile>();
  for (const f of files) {
    const kind = checkFile(f);
    if (kind === 'missing' || kind === 'special') continue;
    switch (f.role) {
      case 'source-path': {
        if (kind === 'dir') {
          if (env.fs.stat(`${f.abs}/Kconfig`) !== 'file' || env.fs.stat(`${f.abs}/Makefile`) !== 'file')
            err(
              f.path,
              'not-a-kernel-tree',
              `${f.written} is a directory but not a kernel source tree (no Kconfig and Makefile at its top)`,
            );
          if (str(obj(obj(doc.kernel)?.source)?.sha256))
            err(
              [...f.path.slice(0, -1), 'sha256'],
              'sha256-on-tree',
              'sha256 pins a tarball, but the source path is a directory',
              'remove sha256, or point path at the tarball',
            );
        } else if (!TARBALL.test(f.abs))
          err(
            f.path,
            'not-a-tarball',
            `${f.written} is neither a directory nor a tarball (.tar, .tar.gz, .tar.xz, .tar.bz2, .tar.zst)`,
          );
        break;
      }
      case 'fragment':
        if (kind === 'dir') err(f.path, 'not-a-file', `${f.what} ${f.written} is a directory`);
        break;
      case 'base-file':
        if (kind === 'dir') err(f.path, 'not-a-file', `${f.what} ${f.written} is a directory`);
        else configText(f);
        break;
      case 'patch':
        if (kind === 'dir') err(f.path, 'not-a-file', `${f.what} ${f.written} is a directory`);
        else checkPatch(f, env, err, warn);
        break;
      case 'module':
        checkModulePath(f, kind, env, err);
        break;
      case 'signing-key':
      case 'signing-certificate':
        if (kind === 'dir') err(f.path, 'not-a-file', `${f.what} ${f.written} is a directory`);
        else signingFiles.set(f.role, f);
        break;
      default:
        if (kind === 'dir') err(f.path, 'not-a-file', `${f.what} ${f.written} is a directory`);
    }
  }

  // ── kernel ─────────────────────────────────────────────────────────────────────────────────
  const kernel = obj(doc.kernel);
  const source = obj(kernel?.source);
  const version = str(kernel?.version);
  const named = str(source?.url) ?? str(source?.path);
  const inName = named?.match(/(?:^|\/)linux-(\d+\.\d+(?:\.\d+)?(?:-rc\d+)?)\.(?:tar|tgz|txz)/)?.[1];
  // kernel.org names a first release (SUBLEVEL 0) linux-6.6, and `make kernelversion` prints 6.6.0.
  const printed = inName?.replace(/^(\d+\.\d+)(-rc\d+)?$/, '$1.0$2');
  if (
    version &&
    inName &&
    inName !== version &&
    printed !== version &&
    new RegExp(PATTERNS.version).test(version)
  ) {
    err(
      ['kernel', 'version'],
      'version-mismatch',
      `kernel.version is ${version}, but the source ${source?.url ? 'URL' : 'path'} names linux-${inName}`,
      `make kernelversion would print ${printed}: set version: "${printed}", or point the source at linux-${version}`,
    );
  }
  const sha = str(source?.sha256);
  if (sha !== undefined && sha.toLowerCase() === PLACEHOLDER_SHA256)
    warn(
      ['kernel', 'source', 'sha256'],
      'sha256-placeholder',
      'kernel.source.sha256 is a placeholder (64 zeros), not the checksum of the source: build and plan refuse it before downloading anything',
      'put the sha256 of the file the source names here (download it, check its signature, then `sha256sum` it)',
    );
  const git = str(source?.git);
  const gitProblem = git === undefined ? undefined : gitUrlProblem(git);
  if (gitProblem) err(['kernel', 'source', 'git'], gitProblem.code, gitProblem.message, gitProblem.hint);
  if (kernel?.signature !== undefined) {
    const isDir = source?.path && files.some((f) => f.role === 'source-path' && env.fs.stat(f.abs) === 'dir');
    if (git || isDir)
      err(
        ['kernel', 'signature'],
        'signature-needs-tarball',
        'a signature can only be checked for a tarball source (url or path to a tarball)',
        'remove kernel.signature, or use a tarball source',
      );
  }

  // ── config ─────────────────────────────────────────────────────────────────────────────────
  const config = obj(doc.config);
  // Every requested value with where it came from, in merge order: fragments, then `set`.
  interface Origin {
    value: string;
    /** For messages: `fragments/qemu.config:3` or `kernelfile.yaml:12`. */
    label: string;
    file: string;
    line: number;
    /** Set for values from the kernelfile itself. */
    path?: PathSegment[];
  }
  const requested = new Map<string, Origin>();
  const request = (symbol: string, o: Origin) => {
    const prev = requested.get(symbol);
    if (prev && prev.value !== o.value) {
      const message = `${symbol} is set to ${o.value} here and to ${prev.value} at ${prev.label}; the later one wins`;
      out.push(
        o.path
          ? at(src, o.path, { severity: 'warning', code: 'redefined', message }, { key: true })
          : { severity: 'warning', code: 'redefined', message, file: o.file, line: o.line, column: 1 },
      );
    }
    requested.set(symbol, o);
  };
  for (const f of files) {
    if (f.role !== 'fragment' || env.fs.stat(f.abs) !== 'file') continue;
    const text = configText(f);
    if (text === undefined) continue;
    const parsed = parseConfig(text);
    if (parsed.problems.length > MAX_LINE_PROBLEMS)
      warn(
        f.path,
        'fragment-syntax',
        `${f.written} has ${parsed.problems.length} problems; the first ${MAX_LINE_PROBLEMS} are shown`,
      );
    for (const p of parsed.problems.slice(0, MAX_LINE_PROBLEMS))
      out.push({
        severity: p.severity,
        code: 'fragment-syntax',
        message: p.message,
        file: f.abs,
        line: p.line,
        column: p.column,
        ...(p.hint ? { hint: p.hint } : {}),
      });
    if (parsed.entries.length === 0 && parsed.problems.length === 0)
      warn(f.path, 'empty-fragment', `fragment ${f.written} sets no options`);
    for (const e of parsed.entries)
      request(e.symbol, { value: e.value, label: `${f.written}:${e.line}`, file: f.abs, line: e.line });
  }
  const set = obj(config?.set);
  for (const [symbol, raw] of Object.entries(set ?? {})) {
    const wrapped = obj(raw);
    const valuePath: PathSegment[] = wrapped ? ['config', 'set', symbol, 'value'] : ['config', 'set', symbol];
    const v = wrapped ? wrapped.value : raw;
    if (!new RegExp(PATTERNS.kconfigSymbol).test(symbol)) continue; // the schema reports the name
    if (symbol === 'CONFIG_LOCALVERSION') {
      err(
        ['config', 'set', symbol],
        'use-localversion',
        'CONFIG_LOCALVERSION is managed by kernelfile',
        'use kernel.localversion instead',
        true,
      );
      continue;
    }
    if (typeof v === 'boolean' || v === null) {
      const want = v === true ? 'y' : 'n';
      err(
        valuePath,
        'invalid-kconfig-value',
        `${typeName(v)} is not a Kconfig value`,
        `use \`${want}\`${v === null ? ' (an empty value is null in YAML)' : ''}`,
      );
      continue;
    }
    if (typeof v === 'string') {
      const node = nodeAt(src, valuePath);
      const quoted =
        isScalar(node) &&
        ((node as Scalar).type === 'QUOTE_DOUBLE' || (node as Scalar).type === 'QUOTE_SINGLE');
      const problem = checkValue(v);
      if (!quoted && problem && /^(yes|no|true|false|on|off|Y|M|N|module)$/i.test(v)) {
        err(
          valuePath,
          'invalid-kconfig-value',
          problem.message,
          `${problem.hint}; to set a string option to this word, quote it`,
        );
        continue;
      }
      if (/[\n\0]/.test(v)) {
        err(valuePath, 'invalid-kconfig-value', 'a Kconfig string cannot contain a line break');
        continue;
      }
    }
    if (typeof v === 'string' || typeof v === 'number') {
      const l = line(valuePath);
      request(symbol, {
        value: formatSetValue(v),
        label: `${src.file}:${l}`,
        file: src.file,
        line: l,
        path: ['config', 'set', symbol],
      });
    }
  }
  const modules = arr(doc.modules);
  const modulesOff = requested.get('CONFIG_MODULES')?.value === 'n';
  if (modulesOff) {
    const where = requested.get('CONFIG_MODULES') as Origin;
    const wantsM = [...requested.entries()].filter(([, r]) => r.value === 'm').map(([s]) => s);
    if (modules.length > 0 || wantsM.length > 0) {
      const why =
        modules.length > 0
          ? `${modules.length} DKMS module(s) are declared`
          : `${wantsM.slice(0, 3).join(', ')} ${wantsM.length > 1 ? 'are' : 'is'} requested as m`;
      const d = where.path
        ? at(src, where.path, { severity: 'error', code: 'never-converges', message: '' }, { key: true })
        : at(src, ['modules'], { severity: 'error', code: 'never-converges', message: '' }, { key: true });
      d.message = `CONFIG_MODULES=n (at ${where.label}) but ${why}: modules could never be loaded`;
      d.hint = 'set CONFIG_MODULES=y, or build the options in (=y) and drop the DKMS modules';
      out.push(d);
    }
  }

  // ── patches ────────────────────────────────────────────────────────────────────────────────
  const seenPatch = new Map<string, number>();
  arr(doc.patches).forEach((p, i) => {
    const id = str(obj(p)?.path) ?? str(obj(p)?.url);
    if (!id) return;
    const first = seenPatch.get(id);
    if (first !== undefined)
      err(
        ['patches', i],
        'duplicate-patch',
        `patch ${id} is listed twice (first at line ${line(['patches', first])}); it cannot apply twice`,
        'remove one of them',
      );
    else seenPatch.set(id, i);
  });

  // ── modules ────────────────────────────────────────────────────────────────────────────────
  const seenModule = new Map<string, number>();
  modules.forEach((m, i) => {
    const name = str(obj(m)?.name);
    if (!name) return;
    const first = seenModule.get(name);
    if (first !== undefined)
      err(
        ['modules', i, 'name'],
        'duplicate-module',
        `module \`${name}\` is declared twice (first at line ${line(['modules', first, 'name'])})`,
        'declare each DKMS module once',
      );
    else seenModule.set(name, i);
  });

  // ── signing ────────────────────────────────────────────────────────────────────────────────
  checkSigning({
    signing: obj(doc.signing),
    buildOn: str(obj(doc.build)?.on),
    files: signingFiles,
    requested: (symbol) => requested.get(symbol),
    env,
    err,
    warn,
    at: (path, d) => out.push(at(src, path, d, { key: true })),
    push: (d) => out.push(d),
  });

  // ── cache ──────────────────────────────────────────────────────────────────────────────────
  const cache = obj(doc.cache);
  const store = str(cache?.store);
  if (store !== undefined) {
    const parsed = parseStoreUrl(store);
    if ('problem' in parsed)
      err(['cache', 'store'], parsed.problem.code, parsed.problem.message, parsed.problem.hint);
    else if (parsed.ref.protocol === 'http' && !isLoopback(parsed.ref.host))
      warn(
        ['cache', 'store'],
        'insecure-store',
        `cache.store ${store} is plain HTTP to another machine: whoever is on the network between can read the artifacts and serve other ones under this build id`,
        'use oci:// (HTTPS; cache.storeCa for a private CA), or keep oci+http:// to a registry on this machine or a network you trust',
      );
    if ('ref' in parsed && parsed.ref.protocol === 'http' && cache?.storeCa !== undefined)
      warn(
        ['cache', 'storeCa'],
        'unused-store-ca',
        'cache.storeCa is not used: the store is plain HTTP (oci+http://)',
      );
  } else if (cache?.storeCa !== undefined)
    err(
      ['cache', 'storeCa'],
      'store-ca-without-store',
      'cache.storeCa is set but cache.store is not',
      'set cache.store to the registry, or remove cache.storeCa',
    );

  // ── build ──────────────────────────────────────────────────────────────────────────────────
  const cacheDir = str(obj(doc.build)?.cacheDir);
  if (cacheDir !== undefined) {
    const danger = dangerousCacheDir(cacheDir, env.home);
    if (danger)
      err(
        ['build', 'cacheDir'],
        'dangerous-cache-dir',
        `build.cacheDir ${cacheDir} is ${danger}; kernelfile creates, replaces and removes entries in its cache directory`,
        'use a directory of its own, e.g. ~/.cache/kernelfile or /var/cache/kernelfile',
      );
  }
  for (const k of Object.keys(obj(obj(doc.build)?.makeVars) ?? {})) {
    if (RESERVED_MAKE_VARS.test(k))
      err(
        ['build', 'makeVars', k],
        'reserved-make-var',
        `\`${k}\` is set by kernelfile and cannot be overridden in makeVars`,
        k === 'ARCH' ? 'use kernel.arch' : k === 'LOCALVERSION' ? 'use kernel.localversion' : undefined,
        true,
      );
  }

  // ── build.distcc ─────────────────────────────────────────────────────────────────────────
  const seen = new Map<string, number>();
  arr(obj(doc.build)?.distcc).forEach((entry, i) => {
    if (typeof entry !== 'string') return; // the schema says what it must be
    const r = parseDistccHost(entry);
    if (!r.ok) {
      err(['build', 'distcc', i], 'bad-distcc-host', r.message, r.hint);
      return;
    }
    const key = r.host.kind === 'local' ? 'localhost' : distccAddress(r.host);
    const first = seen.get(key);
    if (first !== undefined)
      err(
        ['build', 'distcc', i],
        'duplicate-distcc-host',
        `distcc host ${key} is listed twice (also at line ${line(['build', 'distcc', first])})`,
        'list each host once, with its job limit: HOST/LIMIT',
      );
    else seen.set(key, i);
  });

  // ── initramfs ──────────────────────────────────────────────────────────────────────────────
  const initramfs = obj(doc.initramfs);
  if (initramfs?.generator === 'none' && arr(initramfs.modules).length > 0)
    err(
      ['initramfs', 'modules'],
      'never-converges',
      'initramfs.modules are listed, but initramfs.generator is `none`: no initramfs will hold them',
      'choose a generator, or remove initramfs.modules',
      true,
    );

  // ── boot ───────────────────────────────────────────────────────────────────────────────────
  const boot = obj(doc.boot);
  const entries = arr(boot?.entries);
  const defaults = entries.map((e, i) => [e, i] as const).filter(([e]) => obj(e)?.default === true);
  if (defaults.length > 1) {
    const [, first] = defaults[0] as readonly [unknown, number];
    for (const [, i] of defaults.slice(1))
      err(
        ['boot', 'entries', i, 'default'],
        'multiple-defaults',
        `more than one boot entry is the default (the first is at line ${line(['boot', 'entries', first, 'default'])})`,
        'only one entry can be the default: set `default: false` on the others',
        true,
      );
  }
  if (boot?.loader === 'none' && boot.entries !== undefined && entries.length > 0)
    err(
      ['boot', 'entries'],
      'never-converges',
      'boot.loader is `none`, so no boot entries can be written',
      'remove boot.entries, or choose a loader',
      true,
    );
  if (boot?.trial === true && boot.entries !== undefined && defaults.length === 0)
    err(
      ['boot', 'trial'],
      'never-converges',
      'trial boots the new default entry once before making it the default, but no entry has `default: true`',
      'mark one entry `default: true`, or remove trial',
      true,
    );
  entries.forEach((e, i) => {
    const title = str(obj(e)?.title);
    for (const m of title?.matchAll(/\{([^}]*)\}/g) ?? []) {
      const name = m[1] as string;
      if (!(TITLE_PLACEHOLDERS as readonly string[]).includes(name)) {
        const near = nearest(name, TITLE_PLACEHOLDERS);
        err(
          ['boot', 'entries', i, 'title'],
          'unknown-placeholder',
          `unknown placeholder {${name}} in the title`,
          `${near ? `did you mean {${near}}? ` : ''}placeholders: ${TITLE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        );
      }
    }
    const cmdline = str(obj(e)?.cmdline);
    const root = str(obj(e)?.root);
    // What cannot reach the loader as written, refused here rather than quoted into something else.
    for (const [field, value, check, code] of [
      ['title', title, titleProblem, 'invalid-title'],
      ['cmdline', cmdline, cmdlineProblem, 'invalid-cmdline'],
      ['root', root, rootProblem, 'invalid-root'],
    ] as const) {
      const p = value === undefined ? null : check(value);
      if (p) err(['boot', 'entries', i, field], code, p.message, p.hint);
    }
    if (cmdline && str(obj(e)?.root) && /(^|\s)root=/.test(cmdline))
      err(
        ['boot', 'entries', i, 'root'],
        'conflicting-root',
        'the root device is given twice: in `root` and as root= in the cmdline',
        'keep one of them',
        true,
      );
  });
  return out;
}

/** System directories (and their parents) a cache must never be: the cache's own entries are removed and replaced. */
const SYSTEM_DIRS = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/lib',
  '/usr/local',
  '/usr/sbin',
  '/usr/src',
  '/var',
  '/var/cache',
  '/var/lib',
  '/var/tmp',
]);

/** Why a cacheDir is dangerous ("the root directory", "your home directory", …), or null. */
export function dangerousCacheDir(written: string, home: string | undefined): string | null {
  const expanded = home ? written.replace(/^~(?=\/|$)/, home) : written;
  if (!expanded.startsWith('/')) return null;
  const norm = posix.normalize(expanded).replace(/(.)\/+$/, '$1');
  if (norm === '/') return 'the root directory';
  if (home && norm === posix.normalize(home).replace(/(.)\/+$/, '$1')) return 'your home directory itself';
  if (SYSTEM_DIRS.has(norm)) return `the system directory ${norm}`;
  if (/^\/(?:boot|etc|proc|sys|dev)\//.test(norm))
    return `inside ${norm.split('/')[1] ? `/${norm.split('/')[1]}` : norm}`;
  return null;
}

type Report = (path: PathSegment[], code: string, message: string, hint?: string, key?: boolean) => void;

function checkPatch(f: ResolvedFile, env: SemanticEnv, err: Report, warn: Report): void {
  const text = env.fs.readText(f.abs, READ_LIMITS.patch);
  if (text === undefined) return;
  if (typeof text !== 'string') {
    err(f.path, 'unreadable-file', `${f.what} ${f.written}: ${text.error}`, 'point it at a regular file');
    return;
  }
  const minus = [...text.matchAll(/^--- (\S+)/gm)].map((m) => m[1] as string);
  const plus = [...text.matchAll(/^\+\+\+ (\S+)/gm)].map((m) => m[1] as string);
  if (plus.length === 0 || !/^@@ /m.test(text)) {
    err(
      f.path,
      'not-a-patch',
      `${f.written} is not a patch: it has no \`+++\` file header and \`@@\` hunk`,
      'use a unified diff, e.g. from `git format-patch` or `diff -u`',
    );
    return;
  }
  const strip = f.strip ?? STRIP_DEFAULT;
  const gitStyle = [...minus, ...plus].every((p) => p === '/dev/null' || /^[ab]\//.test(p));
  if (gitStyle && strip === 0)
    warn(
      [...f.path.slice(0, -1), 'strip'],
      'patch-strip',
      `the paths in ${f.written} start with a/ and b/, but strip is 0`,
      'git-style patches need `strip: 1`',
    );
}

function checkModulePath(f: ResolvedFile, kind: 'file' | 'dir', env: SemanticEnv, err: Report): void {
  if (kind === 'file') {
    if (!TARBALL.test(f.abs))
      err(f.path, 'not-a-module', `${f.written} is neither a directory with dkms.conf nor a tarball`);
    return;
  }
  const conf = env.fs.readText(`${f.abs}/dkms.conf`, READ_LIMITS.dkmsConf);
  if (conf !== undefined && typeof conf !== 'string') {
    err(
      f.path,
      'unreadable-dkms-conf',
      `dkms.conf of ${f.written}: ${conf.error}`,
      'dkms.conf must be a regular file',
    );
    return;
  }
  if (conf === undefined) {
    err(
      f.path,
      'no-dkms-conf',
      `${f.written} has no dkms.conf`,
      'a DKMS module directory holds dkms.conf next to the module source',
    );
    return;
  }
  const modPath = f.path.slice(0, -1);
  for (const [key, field] of [
    ['PACKAGE_NAME', 'name'],
    ['PACKAGE_VERSION', 'version'],
  ] as const) {
    const m = conf.match(
      new RegExp(`^\\s*${key}=(?:"([^"$\`\\\\]*)"|'([^']*)'|([A-Za-z0-9._+~:-]+))\\s*(?:#.*)?$`, 'm'),
    );
    const literal = m ? (m[1] ?? m[2] ?? m[3]) : undefined;
    const declared = f.module?.[field];
    if (literal !== undefined && declared !== undefined && literal !== declared)
      err(
        [...modPath, field],
        'dkms-conf-mismatch',
        `dkms.conf in ${f.written} says ${key}="${literal}", but the kernelfile says ${field}: ${declared}`,
        `dkms would know it as ${literal}: make them the same`,
      );
  }
}
