/** Every file a kernelfile refers to, resolved against the kernelfile's directory. Pure (pathe). */
import { dirname, isAbsolute, join, normalize, resolve } from 'pathe';
import type { PathSegment } from './diagnostic.js';
import { classifyGitUrl } from './git-url.js';

export type FileRole =
  | 'source-path'
  | 'source-url-file'
  | 'signature'
  | 'keyring'
  | 'base-file'
  | 'fragment'
  | 'patch'
  | 'module'
  | 'signing-key'
  | 'signing-certificate'
  | 'store-ca';

export interface ResolvedFile {
  role: FileRole;
  /** What the file is, for messages: "patch file", "config fragment". */
  what: string;
  /** As written in the kernelfile. */
  written: string;
  abs: string;
  /** Where in the kernelfile it is written. */
  path: PathSegment[];
  /** Written as a relative path (so it may escape the project). */
  relative: boolean;
  strip?: number;
  module?: { name?: string; version?: string };
}

interface PathEnv {
  kernelfile: string;
  home?: string;
  fs: { stat(abs: string): 'file' | 'dir' | 'missing' | 'special' };
}

/** Resolve a path as written in the kernelfile: relative to its directory; `~/` is the home directory. */
export function resolvePath(written: string, env: Pick<PathEnv, 'kernelfile' | 'home'>): string {
  if (written === '~' || written.startsWith('~/'))
    return normalize(join(env.home ?? '/root', written.slice(1)));
  if (isAbsolute(written)) return normalize(written);
  return resolve(dirname(env.kernelfile), written);
}

/** The project: the nearest directory above the kernelfile holding `.git`, else the kernelfile's directory. */
export function projectRoot(env: PathEnv): string {
  const start = dirname(env.kernelfile);
  for (let dir = start; ; dir = dirname(dir)) {
    if (env.fs.stat(join(dir, '.git')) !== 'missing') return dir;
    if (dir === '/' || dirname(dir) === dir) return start;
  }
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

const gitUrlKind = (v: string) => {
  const c = classifyGitUrl(v);
  return 'kind' in c ? c.kind : undefined;
};

export function sourceFiles(data: unknown, env: Pick<PathEnv, 'kernelfile' | 'home'>): ResolvedFile[] {
  const out: ResolvedFile[] = [];
  const add = (
    role: FileRole,
    what: string,
    written: unknown,
    path: PathSegment[],
    extra: Partial<ResolvedFile> = {},
  ) => {
    const w = str(written);
    if (!w) return;
    if (role === 'source-url-file' || (role === 'signature' && w.startsWith('file://'))) {
      if (!w.startsWith('file://')) return;
      let p: string;
      try {
        p = decodeURIComponent(new URL(w).pathname);
      } catch {
        return;
      }
      out.push({ role, what, written: w, abs: normalize(p), path, relative: false, ...extra });
      return;
    }
    out.push({
      role,
      what,
      written: w,
      abs: resolvePath(w, env),
      path,
      relative: !isAbsolute(w) && !w.startsWith('~'),
      ...extra,
    });
  };
  const doc = obj(data);
  const kernel = obj(doc?.kernel);
  const source = obj(kernel?.source);
  add('source-path', 'kernel source', source?.path, ['kernel', 'source', 'path']);
  add('source-url-file', 'kernel source', source?.url, ['kernel', 'source', 'url']);
  const git = str(source?.git);
  if (git && gitUrlKind(git) === 'path')
    add('source-path', 'git repository', git, ['kernel', 'source', 'git']);
  const sig = obj(kernel?.signature);
  add('signature', 'signature file', sig?.path, ['kernel', 'signature', 'path']);
  add('signature', 'signature file', sig?.url, ['kernel', 'signature', 'url']);
  add('keyring', 'keyring', sig?.keyring, ['kernel', 'signature', 'keyring']);
  const config = obj(doc?.config);
  add('base-file', 'base config', obj(config?.base)?.file, ['config', 'base', 'file']);
  const fragments = Array.isArray(config?.fragments) ? config.fragments : [];
  fragments.forEach((f, i) => {
    add('fragment', 'config fragment', f, ['config', 'fragments', i]);
  });
  (Array.isArray(doc?.patches) ? doc.patches : []).forEach((p, i) => {
    const strip = typeof obj(p)?.strip === 'number' ? (obj(p)?.strip as number) : undefined;
    add('patch', 'patch file', obj(p)?.path, ['patches', i, 'path'], { strip });
    add('source-url-file', 'patch file', obj(p)?.url, ['patches', i, 'url'], { strip });
  });
  (Array.isArray(doc?.modules) ? doc.modules : []).forEach((m, i) => {
    const mo = obj(m);
    add('module', 'DKMS module', mo?.path, ['modules', i, 'path'], {
      module: { name: str(mo?.name), version: str(mo?.version) },
    });
  });
  const signing = obj(doc?.signing);
  const key = str(signing?.key);
  // A PKCS#11 URI is not a file (signing.ts says it is not supported yet).
  if (key && !key.startsWith('pkcs11:')) add('signing-key', 'signing key', key, ['signing', 'key']);
  add('signing-certificate', 'signing certificate', signing?.certificate, ['signing', 'certificate']);
  add('store-ca', 'store CA file', obj(doc?.cache)?.storeCa, ['cache', 'storeCa']);
  return out;
}
