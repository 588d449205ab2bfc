/**
 * The Kconfig difference between a host's running kernel and the new kernel's effective config.
 * Both sides use .config values (`n` for "is not set"); an absent symbol counts as not set.
 * Linear in the number of options (real configs have about 9,000 on each side), sorted by symbol.
 */
import type { RunningConfig } from '../facts/types.js';
import type { ConfigDiff } from './types.js';

const bySymbol = (a: { symbol: string }, b: { symbol: string }) =>
  a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
const isSet = (v: string | undefined): v is string => v !== undefined && v !== 'n';

export function configDiff(
  running: RunningConfig,
  effective: Record<string, string>,
  requested: readonly string[],
): ConfigDiff {
  const diff: ConfigDiff = { from: running.source, added: [], removed: [], changed: [] };
  if (!running.source) return diff;
  const asked = new Set(requested);
  const before = running.options;
  for (const symbol in effective) {
    const after = effective[symbol];
    const was = before[symbol];
    if (after === was) continue;
    const requestedHere = asked.has(symbol);
    if (isSet(after) && !isSet(was)) diff.added.push({ symbol, value: after, requested: requestedHere });
    else if (!isSet(after) && isSet(was)) diff.removed.push({ symbol, value: was, requested: requestedHere });
    else if (isSet(after) && isSet(was))
      diff.changed.push({ symbol, before: was, after, requested: requestedHere });
  }
  for (const symbol in before) {
    if (symbol in effective) continue;
    const was = before[symbol];
    if (isSet(was)) diff.removed.push({ symbol, value: was, requested: asked.has(symbol) });
  }
  diff.added.sort(bySymbol);
  diff.removed.sort(bySymbol);
  diff.changed.sort(bySymbol);
  return diff;
}
