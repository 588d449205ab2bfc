/** A parsed YAML document with its positions, and lookups from a JSON path to file:line:column. */
import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';
import { type Diagnostic, jsonPath as jsonPathOf, type PathSegment } from './diagnostic.js';

export interface SourceDoc {
  /** The file as the user named it. */
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface Span {
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

export function spanOf(src: Pick<SourceDoc, 'lines'>, range: readonly number[] | null | undefined): Span {
  const start = range?.[0] ?? 0;
  const p = src.lines.linePos(start);
  const span: Span = { line: p.line, column: p.col };
  const end = range?.[1];
  if (end !== undefined && end > start) {
    const e = src.lines.linePos(end);
    span.endLine = e.line;
    span.endColumn = e.col;
  }
  return span;
}

/** The pair in `node` (a map) whose key is `key`. */
export function pairOf(node: unknown, key: PathSegment): Pair<Node, Node> | undefined {
  if (!isMap(node)) return undefined;
  return (node.items as Pair<Node, Node>[]).find(
    (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key),
  );
}

/** The AST node at `path`, or undefined. */
export function nodeAt(src: SourceDoc, path: readonly PathSegment[]): Node | undefined {
  let node: unknown = src.doc.contents;
  for (const seg of path) {
    if (isMap(node)) node = pairOf(node, seg)?.value ?? undefined;
    else if (isSeq(node) && typeof seg === 'number') node = node.items[seg];
    else return undefined;
  }
  return (node ?? undefined) as Node | undefined;
}

/**
 * Where the value at `path` is. With `key: true`, where its key is (for "unknown key" and the like).
 * A path that does not exist resolves to the deepest part of it that does, so a "missing key"
 * points at the map that should hold it.
 */
export function locate(src: SourceDoc, path: readonly PathSegment[], opts: { key?: boolean } = {}): Span {
  let node: unknown = src.doc.contents;
  let best: readonly number[] | null | undefined = (node as Node | null)?.range;
  let lastKey: Node | undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as PathSegment;
    if (isMap(node)) {
      const pair = pairOf(node, seg);
      if (!pair) break;
      lastKey = pair.key;
      if (i === path.length - 1 && opts.key) return spanOf(src, pair.key?.range);
      node = pair.value;
      best = (pair.value as Node | null)?.range ?? pair.key?.range;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
      lastKey = undefined;
      best = (node as Node).range;
    } else break;
  }
  // A collection's range starts at its first item; a key line is easier to read for a whole map.
  if ((isMap(node) || isSeq(node)) && lastKey && path.length > 0) return spanOf(src, lastKey.range);
  return spanOf(src, best);
}

/** A diagnostic at the value (or key) at `path` in this document. */
export function at(
  src: SourceDoc,
  path: readonly PathSegment[],
  d: Omit<Diagnostic, 'file' | 'line' | 'column' | 'path'>,
  opts: { key?: boolean } = {},
): Diagnostic {
  const span = locate(src, path, opts);
  return { ...d, file: src.file, ...span, path: jsonPathOf(path) };
}
