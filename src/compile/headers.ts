/**
 * The headers tree an out-of-tree module build needs (`make -C headers M=dir modules`), as distro
 * linux-headers packages ship it: the source tree's Makefiles, include/, scripts/ and the
 * architecture's include and scripts directories, overlaid with the build's generated files
 * (.config, Module.symvers, include/generated, include/config, host tools in scripts/, objtool),
 * without the build's intermediates.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import { ElfError, elfNeeds, type HeadersNeed, unionNeeds } from './elf-needs.js';
import { BuildError } from './errors.js';

/** Paths printed by a `find` script run in `dir`; `nice`: at the lowest CPU priority. */
async function listFiles(dir: string, script: string, nice = false): Promise<string[]> {
  const r = await runLocal([...niceArgs(nice), 'sh', '-c', `cd "$1" && { ${script}\n}`, 'kf-headers', dir]);
  if (r.code !== 0) throw new BuildError(`cannot list files for the headers tree: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter(Boolean);
}

function niceArgs(nice: boolean): string[] {
  return nice ? ['nice', '-n', '19'] : [];
}

async function copyList(
  from: string,
  to: string,
  list: string[],
  listFile: string,
  nice = false,
): Promise<void> {
  writeFileSync(listFile, `${list.join('\n')}\n`);
  try {
    const r = await runLocal([
      ...niceArgs(nice),
      'sh',
      '-c',
      'tar -c -f - -C "$1" -T "$2" | tar -x -f - -C "$3"',
      'kf-headers',
      from,
      listFile,
      to,
    ]);
    if (r.code !== 0)
      throw new BuildError(
        `cannot copy the headers tree: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`,
      );
  } finally {
    rmSync(listFile, { force: true });
  }
}

/**
 * The source tree's files, hard-linked (`cp -l`: a tenth of the time of a copy, for tens of MB of
 * headers). The cache's patched trees are never written in place, and nothing writes into artifacts
 * in place either: the build's own files are extracted over these by tar, which replaces a file
 * (unlinks it) rather than writing through the link. Another file system (EXDEV) or a refused link
 * falls back to a copy.
 */
async function linkList(
  from: string,
  to: string,
  list: string[],
  listFile: string,
  nice: boolean,
): Promise<void> {
  const r = await runLocal(
    [
      ...niceArgs(nice),
      'sh',
      '-c',
      'cd "$1" && exec xargs -0 -r cp -P -l --parents -t "$2" --',
      'kf-headers',
      from,
      to,
    ],
    {
      stdin: `${list.join('\0')}\0`,
    },
  );
  if (r.code !== 0) await copyList(from, to, list, listFile, nice);
}

/**
 * Is `rel` (a path of the source tree; `type` as find's %y prints it: f, l, d…) in the source's
 * part of the headers tree? The top Makefile and the architecture's, everything in include/ and
 * scripts/, the architecture's Kbuild.platforms and Platform files and the regular files of its
 * include and scripts directories.
 */
export function inSourceHeaders(rel: string, type: string, srcarch: string): boolean {
  const arch = `arch/${srcarch}/`;
  const inArch = rel.startsWith(arch);
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (
    base.startsWith('Makefile') &&
    (!rel.includes('/') || (inArch && !rel.slice(arch.length).includes('/')))
  )
    return true;
  if ((rel.startsWith('include/') || rel.startsWith('scripts/')) && (type === 'f' || type === 'l'))
    return true;
  if (!inArch) return false;
  if (base === 'Kbuild.platforms' || base === 'Platform') return true;
  return type === 'f' && /\/(include|scripts)\//.test(rel.slice(arch.length - 1, rel.length - base.length));
}

/** The files and links of the source tree `dir` where the headers take from, with their types. */
async function listSource(
  dir: string,
  srcarch: string,
  nice: boolean,
): Promise<{ rel: string; type: string }[]> {
  const r = await runLocal([
    ...niceArgs(nice),
    'sh',
    '-c',
    `cd "$1" && find . -maxdepth 1 -name 'Makefile*' -printf '%y %P\\0' && find include scripts "arch/$2" '(' -type f -o -type l ')' -printf '%y %p\\0'`,
    'kf-headers',
    dir,
    srcarch,
  ]);
  if (r.code !== 0) throw new BuildError(`cannot list files for the headers tree: ${r.stderr.trim()}`);
  return r.stdout
    .split('\0')
    .filter(Boolean)
    .map((x) => ({ type: x.slice(0, 1), rel: x.slice(2) }));
}

/** find's %y of what `path` is (not followed), or undefined when there is nothing there. */
function typeOf(path: string): string | undefined {
  try {
    const st = lstatSync(path);
    return st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isDirectory() ? 'd' : 'o';
  } catch {
    return undefined;
  }
}

/**
 * The source's part of the headers tree at `dest` (made here): its Makefiles, include/, scripts/
 * and the architecture's include and scripts directories (inSourceHeaders), hard-linked. It reads
 * nothing the build makes, so a build starts it while make compiles, at the lowest CPU priority
 * (`nice`: in make's idle moments, its single-threaded link and compression), and overlays the
 * build's part after (installBuildHeaders).
 *
 * A patched tree is a shadow of the pristine one (tree-copy.ts: links to its directories but where
 * the patches write), so with `pristine` and the files the patches touch (`touched`), the pristine
 * tree is listed and each touched file is taken as the patched tree has it (or left out, removed).
 */
export async function installSourceHeaders(
  srctree: string,
  srcarch: string,
  dest: string,
  o: { nice?: boolean; pristine?: string; touched?: readonly string[] } = {},
): Promise<void> {
  const nice = o.nice ?? false;
  const shadowed = o.pristine !== undefined && o.touched !== undefined && o.pristine !== srctree;
  const listed = await listSource(shadowed ? (o.pristine as string) : srctree, srcarch, nice);
  const wanted = new Set(listed.filter((e) => inSourceHeaders(e.rel, e.type, srcarch)).map((e) => e.rel));
  if (shadowed)
    for (const rel of o.touched ?? []) {
      const type = typeOf(join(srctree, rel));
      if (type && inSourceHeaders(rel, type, srcarch)) wanted.add(rel);
      else wanted.delete(rel);
    }
  mkdirSync(dest, { recursive: true });
  await linkList(srctree, dest, [...wanted], `${dest}.src-list`, nice);
}

/**
 * The build's part of the headers tree, over the source's (installSourceHeaders, complete): the
 * generated headers, .config, Module.symvers and the host tools.
 */
export async function installBuildHeaders(
  objtree: string,
  srcarch: string,
  dest: string,
  config: Record<string, string>,
): Promise<void> {
  const optional = [
    config.CONFIG_MODULES === 'y' ? 'echo Module.symvers' : '',
    config.CONFIG_OBJTOOL === 'y' ? 'echo tools/objtool/objtool' : '',
    config.CONFIG_GCC_PLUGINS === 'y' ? 'find scripts/gcc-plugins -name "*.so"' : '',
  ].filter(Boolean);
  // Not the build's intermediates (.cmd command records, objects, assembler output, dependency
  // files): an external module build never reads them (the kernel is read-only to M= builds), and
  // they name the build's own directories, so no two builds would ship the same tree.
  const fromBuild = await listFiles(
    objtree,
    `find arch/${srcarch}/include include scripts -type f ! -name '*.cmd' ! -name '*.o' ! -name '*.s' ! -name '.*.d'; ${optional.map((c) => `${c};`).join(' ')}`,
  );
  await copyList(objtree, dest, fromBuild, `${dest}.obj-list`);
  copyFileSync(join(objtree, '.config'), join(dest, '.config'));
}

/** Host tools are small (objtool is a few MB): a larger "executable" is not read whole. */
const MAX_TOOL_BYTES = 64 * 1024 * 1024;

/**
 * What the host tools of a headers tree need to run (every regular file with an execute bit that
 * is ELF: scripts/basic/fixdep, scripts/mod/modpost, tools/objtool/objtool, scripts/sign-file…),
 * read from their bytes, never run. Symlinks are not followed. null when the tree is absent.
 */
export function headersNeed(dir: string): HeadersNeed | null {
  if (!existsSync(dir)) return null;
  const files: { path: string; size: number; mode: number }[] = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const st = statSync(path);
    files.push({ path, size: st.size, mode: st.mode });
  }
  return headersNeedOf(files);
}

/**
 * headersNeed from a listing of the tree's regular files (their paths, sizes and modes), as a
 * caller that lists them anyway has them: only the executables are opened.
 */
export function headersNeedOf(files: readonly { path: string; size: number; mode: number }[]): HeadersNeed {
  const elf: string[] = [];
  for (const { path, size, mode } of files) {
    if ((mode & 0o111) === 0 || size < 52 || size > MAX_TOOL_BYTES) continue;
    const head = Buffer.alloc(4);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    if (head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) elf.push(path);
  }
  return unionNeeds(
    elf.sort().map((f) => {
      try {
        return elfNeeds(readFileSync(f));
      } catch (e) {
        if (e instanceof ElfError) throw new BuildError(`cannot read the host tool ${f}: ${e.message}`);
        throw e;
      }
    }),
  );
}
