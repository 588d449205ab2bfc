/**
 * The Kconfig difference between a host's running kernel and the new kernel's effective config.
 * Both sides use .config values (`n` for "is not set"); an absent symbol counts as not set.
 */
import type { RunningConfig } from '../facts/types.js';
import type { ConfigDiff } from './types.js';

export function configDiff(
  running: RunningConfig,
  effective: Record<string, string>,
  requested: readonly string[],
): ConfigDiff {
  const diff: ConfigDiff = { from: running.source, added: [], removed: [], changed: [] };
  if (!running.source) return diff;
  const asked = new Set(requested);
  const set = (v: string | undefined) => v !== undefined && v !== 'n';
  const symbols = [...new Set([...Object.keys(running.options), ...Object.keys(effective)])].sort();
  for (const symbol of symbols) {
    const before = running.options[symbol];
    const after = effective[symbol];
    const requestedHere = asked.has(symbol);
    if (!set(before) && set(after))
      diff.added.push({ symbol, value: after as string, requested: requestedHere });
    else if (set(before) && !set(after))
      diff.removed.push({ symbol, value: before as string, requested: requestedHere });
    else if (set(before) && set(after) && before !== after)
      diff.changed.push({
        symbol,
        before: before as string,
        after: after as string,
        requested: requestedHere,
      });
  }
  return diff;
}
