/**
 * Bytes → YAML document with positions → plain data. Pure: the caller reads the file.
 * Refuses what no kernelfile can be, fast and with a position: too large, not UTF-8,
 * YAML errors, duplicate keys, alias bombs, several documents, an empty file.
 */
import {
  isAlias,
  isPair,
  isScalar,
  LineCounter,
  parseAllDocuments,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import type { Diagnostic, Result } from './diagnostic.js';
import { type SourceDoc, spanOf } from './source.js';
import { firstInvalidUtf8 } from './utf8.js';

/** A kernelfile is a page or two of YAML; anything this large is a mistake (or an attack). */
export const MAX_BYTES = 1024 * 1024;
/** Alias expansions allowed while converting to data (the yaml library's own guard). */
export const MAX_ALIAS_COUNT = 100;

export interface Loaded {
  source: SourceDoc;
  data: unknown;
}

const HINTS: Partial<Record<YAMLError['code'], string>> = {
  TAB_AS_INDENT: 'YAML indents with spaces only: replace the tab with spaces',
  DUPLICATE_KEY: 'each key may appear once in a mapping: remove or merge one of them',
  BAD_INDENT: 'check that the lines of this block are indented by the same number of spaces',
  MULTIPLE_DOCS: 'a kernelfile is one YAML document: remove the `---` separator and what follows',
  BLOCK_AS_IMPLICIT_KEY: 'a key must fit on one line; is a `:` missing or misplaced?',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  UNEXPECTED_TOKEN:
    'check the syntax near here: a missing `:` or space after `-`, or an unquoted special character',
  BAD_ALIAS: 'an alias (`*name`) must refer to an anchor (`&name`) defined earlier in the file',
};

function fileLevel(file: string, code: string, message: string, hint?: string): Diagnostic {
  return { severity: 'error', code, message, file, line: 1, column: 1, ...(hint ? { hint } : {}) };
}

function sizeText(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

/**
 * @param totalSize the file's size, when the caller read only its first MAX_BYTES + 1 bytes
 */
export function load(bytes: Uint8Array, file: string, totalSize = bytes.length): Result<Loaded> {
  const fail = (d: Diagnostic): Result<Loaded> => ({ ok: false, errors: [d], warnings: [] });
  if (totalSize > MAX_BYTES) {
    return fail(
      fileLevel(
        file,
        'file-too-large',
        `the file is ${sizeText(totalSize)}; a kernelfile may be at most ${sizeText(MAX_BYTES)}`,
        'is this the right file? Keep large config in fragment files and list them under config.fragments',
      ),
    );
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return fail(
      fileLevel(
        file,
        'not-utf8',
        'the file is UTF-16, not UTF-8',
        'save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)',
      ),
    );
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    const before = new TextDecoder().decode(bytes.subarray(0, bad));
    const lines = before.split('\n');
    const line = lines.length;
    const column = (lines[lines.length - 1] as string).length + 1;
    return fail({
      severity: 'error',
      code: 'not-utf8',
      message: `the file is not valid UTF-8: byte 0x${(bytes[bad] as number).toString(16).padStart(2, '0')} at offset ${bad}`,
      file,
      line,
      column,
      hint: 'save the file as UTF-8 (e.g. `iconv -f LATIN1 -t UTF-8`)',
    });
  }
  let text = new TextDecoder().decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const lines = new LineCounter();
    const src = { lines };
    lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    return fail({
      severity: 'error',
      code: 'binary-file',
      message: 'the file contains a NUL byte; a kernelfile is a YAML text file',
      file,
      ...spanOf(src, [nul]),
      hint: 'is this the right file?',
    });
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    version: '1.2',
  });
  const source: SourceDoc = { file, text, doc, lines };
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  for (const e of doc.errors) errors.push(yamlDiagnostic(source, e, 'error'));
  for (const w of doc.warnings) warnings.push(yamlDiagnostic(source, w, 'warning'));
  if (errors.length > 0) return { ok: false, errors, warnings };

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return fail(
      fileLevel(
        file,
        'empty-file',
        'the file is empty; a kernelfile needs at least `apiVersion`, `name` and `kernel`',
        'start from kernelfile.example.yaml',
      ),
    );
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const exhausted = /excessive alias/i.test(message);
    let alias: { range: readonly number[] | undefined; name: string } | undefined;
    const anchors = new Set<string>();
    visit(doc, {
      Node(_, node) {
        if (node.anchor) anchors.add(node.anchor);
        if (isAlias(node) && (exhausted || !anchors.has(node.source))) {
          alias = { range: node.range ?? undefined, name: node.source };
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (exhausted)
      return fail({
        severity: 'error',
        code: 'alias-bomb',
        message: `aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT} expansions); refusing to expand them`,
        file,
        ...spanOf(source, alias?.range ?? doc.contents?.range),
        hint: 'use fewer aliases (`*name`); a kernelfile needs few or none',
      });
    return fail({
      severity: 'error',
      code: alias ? 'yaml-bad-alias' : 'yaml-error',
      message: alias
        ? `alias *${alias.name} has no anchor &${alias.name} before it`
        : `the YAML cannot be read: ${message}`,
      file,
      ...spanOf(source, alias?.range ?? doc.contents?.range),
      ...(alias ? { hint: HINTS.BAD_ALIAS } : {}),
    });
  }
  keepHexAsWritten(source, data);
  return { ok: true, value: { source, data }, warnings };
}

function yamlDiagnostic(src: SourceDoc, e: YAMLError, severity: Diagnostic['severity']): Diagnostic {
  const hint = HINTS[e.code];
  let pos: readonly number[] = e.pos;
  // The parser notices an unclosed `[` or `{` at the end of the file; point at the last opening one.
  const content = src.text.trimEnd();
  if (e.pos[0] >= content.length) {
    const open = Math.max(content.lastIndexOf('['), content.lastIndexOf('{'));
    pos = [open >= 0 && /flow/i.test(e.message) ? open : Math.max(0, content.length - 1)];
  }
  let message = e.message.replace(/\s+at line \d+, column \d+.*$/s, '');
  if (e.code === 'MULTIPLE_DOCS') {
    const docs = parseAllDocuments(src.text);
    const n = Array.isArray(docs) ? docs.length : 2;
    message = `a kernelfile holds one YAML document; this file has ${n}`;
  }
  if (e.code === 'DUPLICATE_KEY') message = duplicateKeyMessage(src, e.pos[0]) ?? message;
  return {
    severity,
    code: `yaml-${e.code.toLowerCase().replace(/_/g, '-')}`,
    message,
    file: src.file,
    ...spanOf(src, pos),
    ...(hint ? { hint } : {}),
  };
}

/** "duplicate key `name` (first defined at line 3)": find the earlier pair with the same key. */
function duplicateKeyMessage(src: SourceDoc, offset: number): string | undefined {
  let result: string | undefined;
  visit(src.doc, {
    Map(_, map) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const k = String(pair.key.value);
        const start = pair.key.range?.[0] ?? -1;
        const first = seen.get(k);
        if (first !== undefined && start === offset) {
          result = `duplicate key \`${k}\` (first defined at line ${src.lines.linePos(first).line})`;
          return visit.BREAK;
        }
        if (first === undefined) seen.set(k, start);
      }
      return undefined;
    },
  });
  return result;
}

/**
 * YAML reads `0x1000000` as the number 16777216, but a Kconfig hex symbol needs it written in hex.
 * Under `config.set`, keep hex and octal integers as the text the user wrote.
 */
function keepHexAsWritten(src: SourceDoc, data: unknown): void {
  const set = (data as { config?: { set?: Record<string, unknown> } } | null)?.config?.set;
  if (!set || typeof set !== 'object') return;
  visit(src.doc, {
    Scalar(_, node, path) {
      if (typeof node.value !== 'number' || (node.format !== 'HEX' && node.format !== 'OCT')) return;
      const keys = path.flatMap((p) => (isPair(p) && isScalar(p.key) ? [p.key.value] : []));
      const sym = keys[2];
      if (keys[0] !== 'config' || keys[1] !== 'set' || typeof sym !== 'string' || !(sym in set)) return;
      const written = src.text.slice(node.range?.[0], node.range?.[1]).trim();
      const cur = set[sym];
      if (typeof cur === 'number') set[sym] = written;
      else if (cur && typeof cur === 'object' && 'value' in cur) (cur as { value: unknown }).value = written;
    },
  });
}
