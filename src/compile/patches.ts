/**
 * Patches, in order, onto a copy of the unpacked source: each is dry-run first, then applied; the
 * patched tree is committed to the cache only when every patch applied. A patch that does not apply
 * is reported with the files and hunks that failed; one whose reverse applies is already in the
 * source. GNU patch writes each changed file anew, so a tree of hard links to the pristine files
 * (tree-copy.ts) keeps the pristine tree intact.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import type { CacheDirs } from './cache.js';
import { commit, staging } from './cache.js';
import { BuildError } from './errors.js';
import { sha256Json } from './hash.js';
import { linkTree, shadowTree } from './tree-copy.js';

export interface ResolvedPatch {
  /** As written in the kernelfile (path or URL), for messages. */
  name: string;
  file: string;
  sha256: string;
  strip: number;
}

export interface PatchFailure {
  file: string;
  hunks: number[];
  missing?: boolean;
}

/** The failed files and hunks from GNU patch's output. */
export function parsePatchOutput(out: string): PatchFailure[] {
  const failures: PatchFailure[] = [];
  let current: string | undefined;
  for (const line of out.split('\n')) {
    const m = line.match(/^(?:checking|patching) file (.+)$/);
    if (m) {
      current = (m[1] as string).replace(/^'(.*)'$/, '$1');
      continue;
    }
    const h = line.match(/^Hunk #(\d+) FAILED/);
    if (h && current) {
      let f = failures.find((x) => x.file === current);
      if (!f) {
        f = { file: current, hunks: [] };
        failures.push(f);
      }
      f.hunks.push(Number(h[1]));
    }
    if (/can't find file to patch/.test(line))
      failures.push({ file: current ?? '?', hunks: [], missing: true });
  }
  return failures;
}

function patchArgv(p: ResolvedPatch, tree: string, extra: string[]): string[] {
  return [
    'patch',
    `-p${p.strip}`,
    '--batch',
    '--forward',
    '--no-backup-if-mismatch',
    '-d',
    tree,
    '-i',
    p.file,
    ...extra,
  ];
}

async function applyOne(p: ResolvedPatch, tree: string, index: number): Promise<void> {
  const dry = await runLocal(patchArgv(p, tree, ['--dry-run']));
  if (dry.code !== 0) {
    const reverse = await runLocal([
      'patch',
      `-p${p.strip}`,
      '--batch',
      '-R',
      '--dry-run',
      '-d',
      tree,
      '-i',
      p.file,
    ]);
    if (reverse.code === 0)
      throw new BuildError(
        `patch ${index + 1} (${p.name}) is already in the source: its reverse applies cleanly`,
        'the kernel version you build already contains this change: remove the patch from the kernelfile',
      );
    const failures = parsePatchOutput(dry.stdout + dry.stderr);
    const what = failures.length
      ? failures
          .map((f) =>
            f.missing
              ? `${f.file}: file not found (is strip right?)`
              : `${f.file}: hunk${f.hunks.length > 1 ? 's' : ''} ${f.hunks.join(', ')} failed`,
          )
          .join('; ')
      : (dry.stdout + dry.stderr).trim().split('\n').slice(-2).join(' ');
    throw new BuildError(
      `patch ${index + 1} (${p.name}) does not apply: ${what}`,
      'nothing was built. Rebase the patch onto this kernel version (or check strip and the order of patches)',
      (dry.stdout + dry.stderr).trim().split('\n').slice(-20),
    );
  }
  const r = await runLocal(patchArgv(p, tree, []));
  if (r.code !== 0)
    throw new BuildError(
      `patch ${index + 1} (${p.name}) failed after a clean dry run: ${r.stdout.trim().split('\n').pop()}`,
    );
}

/** Where the tree of `patches` over `pristine` is (or will be) in the cache: the pristine source without patches. */
export function patchedTreePlace(
  pristine: { dir: string; key: string },
  patches: readonly Pick<ResolvedPatch, 'sha256' | 'strip'>[],
  dirs: Pick<CacheDirs, 'trees'>,
): { dir: string; key: string } {
  if (patches.length === 0) return pristine;
  const key = sha256Json({
    tree: 1,
    source: pristine.key,
    patches: patches.map((p) => ({ sha256: p.sha256, strip: p.strip })),
  });
  return { dir: join(dirs.trees, key), key };
}

/**
 * The patched tree for (source, patches), from the cache or made now: a shadow of the pristine tree
 * (tree-copy.ts) where the files the patches name are real, or a hard-link copy of it when a patch
 * names no file that can be read (or names one the shadow did not expect: GNU patch then refuses to
 * write through its link, finds no file, and the patches are applied again to a copy, which says
 * whether the file is missing indeed). `touched`: touchedFiles of the patches' texts.
 */
export async function patchedTree(
  pristine: { dir: string; key: string },
  patches: ResolvedPatch[],
  touched: readonly string[] | undefined,
  dirs: CacheDirs,
  progress?: (m: string) => void,
): Promise<{ dir: string; key: string }> {
  const place = patchedTreePlace(pristine, patches, dirs);
  if (place === pristine || existsSync(place.dir)) return place;
  const { key, dir: final } = place;
  const tmp = staging(final);
  const apply = async () => {
    for (const [i, p] of patches.entries()) {
      progress?.(`applying patch ${i + 1}/${patches.length}: ${p.name}`);
      await applyOne(p, tmp, i);
    }
  };
  try {
    let applied = false;
    if (touched) {
      await shadowTree(pristine.dir, tmp, touched);
      try {
        await apply();
        applied = true;
      } catch (e) {
        rmSync(tmp, { recursive: true, force: true });
        // A hunk that failed, or a patch already in the source, is the patch's own: said at once.
        // A file not found may be one the shadow did not make real: the copy below tells.
        if (e instanceof BuildError && !/file not found|after a clean dry run/.test(e.message)) throw e;
      }
    }
    if (!applied) {
      mkdirSync(tmp, { recursive: true });
      await linkTree(pristine.dir, tmp);
      await apply();
    }
    commit(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { dir: final, key };
}

/** The paths a patch names (unified, context and git diffs) as written; undefined when it names none. */
function namedPaths(text: string): string[] | undefined {
  const out = new Set<string>();
  const add = (raw: string) => {
    const p =
      raw
        .split('\t')[0]
        ?.trim()
        .replace(/^"(.*)"$/, '$1') ?? '';
    if (p && p !== '/dev/null') out.add(p);
  };
  for (const line of text.split('\n')) {
    const m = /^(?:--- |\+\+\+ |\*\*\* |Index: |rename from |rename to |copy from |copy to )(.+)$/.exec(line);
    if (m) add(m[1] as string);
    const g = /^diff --git (\S+) (\S+)$/.exec(line);
    if (g) {
      add(g[1] as string);
      add(g[2] as string);
    }
  }
  return out.size ? [...out] : undefined;
}

/**
 * The paths a patch names, each as written and with `strip` leading components removed; undefined
 * when it names none (then nothing can be ruled out).
 */
export function patchedPaths(text: string, strip: number): string[] | undefined {
  const named = namedPaths(text);
  if (!named) return undefined;
  return [...new Set(named.flatMap((p) => [p, p.split('/').slice(strip).join('/')]).filter(Boolean))];
}

/**
 * The files of the tree that patches touch (their paths with `strip` components removed), or
 * undefined when a patch names none that can be read.
 */
export function touchedFiles(patches: readonly { text: string; strip: number }[]): string[] | undefined {
  const out = new Set<string>();
  for (const p of patches) {
    const named = namedPaths(p.text);
    if (!named) return undefined;
    for (const x of named) {
      const parts = x.split('/');
      if (parts.length <= p.strip) continue;
      const rel = parts.slice(p.strip).join('/');
      if (rel && !rel.split('/').some((c) => c === '..' || c === '.' || c === '')) out.add(rel);
    }
  }
  return [...out].sort();
}

/**
 * Can a change to this file change a Kconfig resolution? Kconfig files, Makefiles and Kbuild files
 * (targets, ARCH, the version), config fragments and defconfigs, and scripts/ (the kconfig tools
 * and what Kconfig's $(shell,…) runs). Anything else (C sources, headers) cannot.
 */
export function changesKconfig(path: string): boolean {
  return /(^|\/)(Kconfig[^/]*|Makefile[^/]*|Kbuild[^/]*|[^/]*\.config|[^/]*defconfig)$|(^|\/)scripts\/|(^|\/)configs\//.test(
    path,
  );
}

/**
 * The tree to resolve the configuration in: the pristine source when no patch touches anything
 * Kconfig reads (so a patch to a C file shares the pristine tree's Kconfig cache: base config,
 * kconfig tools, database and resolutions), else the patched tree.
 */
export function kconfigTree(
  pristine: { dir: string; key: string },
  tree: { dir: string; key: string },
  patches: readonly { text: string; strip: number }[],
): { dir: string; key: string } {
  for (const p of patches) {
    const paths = patchedPaths(p.text, p.strip);
    if (!paths || paths.some(changesKconfig)) return tree;
  }
  return pristine;
}
