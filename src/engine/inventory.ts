/**
 * Reading an Ansible inventory from disk: the inventory file, and the files under `group_vars/` and
 * `host_vars/` beside it that its groups and hosts load. The I/O, bounded; the parsing, precedence
 * and which files count are pure (src/fleet/inventory.ts, vars-dirs.ts).
 *
 * Limits (a repository's inventory is trusted, but a mistake must not hang or exhaust the
 * controller): regular files only (a FIFO or device is refused, never opened for reading), each at
 * most a size, at most so many entries listed under the two directories and so many bytes read in
 * all, UTF-8 only. A symbolic link is followed only to a place inside the inventory's directory
 * (the directory holding the inventory file); one leading out of it is refused with its name.
 */
import { type Dirent, readdirSync, realpathSync, type Stats, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileKind, MIB, readRegularSync } from '../compile/read-file.js';
import {
  finishInventory,
  type InvDiagnostic,
  type Inventory,
  inventoryVarsFiles,
  readInventorySource,
  type VarsEntry,
} from '../fleet/inventory.js';
import type { Env } from './env.js';
import { UserError } from './errors.js';

/** An inventory file: 100 000 hosts with a few vars each fit well below this. */
export const MAX_INVENTORY_BYTES = 64 * MIB;
/** One file under group_vars/ or host_vars/. */
export const MAX_VARS_FILE_BYTES = 4 * MIB;
/** All the vars files read for one inventory. */
export const MAX_VARS_TOTAL_BYTES = 256 * MIB;
/** Entries listed under group_vars/ and host_vars/ (files and directories, at any depth). */
export const MAX_VARS_ENTRIES = 200_000;
/** Directory levels below group_vars/ and host_vars/. */
const MAX_DEPTH = 32;

export interface LoadedInventory {
  inventory: Inventory;
  warnings: InvDiagnostic[];
  /** The inventory file, absolute. */
  path: string;
}

/** `file:line:column: message`, as every inventory diagnostic is shown. */
export function diagnosticLine(d: InvDiagnostic): string {
  return `${d.file}${d.line ? `:${d.line}:${d.column ?? 1}` : ''}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

function inventoryError(errors: readonly InvDiagnostic[]): UserError {
  return new UserError(
    errors.map((e) => diagnosticLine({ ...e, severity: 'error' })).join('\n'),
    errors[0]?.hint,
  );
}

/** UTF-8 text, or an error naming the file and the line of the first byte that is not UTF-8. */
function utf8(bytes: Buffer, shown: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let bad = 0;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let start = 0;
    // The line that fails to decode: lines are separated by `\n` (a byte never inside a UTF-8 sequence).
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x0a) continue;
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        break;
      }
      bad++;
      start = i + 1;
    }
    throw new UserError(
      `${shown}:${bad + 1}: this file is not UTF-8 text`,
      'Ansible reads inventories and vars files as UTF-8: convert it (e.g. `iconv -f latin1 -t utf-8`)',
    );
  }
}

function readText(path: string, shown: string, max: number, what = ''): string {
  const r = readRegularSync(path, max);
  if (!r.ok) {
    let directory = false;
    try {
      directory = statSync(path).isDirectory();
    } catch {
      // Missing or unreadable: the message says so.
    }
    throw new UserError(
      `cannot read ${what}${shown}: ${r.message.replace(path, 'it')}`,
      r.reason === 'missing'
        ? 'check the path (relative to the working directory)'
        : directory && what
          ? 'kernelfile reads one inventory file (with the group_vars/ and host_vars/ beside it): name the file in that directory, e.g. `DIR/hosts`'
          : undefined,
    );
  }
  return utf8(r.bytes, shown);
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * What is under group_vars/ and host_vars/ of `dir` (symbolic links followed inside `dir` only),
 * with paths relative to `dir`; `warn` gets what Ansible only warns about.
 */
export function listVarsDirs(dir: string, shownDir: string, warn: (d: InvDiagnostic) => void): VarsEntry[] {
  const root = realpathSync(dir);
  const out: VarsEntry[] = [];
  const shown = (rel: string) => (shownDir === '.' || shownDir === '' ? rel : join(shownDir, rel));
  const seenDirs = new Set<string>();
  const add = (e: VarsEntry) => {
    out.push(e);
    if (out.length > MAX_VARS_ENTRIES)
      throw new UserError(
        `more than ${MAX_VARS_ENTRIES} files and directories under ${shown('group_vars')} and ${shown('host_vars')}`,
        'kernelfile lists at most this many: keep the vars of the inventory’s groups and hosts there, nothing else',
      );
  };
  /** The entry at `rel` (a link followed), or null when it does not exist (a dangling link). */
  const entry = (rel: string, dirent?: Dirent): { e: VarsEntry; real?: string } | null => {
    const abs = join(dir, rel);
    if (dirent && !dirent.isSymbolicLink()) {
      const kind = dirent.isDirectory() ? 'dir' : dirent.isFile() ? 'file' : 'other';
      return { e: { path: rel, kind }, real: join(root, relative(dir, abs)) };
    }
    let real: string;
    let st: Stats;
    try {
      real = realpathSync(abs);
      st = statSync(real);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      return {
        e: {
          path: rel,
          kind: 'other',
          refused: `cannot read ${shown(rel)}: ${code ?? (e as Error).message}`,
        },
      };
    }
    const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    if (!inside(root, real))
      return {
        e: {
          path: rel,
          kind,
          refused: `${shown(rel)} is a symbolic link out of the inventory's directory (to ${real})`,
        },
        real,
      };
    return { e: { path: rel, kind }, real };
  };
  /** A directory's entries; below a link out of `dir`, each is refused for that link's reason. */
  const walk = (rel: string, real: string, depth: number, refused?: string) => {
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    if (depth > MAX_DEPTH)
      throw new UserError(
        `${shown(rel)} is more than ${MAX_DEPTH} directories deep`,
        'is a symbolic link pointing back up? Keep vars directories shallow',
      );
    let dirents: Dirent[];
    try {
      dirents = readdirSync(refused ? real : join(dir, rel), { withFileTypes: true });
    } catch (e) {
      throw new UserError(
        `cannot list ${shown(rel)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    for (const d of dirents) {
      if (refused) {
        // Named only: nothing out of the inventory's directory is read.
        const kind = d.isDirectory() ? 'dir' : d.isFile() || d.isSymbolicLink() ? 'file' : 'other';
        add({ path: `${rel}/${d.name}`, kind, refused });
        if (kind === 'dir') walk(`${rel}/${d.name}`, join(real, d.name), depth + 1, refused);
        continue;
      }
      const child = entry(`${rel}/${d.name}`, d);
      if (!child) continue;
      add(child.e);
      if (child.e.kind === 'dir' && child.real)
        walk(child.e.path, child.real, depth + 1, child.e.refused ? child.e.refused : undefined);
    }
  };
  for (const subdir of ['group_vars', 'host_vars']) {
    const top = entry(subdir);
    if (!top) continue;
    if (top.e.kind !== 'dir') {
      if (top.e.refused) add(top.e);
      else
        warn({
          severity: 'warning',
          file: shown(subdir),
          message: `${subdir} is not a directory: its vars are not read (Ansible skips it too)`,
        });
      continue;
    }
    add(top.e);
    walk(subdir, top.real ?? join(root, subdir), 0, top.e.refused);
  }
  return out;
}

/**
 * The inventory `file` (relative to the working directory, shown as given), with the vars of the
 * group_vars/ and host_vars/ files beside it. Throws a UserError listing every error, each at its
 * file and line.
 */
export function loadInventory(file: string, env: Pick<Env, 'cwd'>): LoadedInventory {
  const path = resolve(env.cwd, file);
  const text = readText(path, file, MAX_INVENTORY_BYTES, 'the inventory ');
  const src = readInventorySource(text, file);
  if (!src.ok) throw inventoryError(src.errors);
  const warnings: InvDiagnostic[] = [];
  const dir = dirname(path);
  const shownDir = dirname(file);
  const entries = listVarsDirs(dir, shownDir, (w) => warnings.push(w));
  const texts = new Map<string, string>();
  let total = 0;
  const root = realpathSync(dir);
  for (const rel of inventoryVarsFiles(src.value, { entries })) {
    const shown = shownDir === '.' ? rel : join(shownDir, rel);
    const abs = join(dir, rel);
    let real: string;
    try {
      real = realpathSync(abs);
    } catch (e) {
      throw new UserError(
        `cannot read ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    // Checked again when read: the listing may be older than the file.
    if (!inside(root, real))
      throw new UserError(`${shown} is a symbolic link out of the inventory's directory (to ${real})`);
    const st = statSync(real);
    if (!st.isFile()) throw new UserError(`${shown} is ${fileKind(st)}; kernelfile reads only regular files`);
    const t = readText(real, shown, MAX_VARS_FILE_BYTES);
    total += Buffer.byteLength(t);
    if (total > MAX_VARS_TOTAL_BYTES)
      throw new UserError(
        `the vars files under ${shownDir === '.' ? '' : `${shownDir}/`}group_vars and host_vars hold more than ${MAX_VARS_TOTAL_BYTES / MIB} MiB`,
        'kernelfile reads at most this much for one inventory',
      );
    texts.set(rel, t);
  }
  const inv = finishInventory(src.value, { entries, texts });
  if (!inv.ok) throw inventoryError(inv.errors);
  return { inventory: inv.value, warnings: [...warnings, ...inv.warnings], path };
}
