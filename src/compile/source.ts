/**
 * Getting the kernel source: download (https/file, with retries and progress) and verify its
 * sha256, or hash a local tarball, or fingerprint a local tree, or fetch a git commit; optionally
 * check a kernel.org-style signature with gpgv; unpack it into the cache; check `make kernelversion`.
 * A checksum or signature mismatch stops everything before anything is unpacked.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import { PLACEHOLDER_SHA256 } from '../spec/format.js';
import { classifyGitUrl } from '../spec/git-url.js';
import type { Spec } from '../spec/schema.js';
import type { CacheDirs } from './cache.js';
import { commit, staging, writeAtomic } from './cache.js';
import { BuildError } from './errors.js';
import { extractTar, refuseSpecialFiles, SAFE_TAR_OPTIONS } from './extract.js';
import { sha256File, sha256Json, sha256Text } from './hash.js';
import { dropSourceSums } from './hash-cache.js';
import { requireRegular } from './read-file.js';
import { linksListOf } from './tree-copy.js';

export type Progress = (message: string) => void;

/** A source ready to unpack, named by what identifies its content. */
export type FetchedSource =
  | { kind: 'tarball'; file: string; sha256: string }
  | { kind: 'tree'; dir: string; key: string }
  | { kind: 'git'; repo: string; commit: string };

export function sourceKey(s: FetchedSource): string {
  return s.kind === 'tarball'
    ? `sha256:${s.sha256}`
    : s.kind === 'tree'
      ? `tree:${s.key}`
      : `git:${s.commit}`;
}

const RETRIES = 3;

/** Download `url` to `dest`, hashing as it goes; retried on network errors and 5xx. */
export async function download(url: string, dest: string, progress?: Progress): Promise<string> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= RETRIES; attempt++) {
    try {
      const res = await fetch(url, { redirect: 'follow' });
      if (!res.ok || !res.body) {
        const err = new BuildError(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
        if (res.status < 500) throw Object.assign(err, { final: true });
        throw err;
      }
      const total = Number(res.headers.get('content-length') ?? 0);
      const h = createHash('sha256');
      const out = createWriteStream(dest);
      let got = 0;
      let lastReport = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        h.update(chunk);
        got += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        if (progress && Date.now() - lastReport > 500) {
          lastReport = Date.now();
          progress(
            `downloading ${url}: ${(got / 1048576).toFixed(1)} MiB${total ? ` of ${(total / 1048576).toFixed(1)} MiB` : ''}`,
          );
        }
      }
      await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
      return h.digest('hex');
    } catch (e) {
      lastError = e;
      rmSync(dest, { force: true });
      if ((e as { final?: boolean }).final || attempt === RETRIES) break;
      progress?.(`download of ${url} failed (${(e as Error).message}); retrying (${attempt}/${RETRIES - 1})`);
      await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
    }
  }
  if (lastError instanceof BuildError) throw lastError;
  throw new BuildError(
    `download of ${url} failed: ${(lastError as Error)?.message ?? lastError}`,
    'check the URL and the network; the file is cached once downloaded',
  );
}

function mismatch(what: string, want: string, got: string): BuildError {
  return new BuildError(
    `${what}: sha256 mismatch: the kernelfile says ${want}, the file has ${got}`,
    'nothing was unpacked. If the file changed on purpose, update sha256 in the kernelfile; otherwise the download is corrupt or was tampered with',
  );
}

/** sha256 of a local file, remembered by (path, size, mtime) so a cache hit does not re-read it. */
async function hashLocal(path: string, dirs: CacheDirs): Promise<string> {
  const st = statSync(path);
  const memo = join(dirs.sources, `by-path-${sha256Text(path).slice(0, 32)}.json`);
  try {
    const m = JSON.parse(readFileSync(memo, 'utf8')) as { size: number; mtimeMs: number; sha256: string };
    if (m.size === st.size && m.mtimeMs === st.mtimeMs) return m.sha256;
  } catch {}
  const sha256 = await sha256File(path);
  writeAtomic(memo, JSON.stringify({ path, size: st.size, mtimeMs: st.mtimeMs, sha256 }));
  return sha256;
}

/** A file named by a URL or path in the kernelfile, fetched into the cache and verified. */
export async function fetchFile(
  ref: { url?: string; path?: string; sha256?: string },
  what: string,
  dirs: CacheDirs,
  progress?: Progress,
): Promise<{ file: string; sha256: string }> {
  const want = ref.sha256?.toLowerCase();
  if (want === PLACEHOLDER_SHA256)
    throw new BuildError(
      `${what} ${ref.url ?? ref.path}: its sha256 is the placeholder 0000…0000 (kernelfile import writes it for a checksum it cannot know): nothing was downloaded`,
      'put the sha256 of that file in the kernelfile: download it, check its signature, then `sha256sum` it',
    );
  if (ref.url !== undefined) {
    // Validation allows https:// and file:// only; checked again where the URL is used.
    const scheme = ref.url.match(/^([A-Za-z][A-Za-z0-9+.-]*):/)?.[1]?.toLowerCase();
    if (scheme !== 'https' && scheme !== 'http' && scheme !== 'file')
      throw new BuildError(
        `${what} ${ref.url}: only https:// and file:// URLs are fetched`,
        'download the file yourself and give its path, or use an https:// URL with its sha256',
      );
    if (scheme === 'http' && !want)
      throw new BuildError(
        `${what} ${ref.url}: a plain http:// download needs a sha256 to check it against`,
        'use https://, or give the sha256 of the file',
      );
    if (scheme === 'file') ref = { ...ref, url: `file://${ref.url.slice('file://'.length)}` };
  }
  if (ref.url?.startsWith('file://'))
    ref = { ...ref, path: decodeURIComponent(new URL(ref.url).pathname), url: undefined };
  if (ref.path) {
    requireRegular(ref.path, what);
    const sha256 = await hashLocal(ref.path, dirs);
    if (want && sha256 !== want) throw mismatch(`${what} ${ref.path}`, want, sha256);
    return { file: ref.path, sha256 };
  }
  const url = ref.url as string;
  const ext = url.match(/\.(tar\.(?:xz|gz|bz2|zst)|tgz|tar|patch|diff|sign)$/)?.[1] ?? 'bin';
  const cached = join(dirs.sources, `${want}.${ext}`);
  if (want && existsSync(cached)) return { file: cached, sha256: want };
  const part = `${cached}.part-${process.pid}`;
  const got = await download(url, part, progress);
  if (want && got !== want) {
    rmSync(part, { force: true });
    throw mismatch(`${what} ${url}`, want, got);
  }
  renameSync(part, cached);
  return { file: cached, sha256: got };
}

/** A tree given by path: fingerprint of its file list (names, sizes, mtimes), cheap and change-sensitive. */
async function treeFingerprint(dir: string): Promise<string> {
  const r = await runLocal(['find', dir, '-type', 'f', '-printf', '%P\\t%s\\t%T@\\n']);
  if (r.code !== 0) throw new BuildError(`cannot list the kernel tree ${dir}: ${r.stderr.trim()}`);
  return sha256Text(r.stdout.split('\n').sort().join('\n'));
}

export async function fetchSource(
  spec: Spec,
  dirs: CacheDirs,
  resolvePath: (p: string) => string,
  progress?: Progress,
): Promise<FetchedSource> {
  const src = spec.kernel.source;
  if ('git' in src) return fetchGit(src.git, src.ref, resolvePath, dirs, progress);
  if ('path' in src) {
    const path = resolvePath(src.path);
    if (statSync(path).isDirectory()) return { kind: 'tree', dir: path, key: await treeFingerprint(path) };
    const { file, sha256 } = await fetchFile({ path, sha256: src.sha256 }, 'kernel source', dirs, progress);
    return { kind: 'tarball', file, sha256 };
  }
  const { file, sha256 } = await fetchFile(src, 'kernel source', dirs, progress);
  return { kind: 'tarball', file, sha256 };
}

/**
 * git is never given a value it could read as an option (`--` before every positional) and may
 * only speak https, ssh and file (a local path is `file`): no `ext::`, `fd::` or other helpers,
 * also when a server redirects or a submodule asks.
 */
export const GIT_CONFIG = [
  '-c',
  'protocol.allow=never',
  '-c',
  'protocol.https.allow=always',
  '-c',
  'protocol.ssh.allow=always',
  '-c',
  'protocol.file.allow=always',
] as const;
export const GIT_ENV: Record<string, string> = {
  GIT_PROTOCOL_FROM_USER: '0',
  GIT_ALLOW_PROTOCOL: 'https:ssh:file',
  GIT_TERMINAL_PROMPT: '0',
};

const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

async function fetchGit(
  written: string,
  commitId: string,
  resolvePath: (p: string) => string,
  dirs: CacheDirs,
  progress?: Progress,
): Promise<FetchedSource> {
  // Validation refuses these already; checked again here because this is where git runs.
  const c = classifyGitUrl(written);
  if ('problem' in c)
    throw new BuildError(`kernel.source.git \`${written}\` is refused: ${c.problem.message}`, c.problem.hint);
  if (!COMMIT_ID.test(commitId))
    throw new BuildError(
      `kernel.source.ref \`${commitId}\` is not a full commit id (40 or 64 lower-case hex digits)`,
      'pin the commit: `git rev-parse REF^{commit}`',
    );
  const repo = c.kind === 'path' ? resolvePath(written) : written;
  const git = (args: string[]) => runLocal(['git', ...GIT_CONFIG, ...args], { env: GIT_ENV });
  const bare = join(dirs.sources, `git-${sha256Text(repo).slice(0, 32)}.git`);
  if (!existsSync(bare)) {
    const r = await git(['init', '--bare', '-q', '--', bare]);
    if (r.code !== 0) throw new BuildError(`git init failed: ${r.stderr.trim()}`);
  }
  const has = await git(['-C', bare, 'cat-file', '-e', '--', `${commitId}^{commit}`]);
  if (has.code !== 0) {
    progress?.(`fetching ${commitId.slice(0, 12)} from ${repo}`);
    const f = await git([
      '-C',
      bare,
      'fetch',
      '-q',
      '--no-recurse-submodules',
      '--depth',
      '1',
      '--',
      repo,
      commitId,
    ]);
    if (f.code !== 0)
      throw new BuildError(
        `cannot fetch commit ${commitId} from ${repo}: ${f.stderr.trim().split('\n').pop()}`,
        'check the repository URL and that the commit exists there (servers must allow fetching a commit by id)',
      );
  }
  return { kind: 'git', repo: bare, commit: commitId };
}

/** gpgv over the uncompressed tar, as kernel.org signs its tarballs. */
export async function checkSignature(tarball: string, signature: string, keyring: string): Promise<void> {
  requireRegular(keyring, 'kernel.signature.keyring');
  requireRegular(signature, 'kernel.signature');
  const decompress = /\.xz$|\.txz$/.test(tarball)
    ? 'xz -dc'
    : /\.gz$|\.tgz$/.test(tarball)
      ? 'gzip -dc'
      : /\.bz2$/.test(tarball)
        ? 'bzip2 -dc'
        : /\.zst$/.test(tarball)
          ? 'zstd -dc'
          : 'cat';
  const r = await runLocal([
    'sh',
    '-c',
    `${decompress} -- "$1" | gpgv --keyring "$2" -- "$3" -`,
    'kf-gpgv',
    tarball,
    keyring,
    signature,
  ]);
  if (r.code !== 0)
    throw new BuildError(
      `signature check of ${tarball} failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`,
      "nothing was unpacked. Check that the keyring holds the signer's key and that the signature belongs to this tarball",
    );
}

/** Unpack (once per source) into trees/src-<key>, and check the version it holds. */
export async function unpack(
  s: FetchedSource,
  version: string,
  dirs: CacheDirs,
  progress?: Progress,
): Promise<{ dir: string; key: string }> {
  const key = sha256Json({ unpack: 1, source: sourceKey(s) });
  const final = join(dirs.trees, `src-${key}`);
  if (!existsSync(final)) {
    // Digests kept for an earlier unpacking name its inodes, not this one's; its list of links
    // (tree-copy.ts) is made again, and a spare copy an earlier kernelfile kept is dropped.
    dropSourceSums(final);
    rmSync(linksListOf(final), { force: true });
    rmSync(`${final}.spare`, { recursive: true, force: true });
    const tmp = staging(final);
    try {
      progress?.('unpacking the kernel source');
      if (s.kind === 'tarball')
        await extractTar(s.file, tmp, { strip: 1, label: `the kernel source ${s.file}` });
      else {
        // Owners are not kept and modes lose setuid/setgid and pass through umask 022, as for a
        // tarball; only root can enter the directory until it is checked.
        chmodSync(tmp, 0o700);
        const r =
          s.kind === 'tree'
            ? await runLocal([
                'sh',
                '-c',
                'umask 022; exec cp -R --preserve=timestamps --reflink=auto -- "$1/." "$2"',
                'kf-copy',
                s.dir,
                tmp,
              ])
            : await runLocal(
                [
                  'sh',
                  '-c',
                  `umask 022; git -C "$1" archive --format=tar -- "$2" | tar -x ${SAFE_TAR_OPTIONS.join(' ')} -C "$3"`,
                  'kf-git',
                  s.repo,
                  s.commit,
                  tmp,
                ],
                { env: GIT_ENV },
              );
        if (r.code !== 0)
          throw new BuildError(
            `cannot unpack the kernel source: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`,
          );
        await refuseSpecialFiles(tmp, s.kind === 'tree' ? `the kernel tree ${s.dir}` : `commit ${s.commit}`);
        chmodSync(tmp, 0o755);
      }
      commit(tmp, final);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  // Every time, also for a cached tree: the same source may be declared with another version.
  await checkVersion(final, version, `${final}.kernelversion`);
  return { dir: final, key };
}

/**
 * `make kernelversion` of a tree. A tree in the cache never changes (it is named by its content):
 * with `memo`, the answer is kept beside it and read back next time instead of running make.
 */
async function kernelVersionOf(tree: string, memo?: string): Promise<string> {
  if (memo) {
    try {
      const m = JSON.parse(readFileSync(memo, 'utf8')) as { tree?: string; version?: string };
      if (m.tree === tree && typeof m.version === 'string' && /^[0-9][0-9A-Za-z.+_-]*$/.test(m.version))
        return m.version;
    } catch {
      // none yet, or damaged: ask make
    }
  }
  const r = await runLocal(['make', '-s', '-C', tree, 'kernelversion']);
  if (r.code !== 0) throw new BuildError(`\`make kernelversion\` failed in the source: ${r.stderr.trim()}`);
  const got = r.stdout.trim();
  if (memo && /^[0-9][0-9A-Za-z.+_-]*$/.test(got))
    try {
      writeAtomic(memo, JSON.stringify({ tree, version: got }));
    } catch {
      // a read-only cache: make answers again next time
    }
  return got;
}

export async function checkVersion(tree: string, version: string, memo?: string): Promise<void> {
  if (!existsSync(join(tree, 'Makefile')) || !existsSync(join(tree, 'Kconfig')))
    throw new BuildError('the source has no top-level Makefile and Kconfig: it is not a kernel source tree');
  const got = await kernelVersionOf(tree, memo);
  if (got !== version)
    throw new BuildError(
      `the source is Linux ${got}, but kernel.version says ${version}`,
      `set kernel.version: "${got}" in the kernelfile, or point kernel.source at Linux ${version}`,
    );
}
