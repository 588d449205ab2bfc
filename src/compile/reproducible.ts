/**
 * `build --check-reproducible`: build the same prepared build a second time somewhere else (another
 * source tree path, another object tree, later, with another umask, time zone and locale) and
 * compare every artifact bit for bit with the first: the image, System.map, config, every module and
 * the headers tree. A difference is named and shown: with Debian's diffoscope when it is installed,
 * else the first differing byte and a hex excerpt of both files around it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runLocal } from '../host/local.js';
import { buildInto, type Manifest, type Prepared } from './build.js';
import { buildDirOf, objtreeIn } from './build-dir.js';
import { BuildError } from './errors.js';
import type { MakeEvent } from './make.js';

/** Files that differ between two builds by design: the log, the manifest (times) and the provenance. */
const NOT_COMPARED = new Set(['build.log', 'manifest.json', 'provenance.json']);

export interface FileDifference {
  path: string;
  kind: 'differs' | 'only-first' | 'only-second';
  sizes?: [number, number];
  /** What differs, in lines (diffoscope's report, or an offset and a hex excerpt). */
  detail?: string[];
}

/** Two manifests' file lists compared by path and sha256 (pure). */
export function compareFiles(a: Manifest['files'], b: Manifest['files']): FileDifference[] {
  const second = new Map(b.map((f) => [f.path, f]));
  const out: FileDifference[] = [];
  for (const f of a) {
    if (NOT_COMPARED.has(f.path)) continue;
    const g = second.get(f.path);
    if (!g) out.push({ path: f.path, kind: 'only-first' });
    else if (g.sha256 !== f.sha256) out.push({ path: f.path, kind: 'differs', sizes: [f.size, g.size] });
  }
  const first = new Set(a.map((f) => f.path));
  for (const g of b)
    if (!first.has(g.path) && !NOT_COMPARED.has(g.path)) out.push({ path: g.path, kind: 'only-second' });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** The offset of the first byte where `a` and `b` differ (the shorter length when one is a prefix). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** `hexdump -C`-style lines of `bytes` (which start at `base` in their file), 16 bytes a line. */
export function hexLines(bytes: Uint8Array, base: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
    out.push(`${(base + i).toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${text}|`);
  }
  return out;
}

const WINDOW = 64;

function readAt(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The first differing byte of two files (read in chunks) and both files' bytes around it. */
export function hexExplanation(a: string, b: string): string[] {
  const CHUNK = 1 << 20;
  for (let offset = 0; ; offset += CHUNK) {
    const x = readAt(a, offset, CHUNK);
    const y = readAt(b, offset, CHUNK);
    const d = firstDifference(x, y);
    if (d < Math.min(x.length, y.length) || x.length !== y.length) {
      const at = offset + d;
      const from = Math.max(0, at - (at % 16) - 16);
      return [
        `first difference at byte ${at} (0x${at.toString(16)})`,
        'first build:',
        ...hexLines(readAt(a, from, WINDOW), from).map((l) => `  ${l}`),
        'second build:',
        ...hexLines(readAt(b, from, WINDOW), from).map((l) => `  ${l}`),
      ];
    }
    if (x.length < CHUNK) return ['the files are equal'];
  }
}

const DIFFOSCOPE_LINES = 80;

/** diffoscope's text report on two files, cut to its first lines; null when it is not installed. */
export async function diffoscope(a: string, b: string): Promise<string[] | null> {
  const r = await runLocal(
    ['diffoscope', '--no-progress', '--text', '-', '--max-report-size', '262144', a, b],
    {
      timeoutMs: 300_000,
    },
  ).catch(() => null);
  // 0: no differences, 1: differences; anything else (127: not installed) → the hex excerpt instead.
  if (!r || (r.code !== 0 && r.code !== 1)) return null;
  const lines = r.stdout.split('\n').filter((l) => l.trim());
  return lines.length > DIFFOSCOPE_LINES
    ? [
        ...lines.slice(0, DIFFOSCOPE_LINES),
        `… (${lines.length - DIFFOSCOPE_LINES} more lines: run diffoscope ${a} ${b})`,
      ]
    : lines;
}

/** At most this many differing files are explained in detail; the rest are named. */
const EXPLAINED = 5;

export interface ReproducibleResult {
  identical: boolean;
  /** How the second build differed from the first (besides its time and directories). */
  varied: { umask: string; TZ: string; LC_ALL: string; srctree: string };
  second: { dir: string; seconds: number };
  compared: number;
  differences: FileDifference[];
  /** What explained the differences: `diffoscope` or `hexdump`. */
  explainedWith?: 'diffoscope' | 'hexdump';
}

/** A umask, time zone and locale that differ from this process's. */
function variation(env: NodeJS.ProcessEnv): { umask: string; TZ: string; LC_ALL: string } {
  const mask = process.umask();
  return {
    umask: mask === 0o027 ? '0077' : '0027',
    TZ: env.TZ === 'Pacific/Kiritimati' ? 'America/Adak' : 'Pacific/Kiritimati',
    LC_ALL: env.LC_ALL === 'C.UTF-8' ? 'C' : 'C.UTF-8',
  };
}

/**
 * Build `p` again in a scratch directory of the cache and compare with `first` (its artifacts at
 * `firstDir`). The scratch source tree is a hard-linked copy (make never writes to it: O=); the
 * object tree is removed afterwards, the second artifacts are kept only when they differ.
 */
export async function checkReproducible(
  p: Prepared,
  first: { dir: string; manifest: Manifest },
  onEvent?: (e: MakeEvent) => void,
): Promise<ReproducibleResult> {
  const base = join(
    p.dirs.root,
    'reproducible',
    `${p.buildId.slice(0, 16)}-${randomBytes(4).toString('hex')}`,
  );
  const srctree = join(base, 'linux');
  // In a build directory of its own, as the cache's build (build-dir.ts).
  const objtree = objtreeIn(join(base, 'build'));
  const out = join(base, 'artifacts');
  mkdirSync(objtree, { recursive: true, mode: 0o700 });
  mkdirSync(out, { recursive: true });
  const varied = variation(process.env);
  let keep = false;
  try {
    onEvent?.({ stage: 'copying the source tree', compiled: 0 });
    const cp = await runLocal(['cp', '-al', p.tree.dir, srctree]);
    if (cp.code !== 0) {
      const copy = await runLocal(['cp', '-a', p.tree.dir, srctree]);
      if (copy.code !== 0)
        throw new BuildError(`cannot copy the source tree for the second build: ${copy.stderr.trim()}`);
    }
    const started = Date.now();
    const manifest = await buildInto(
      p,
      {
        srctree,
        objtree,
        out,
        umask: varied.umask,
        env: { TZ: varied.TZ, LC_ALL: varied.LC_ALL },
        // Every file read again: the second build proves the first, not the digests it kept.
        hashAll: true,
      },
      onEvent,
    );
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const differences = compareFiles(first.manifest.files, manifest.files);
    let explainedWith: ReproducibleResult['explainedWith'];
    for (const d of differences.filter((x) => x.kind === 'differs').slice(0, EXPLAINED)) {
      onEvent?.({ stage: `comparing ${d.path}`, compiled: 0 });
      const a = join(first.dir, d.path);
      const b = join(out, d.path);
      const report = await diffoscope(a, b);
      if (report) explainedWith = 'diffoscope';
      else explainedWith ??= 'hexdump';
      d.detail = report ?? hexExplanation(a, b);
    }
    keep = differences.length > 0;
    return {
      identical: differences.length === 0,
      varied: { ...varied, srctree },
      second: { dir: keep ? out : '(removed: identical)', seconds },
      compared: first.manifest.files.filter((f) => !NOT_COMPARED.has(f.path)).length,
      differences,
      ...(explainedWith ? { explainedWith } : {}),
    };
  } finally {
    rmSync(srctree, { recursive: true, force: true });
    rmSync(buildDirOf(objtree), { recursive: true, force: true });
    if (!keep) rmSync(base, { recursive: true, force: true });
  }
}
