/**
 * The Kconfig difference a plan shows: the new kernel's effective config against the config of
 * this kernelfile's build installed on the host (its receipt: "what changed since the last
 * apply"), or, without one, against the running kernel's. Both sides use .config values (`n` for
 * "is not set"); an absent symbol counts as not set. Linear in the number of options (real configs
 * have about 9,000 on each side), sorted by symbol. Pure.
 */
import type { HostFacts, ReceiptRecord } from '../facts/types.js';
import { compareVersions } from '../facts/version.js';
import { configPath } from '../resources/layout.js';
import type { ConfigDiff } from './types.js';

const bySymbol = (a: { symbol: string }, b: { symbol: string }) =>
  a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
const isSet = (v: string | undefined): v is string => v !== undefined && v !== 'n';

/** What the new configuration is compared with. */
export interface ConfigBase {
  kind: 'installed' | 'running';
  /** Where its config was read, as the plan shows it; null: no config to compare with. */
  from: string | null;
  /** The release whose config it is (null: unknown). */
  release: string | null;
  /** The installed build's id (its receipt's); null for the running kernel. */
  buildId: string | null;
  options: Record<string, string>;
  /** Why the installed build's config was not used although the kernelfile has one installed. */
  fallback: string | null;
}

/** By install time, then by version, newest first. */
function newestFirst(a: ReceiptRecord, b: ReceiptRecord): number {
  const at = (x: ReceiptRecord) => x.data.installedAt;
  if (at(a) !== at(b)) return at(a) < at(b) ? 1 : -1;
  return (
    compareVersions(b.release, a.release) || (a.release < b.release ? 1 : a.release > b.release ? -1 : 0)
  );
}

/**
 * The installed build of the kernelfile `name` to compare with: the receipt of `release` itself
 * when it is installed (a converged host shows no difference), else its newest receipt.
 */
export function installedReceipt(name: string, release: string, f: HostFacts): ReceiptRecord | null {
  const ours = f.receipts.receipts.filter((r) => r.data.name === name);
  return ours.find((r) => r.release === release) ?? [...ours].sort(newestFirst)[0] ?? null;
}

/** The config the plan compares the new one with (see the header). */
export function configBase(d: { name: string; release: string }, f: HostFacts): ConfigBase {
  const running = (fallback: string | null): ConfigBase => ({
    kind: 'running',
    from: f.config.source,
    // An image runs no kernel: its config is that of its newest receipt (facts/config.ts), named by `from`.
    release: f.config.source === null ? null : f.system.running,
    buildId: null,
    options: f.config.options,
    fallback,
  });
  const receipt = installedReceipt(d.name, d.release, f);
  if (!receipt) return running(null);
  const path = configPath(receipt.release);
  const read = f.config.installed?.find((c) => c.release === receipt.release);
  // An adopted kernel (`kernelfile import --adopt`) is the host's own, recorded as this kernelfile's.
  const what = receipt.data.adopted ? 'the adopted kernel' : 'the installed build';
  if (receipt.drift?.includes(path))
    return running(
      `${path} of ${what} has changed since kernelfile ${receipt.data.adopted ? 'adopted' : 'installed'} it`,
    );
  if (!f.config.installed) return running(null); // facts gathered before installed configs were
  if (!read) return running(`${path} of ${what} was not read (only the configs of the newest receipts are)`);
  if (!read.options) return running(`${path} of ${what}: ${read.error ?? 'not read'}`);
  const id = receipt.data.buildId;
  return {
    kind: 'installed',
    from:
      id === null
        ? `${path} (adopted by kernelfile import, not built by kernelfile)`
        : `${path} (installed by kernelfile, build ${id.slice(0, 12)}…)`,
    release: receipt.release,
    buildId: id,
    options: read.options,
    fallback: null,
  };
}

export function configDiff(
  base: ConfigBase,
  effective: Record<string, string>,
  requested: readonly string[],
): ConfigDiff {
  const diff: ConfigDiff = {
    from: base.from,
    base: base.from === null ? null : base.kind,
    release: base.release,
    buildId: base.buildId,
    fallback: base.fallback,
    added: [],
    removed: [],
    changed: [],
  };
  if (!base.from) return diff;
  const asked = new Set(requested);
  const before = base.options;
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
