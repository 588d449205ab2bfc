/**
 * kernelfile.lock written and read back. Written as YAML with a fixed key order and one line per
 * value, so two equal locks are the same bytes and a change is a small diff. Read back strictly: the
 * lock is in the kernelfile's repository, but a hand edit or a merge conflict must give an error at
 * its line, not a wrong comparison.
 */
import { LineCounter, parseDocument, stringify } from 'yaml';
import type { PathSegment } from '../spec/diagnostic.js';
import { locate, type SourceDoc } from '../spec/source.js';
import {
  LOCK_VERSION,
  type LockBuild,
  type LockError,
  type LockFile,
  type LockFileEntry,
  type LockModule,
  type LockPatch,
  type LockSource,
} from './types.js';

/** Larger than any lock kernelfile writes (a few KiB); a bigger file is not one. */
export type { LockError } from './types.js';

export const MAX_LOCK_BYTES = 1024 * 1024;

const HEADER = [
  ' What the kernelfile resolved to: the source, patches, config files and modules with their',
  ' digests, the toolchain, and each build id. Written by kernelfile; commit it with the kernelfile.',
  ' `kernelfile plan --locked` (and apply, build) refuses to go on when anything here changed;',
  ' `kernelfile lock` writes it again.',
].join('\n');

/** Keys in the order they are written (and only these). */
function ordered<T extends object>(v: T, keys: readonly (keyof T)[]): T {
  const out: Partial<T> = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  return out as T;
}

function sortedBuilds(builds: readonly LockBuild[]): LockBuild[] {
  const key = (b: LockBuild) => `${b.arch}\0${b.buildId}`;
  return [...builds]
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    .map((b) => ordered(b, ['arch', 'buildId', 'release', 'config']));
}

/** The lock in its canonical order (what `renderLock` writes and `decodeLock` returns). */
export function canonicalLock(lock: LockFile): LockFile {
  const file = (f: LockFileEntry) => ordered(f, ['path', 'sha256']);
  return ordered(
    {
      lockVersion: LOCK_VERSION,
      recipe: lock.recipe,
      source: ordered(lock.source, ['url', 'path', 'git', 'sha256', 'tree', 'commit', 'signature']),
      patches: lock.patches.map((p) => ordered(p, ['path', 'sha256', 'strip'])),
      config: {
        base: typeof lock.config.base === 'string' ? lock.config.base : file(lock.config.base),
        fragments: lock.config.fragments.map(file),
      },
      modules: lock.modules.map((m) =>
        ordered({ ...m, ...(m.dkmsConf ? { dkmsConf: [...new Set(m.dkmsConf)].sort() } : {}) }, [
          'name',
          'version',
          'path',
          'sha256',
          'installed',
          'dkmsConf',
        ]),
      ),
      toolchain: ordered(lock.toolchain, ['compiler', 'linker']),
      ...(lock.signing ? { signing: { certificate: lock.signing.certificate } } : {}),
      builds: sortedBuilds(lock.builds),
    },
    ['lockVersion', 'recipe', 'source', 'patches', 'config', 'modules', 'toolchain', 'signing', 'builds'],
  );
}

/** The lock's text: the same lock always gives the same bytes. */
export function renderLock(lock: LockFile): string {
  const body = stringify(canonicalLock(lock), { lineWidth: 0, minContentWidth: 0 });
  return `${HEADER.split('\n')
    .map((l) => `#${l}`)
    .join('\n')}\n${body}`;
}

export type DecodedLock = { ok: true; lock: LockFile } | { ok: false; error: LockError };

class Refusal extends Error {
  constructor(
    message: string,
    readonly path: PathSegment[],
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;
const SHA256 = /^[0-9a-f]{64}$/;
const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function where(path: readonly PathSegment[]): string {
  return path.length
    ? `\`${path.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.')}\``
    : 'the lock';
}

function obj(v: unknown, path: PathSegment[], keys: readonly string[]): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new Refusal(`${where(path)} must be a mapping`, path);
  for (const k of Object.keys(v))
    if (!keys.includes(k)) throw new Refusal(`unknown key \`${k}\``, [...path, k]);
  return v as Obj;
}

function str(o: Obj, key: string, path: PathSegment[], pattern?: RegExp, what?: string): string {
  const v = o[key];
  const p = [...path, key];
  if (typeof v !== 'string' || !v) throw new Refusal(`${where(p)} must be a non-empty string`, p);
  if (pattern && !pattern.test(v)) throw new Refusal(`${where(p)} must be ${what}`, p);
  return v;
}

function optStr(o: Obj, key: string, path: PathSegment[], pattern?: RegExp, what?: string) {
  return o[key] === undefined ? undefined : str(o, key, path, pattern, what);
}

function sha(o: Obj, key: string, path: PathSegment[]): string {
  return str(o, key, path, SHA256, 'a sha256 (64 lowercase hex digits)');
}

function list<T>(o: Obj, key: string, path: PathSegment[], item: (v: unknown, p: PathSegment[]) => T): T[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new Refusal(`${where([...path, key])} must be a list`, [...path, key]);
  return v.map((x, i) => item(x, [...path, key, i]));
}

function fileEntry(v: unknown, path: PathSegment[]): LockFileEntry {
  const o = obj(v, path, ['path', 'sha256']);
  return { path: str(o, 'path', path), sha256: sha(o, 'sha256', path) };
}

function source(v: unknown, path: PathSegment[]): LockSource {
  const o = obj(v, path, ['url', 'path', 'git', 'sha256', 'tree', 'commit', 'signature']);
  const from = ['url', 'path', 'git'].filter((k) => o[k] !== undefined);
  if (from.length !== 1)
    throw new Refusal(
      '`source` must have exactly one of `url`, `path` or `git`',
      from.length ? [...path, from[1] ?? ''] : path,
    );
  const hex = 'a sha256 (64 lowercase hex digits)';
  const s: LockSource = {
    url: optStr(o, 'url', path),
    path: optStr(o, 'path', path),
    git: optStr(o, 'git', path),
    sha256: optStr(o, 'sha256', path, SHA256, hex),
    tree: optStr(o, 'tree', path, SHA256, hex),
    commit: optStr(o, 'commit', path, COMMIT, 'a full commit id'),
    signature: optStr(o, 'signature', path, SHA256, hex),
  };
  if (s.git ? !s.commit : !s.sha256 && !s.tree)
    throw new Refusal(`\`source\` must have ${s.git ? '`commit`' : '`sha256` or `tree`'}`, path);
  return Object.fromEntries(Object.entries(s).filter(([, x]) => x !== undefined)) as LockSource;
}

function patch(v: unknown, path: PathSegment[]): LockPatch {
  const o = obj(v, path, ['path', 'sha256', 'strip']);
  const strip = o.strip;
  if (!Number.isInteger(strip) || (strip as number) < 0)
    throw new Refusal(`${where([...path, 'strip'])} must be a whole number`, [...path, 'strip']);
  return { path: str(o, 'path', path), sha256: sha(o, 'sha256', path), strip: strip as number };
}

function module(v: unknown, path: PathSegment[]): LockModule {
  const o = obj(v, path, ['name', 'version', 'path', 'sha256', 'installed', 'dkmsConf']);
  const m: LockModule = { name: str(o, 'name', path), version: str(o, 'version', path) };
  if (o.installed !== undefined) {
    if (o.installed !== true) throw new Refusal('`installed` must be true', [...path, 'installed']);
    m.installed = true;
    if (o.dkmsConf !== undefined)
      m.dkmsConf = list(o, 'dkmsConf', path, (x, p) => {
        if (typeof x !== 'string' || !SHA256.test(x)) throw new Refusal(`${where(p)} must be a sha256`, p);
        return x;
      });
  } else {
    m.path = str(o, 'path', path);
    m.sha256 = sha(o, 'sha256', path);
  }
  return m;
}

function build(v: unknown, path: PathSegment[]): LockBuild {
  const o = obj(v, path, ['arch', 'buildId', 'release', 'config']);
  return {
    arch: str(o, 'arch', path),
    buildId: sha(o, 'buildId', path),
    release: str(o, 'release', path),
    config: sha(o, 'config', path),
  };
}

function lockOf(v: unknown): LockFile {
  const o = obj(
    v,
    [],
    ['lockVersion', 'recipe', 'source', 'patches', 'config', 'modules', 'toolchain', 'signing', 'builds'],
  );
  if (o.lockVersion !== LOCK_VERSION)
    throw new Refusal(
      typeof o.lockVersion === 'number' && o.lockVersion > LOCK_VERSION
        ? `lockVersion ${o.lockVersion} is newer than this kernelfile reads (${LOCK_VERSION}): upgrade kernelfile`
        : `\`lockVersion\` must be ${LOCK_VERSION}`,
      ['lockVersion'],
    );
  if (!Number.isInteger(o.recipe)) throw new Refusal('`recipe` must be a whole number', ['recipe']);
  const config = obj(o.config, ['config'], ['base', 'fragments']);
  const base =
    typeof config.base === 'string' && config.base ? config.base : fileEntry(config.base, ['config', 'base']);
  const tc = obj(o.toolchain, ['toolchain'], ['compiler', 'linker']);
  const lock: LockFile = {
    lockVersion: LOCK_VERSION,
    recipe: o.recipe as number,
    source: source(o.source, ['source']),
    patches: list(o, 'patches', [], patch),
    config: { base, fragments: list(config, 'fragments', ['config'], fileEntry) },
    modules: list(o, 'modules', [], module),
    toolchain: { compiler: str(tc, 'compiler', ['toolchain']), linker: str(tc, 'linker', ['toolchain']) },
    builds: list(o, 'builds', [], build),
  };
  if (o.signing !== undefined) {
    const s = obj(o.signing, ['signing'], ['certificate']);
    lock.signing = { certificate: sha(s, 'certificate', ['signing']) };
  }
  return lock;
}

/** Read a lock's text back; an error names its line and column. */
export function decodeLock(text: string): DecodedLock {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const bad = doc.errors[0];
  if (bad) {
    const p = lines.linePos(bad.pos[0]);
    const conflict = /^(<<<<<<<|=======|>>>>>>>)/m.test(text);
    return {
      ok: false,
      error: {
        message: conflict
          ? 'the lock has merge conflict markers: run `kernelfile lock` to write it again'
          : `not YAML: ${bad.message.split('\n')[0]}`,
        line: p.line,
        column: p.col,
      },
    };
  }
  try {
    return { ok: true, lock: canonicalLock(lockOf(doc.toJS())) };
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const src: Pick<SourceDoc, 'doc' | 'lines'> = { doc, lines };
    const span = locate(src as SourceDoc, e.path);
    return { ok: false, error: { message: e.message, line: span.line, column: span.column } };
  }
}
