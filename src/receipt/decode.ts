/**
 * Reading a receipt or a journal back from a host. Host files are data, not trusted: each is
 * checked (size, format version, the type of every field, the release against the file name, the
 * build id, paths and names that reach a command line or a path) and comes back typed, or refused
 * with the reason in words. Fields this kernelfile does not know are left out.
 */
import { scanJson } from './json-scan.js';
import {
  JOURNAL_VERSION,
  type Journal,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptData,
  type ReceiptFile,
  TRIAL_VERSION,
  type Trial,
} from './types.js';

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Larger than any receipt kernelfile writes (a full modules tree is about 1 MiB of JSON). */
export const MAX_RECEIPT_CHARS = 16 * 1024 * 1024;
export const MAX_JOURNAL_CHARS = 64 * 1024;
/** A trial record holds at most a few KiB of health-check output. */
export const MAX_TRIAL_CHARS = 64 * 1024;
/** For the scalar fields: a name, a time, a path. */
const MAX_FIELD = 4096;

/** A kernel release as kernelfile makes them: version, localversion, build id. */
const RELEASE = /^[A-Za-z0-9._+~-]{1,256}$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Thrown by the field readers, caught by decode: the first problem found. */
class Refusal extends Error {}

type Obj = Record<string, unknown>;

/** A value from the host, shown in a message: escaped (no control characters reach a terminal), cut at 80. */
function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : (JSON.stringify(v) ?? String(v));
  return `'${s.length > 80 ? `${s.slice(0, 77)}...` : s}'`;
}

function typeName(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'an array'
      : typeof v === 'object'
        ? 'an object'
        : `a ${typeof v}`;
}

function object(v: unknown, field: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Refusal(`${field} must be an object, not ${typeName(v)}`);
  return v as Obj;
}

function array(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v)) throw new Refusal(`${field} must be an array, not ${typeName(v)}`);
  return v;
}

/** A string without NUL, of a sane length. */
function text(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new Refusal(`${field} must be a string, not ${typeName(v)}`);
  if (v.length > MAX_FIELD) throw new Refusal(`${field} is longer than ${MAX_FIELD} characters`);
  if (v.includes('\0')) throw new Refusal(`${field} ${show(v)} contains a NUL byte`);
  return v;
}

/** One line: no newline or carriage return either. */
function line(v: unknown, field: string): string {
  const s = text(v, field);
  if (/[\n\r]/.test(s)) throw new Refusal(`${field} ${show(s)} contains a line break`);
  return s;
}

/** A name that ends up in a path or a command's argument: one non-empty path component. */
function word(v: unknown, field: string): string {
  const s = line(v, field);
  if (s === '' || s === '.' || s === '..' || s.includes('/') || s.startsWith('-'))
    throw new Refusal(`${field} ${show(s)} is not a plain name (empty, '.', '..', a '/' or a leading '-')`);
  return s;
}

/** An absolute path with no `..` component. */
function absPath(v: unknown, field: string): string {
  const s = line(v, field);
  if (!s.startsWith('/') || s.split('/').includes('..'))
    throw new Refusal(`${field} ${show(s)} is not an absolute path without '/..'`);
  return s;
}

function sha256(v: unknown, field: string): string {
  if (typeof v !== 'string' || !SHA256.test(v))
    throw new Refusal(`${field} ${show(v)} is not a sha256 (64 lowercase hex digits)`);
  return v;
}

function release(v: unknown, fileName: string): string {
  const s = line(v, 'release');
  if (!RELEASE.test(s) || s === '.' || s === '..' || s.startsWith('-'))
    throw new Refusal(`release ${show(s)} is not a kernel release (letters, digits and '._+~-')`);
  if (`${s}.json` !== fileName)
    throw new Refusal(`release field ${show(s)} does not match the file name ${show(fileName)}`);
  return s;
}

function buildId(v: unknown): string {
  if (typeof v !== 'string' || !SHA256.test(v))
    throw new Refusal(`buildId ${show(v)} is not a build id (64 lowercase hex digits)`);
  return v;
}

/** An adopted kernel was not built by kernelfile: it has no build id, and claims none. */
function noBuildId(v: unknown): null {
  if (v !== null) throw new Refusal(`buildId ${show(v)} of an adopted kernel must be null`);
  return null;
}

/** The format version: a positive integer no newer than `known`; `missing` when the field is absent. */
function version(o: Obj, key: string, known: number, missing: number | null): number {
  const v = o[key];
  if (v === undefined) {
    if (missing === null) throw new Refusal(`${key} is missing`);
    return missing;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new Refusal(`${key} ${show(v)} is not a format version (a positive integer)`);
  if (v > known) throw new Refusal(`${key} ${v} is newer than this kernelfile understands (${known})`);
  return v;
}

function nullable<T>(v: unknown, read: (v: unknown) => T): T | null {
  return v === null ? null : read(v);
}

/** Parse the text as one JSON object, within `max` characters. */
function parseObject(text: string, fileName: string, max: number): Obj {
  if (!fileName.endsWith('.json') || fileName.includes('/'))
    throw new Refusal(`${show(fileName)} is not the name of a .json file`);
  if (text.length > max) throw new Refusal(`larger than ${max} characters (${text.length})`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    if (text.trim() === '') throw new Refusal('truncated JSON: the file is empty');
    if (scanJson(text) === 'truncated')
      throw new Refusal(`truncated JSON: the file ends in the middle of a value (${text.length} characters)`);
    throw new Refusal(`not valid JSON: ${(e as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new Refusal(`not a JSON object but ${typeName(data)}`);
  return data as Obj;
}

function decode<T>(read: () => T): Decoded<T> {
  try {
    return { ok: true, value: read() };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, error: e.message };
    throw e;
  }
}

/** `adopted` of a version 2 receipt: true, false or absent (not adopted). */
function adoptedFlag(v: unknown): boolean {
  if (v === undefined || v === false) return false;
  if (v === true) return true;
  throw new Refusal(`adopted ${show(v)} is not true or false`);
}

type DecodedData = Omit<ReceiptData, 'buildId'> & { buildId: string | null };

function receiptData(o: Obj, fileName: string, adopted: boolean): DecodedData {
  const kf = object(o.kernelfile, 'kernelfile');
  return {
    name: line(o.name, 'name'),
    kernelfile: { path: line(kf.path, 'kernelfile.path'), sha256: sha256(kf.sha256, 'kernelfile.sha256') },
    release: release(o.release, fileName),
    version: word(o.version, 'version'),
    buildId: adopted ? noBuildId(o.buildId) : buildId(o.buildId),
    arch: word(o.arch, 'arch'),
    modules: array(o.modules, 'modules').map((m, i) => {
      const mo = object(m, `modules[${i}]`);
      return {
        name: word(mo.name, `modules[${i}].name`),
        version: word(mo.version, `modules[${i}].version`),
      };
    }),
    initramfs: nullable(o.initramfs, (v) => absPath(v, 'initramfs')),
    initramfsModules: array(o.initramfsModules, 'initramfsModules').map((m, i) =>
      word(m, `initramfsModules[${i}]`),
    ),
    entries: array(o.entries, 'entries').map((e, i) => word(e, `entries[${i}]`)),
    loader: nullable(o.loader, (v) => word(v, 'loader')),
  };
}

function receiptFile(v: unknown, i: number): ReceiptFile {
  const f = object(v, `files[${i}]`);
  const size = f.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    throw new Refusal(`files[${i}].size ${show(size)} is not a size in bytes`);
  return { path: absPath(f.path, `files[${i}].path`), sha256: sha256(f.sha256, `files[${i}].sha256`), size };
}

/** A receipt, /var/lib/kernelfile/<fileName>: typed, or why it cannot be trusted. */
export function decodeReceipt(text: string, fileName: string): Decoded<Receipt> {
  return decode(() => {
    const o = parseObject(text, fileName, MAX_RECEIPT_CHARS);
    const receiptVersion = version(o, 'receiptVersion', RECEIPT_VERSION, null);
    // Version 1 knows no `adopted` (a field it does not know is left out, as any other).
    const adopted = receiptVersion >= 2 && adoptedFlag(o.adopted);
    return {
      receiptVersion,
      ...receiptData(o, fileName, adopted),
      ...(adopted ? { adopted: true as const } : {}),
      installedAt: line(o.installedAt, 'installedAt'),
      host: line(o.host, 'host'),
      files: array(o.files, 'files').map(receiptFile),
    };
  });
}

/** A journal, /var/lib/kernelfile/pending/<fileName>: typed, or why it cannot be trusted. */
export function decodeJournal(text: string, fileName: string): Decoded<Journal> {
  return decode(() => {
    const o = parseObject(text, fileName, MAX_JOURNAL_CHARS);
    version(o, 'journalVersion', JOURNAL_VERSION, 1);
    return {
      release: release(o.release, fileName),
      buildId: buildId(o.buildId),
      name: line(o.name, 'name'),
      startedAt: line(o.startedAt, 'startedAt'),
      host: line(o.host, 'host'),
    };
  });
}

/** A boot id as the kernel prints it (a UUID): receipts, facts and the running configs kept. */
export const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function bootIdOf(v: unknown, field: string): string {
  if (typeof v !== 'string' || !BOOT_ID.test(v)) throw new Refusal(`${field} ${show(v)} is not a boot id`);
  return v;
}

/** A trial record, /var/lib/kernelfile/trials/<fileName>: typed, or why it cannot be trusted. */
export function decodeTrial(body: string, fileName: string): Decoded<Trial> {
  return decode(() => {
    const o = parseObject(body, fileName, MAX_TRIAL_CHARS);
    const trialVersion = version(o, 'trialVersion', TRIAL_VERSION, null);
    const state = o.state;
    if (state !== 'armed' && state !== 'failed')
      throw new Refusal(`state ${show(state)} is not 'armed' or 'failed'`);
    const health = nullable(o.health ?? null, (v) => {
      const h = object(v, 'health');
      const code = h.code;
      if (code !== null && (typeof code !== 'number' || !Number.isSafeInteger(code)))
        throw new Refusal(`health.code ${show(code)} is not an exit status`);
      return { command: text(h.command, 'health.command'), code, output: text(h.output, 'health.output') };
    });
    return {
      trialVersion,
      release: release(o.release, fileName),
      // Only ever compared with the loader's entry ids, which may be a title path without an --id
      // ("Advanced options for Debian GNU/Linux>…"): one line, not a plain name.
      entry: line(o.entry, 'entry'),
      cmdline: line(o.cmdline, 'cmdline'),
      bootId: nullable(o.bootId ?? null, (v) => bootIdOf(v, 'bootId')),
      state,
      failedAt: nullable(o.failedAt ?? null, (v) => line(v, 'failedAt')),
      seenRelease: nullable(o.seenRelease ?? null, (v) => line(v, 'seenRelease')),
      seenBootId: nullable(o.seenBootId ?? null, (v) => bootIdOf(v, 'seenBootId')),
      reason: nullable(o.reason ?? null, (v) => text(v, 'reason')),
      health,
    };
  });
}
