/**
 * The values a kernelfile asks for, in merge order (fragments in order, then inline `set`), each with
 * where it was asked for and what to do if Kconfig drops it. Later requests for a symbol override
 * earlier ones, as merge_config.sh does; a symbol set to different values is worth a warning.
 */
import { type ConfigEntry, formatSetValue } from './config.js';
import { sameValue } from './values.js';

export type OnDropped = 'error' | 'warn';

export interface Origin {
  file: string;
  line: number;
  column?: number;
}

export interface Requested {
  symbol: string; // CONFIG_X
  /** As in a .config: y, m, n, 123, 0x1f, or a "quoted string". */
  value: string;
  origin: Origin;
  onDropped: OnDropped;
}

export interface Redefinition {
  symbol: string;
  earlier: { value: string; origin: Origin };
  later: { value: string; origin: Origin };
}

/** Requests from one parsed fragment (parseConfig(text).entries). */
export function requestedFromConfig(
  file: string,
  entries: readonly ConfigEntry[],
  onDropped: OnDropped = 'error',
): Requested[] {
  return entries.map((e) => ({
    symbol: e.symbol,
    value: e.value,
    origin: { file, line: e.line, column: e.column },
    onDropped,
  }));
}

export type SetValue = string | number | { value: string | number; onDropped?: OnDropped };

/** Requests from a kernelfile's inline `config.set` (values as YAML gives them). */
export function requestedFromSet(
  set: Readonly<Record<string, SetValue>>,
  originOf: (symbol: string) => Origin,
  onDropped: OnDropped = 'error',
): Requested[] {
  return Object.entries(set).map(([symbol, v]) => {
    const wrapped = typeof v === 'object' ? v : undefined;
    return {
      symbol,
      value: formatSetValue(wrapped ? wrapped.value : (v as string | number)),
      origin: originOf(symbol),
      onDropped: wrapped?.onDropped ?? onDropped,
    };
  });
}

/**
 * Every request, in merge order: the fragments (in order, each parsed with parseConfig; a
 * fragment's own `onDropped` overrides the default), then the inline `config.set` values.
 * @param setOrigin where each inline key is written in the kernelfile
 * @param onDropped `config.onDropped`
 */
export function requestedFromFragments(
  fragments: readonly { file: string; entries: readonly ConfigEntry[]; onDropped?: OnDropped }[],
  set: Readonly<Record<string, SetValue>> = {},
  setOrigin: (symbol: string) => Origin = () => ({ file: 'kernelfile.yaml', line: 1 }),
  onDropped: OnDropped = 'error',
): Requested[] {
  return [
    ...fragments.flatMap((f) => requestedFromConfig(f.file, f.entries, f.onDropped ?? onDropped)),
    ...requestedFromSet(set, setOrigin, onDropped),
  ];
}

/** The request that wins for each symbol (the last), with the ones it overrides; in order of the winners. */
export function lastRequests(requested: readonly Requested[]): { last: Requested; earlier: Requested[] }[] {
  const by = new Map<string, { last: Requested; earlier: Requested[]; index: number }>();
  requested.forEach((r, index) => {
    const prev = by.get(r.symbol);
    if (prev) prev.earlier.push(prev.last);
    by.set(r.symbol, { last: r, earlier: prev?.earlier ?? [], index });
  });
  return [...by.values()].sort((a, b) => a.index - b.index).map(({ last, earlier }) => ({ last, earlier }));
}

/** A symbol set to different values in two places: one warning for each change of value. */
export function findRedefinitions(requested: readonly Requested[]): Redefinition[] {
  const seen = new Map<string, Requested>();
  const out: Redefinition[] = [];
  for (const r of requested) {
    const prev = seen.get(r.symbol);
    if (prev && !sameValue(r.value, prev.value))
      out.push({
        symbol: r.symbol,
        earlier: { value: prev.value, origin: prev.origin },
        later: { value: r.value, origin: r.origin },
      });
    seen.set(r.symbol, r);
  }
  return out;
}

/** `frag.config:3` for messages. */
export function formatOrigin(o: Origin): string {
  return `${o.file}:${o.line}`;
}
