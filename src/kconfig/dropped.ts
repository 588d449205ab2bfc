/**
 * Requested vs effective: merge_config.sh -m and olddefconfig keep quiet about values that did not
 * survive, so kernelfile compares every request (the last one per symbol) with the effective .config
 * and says why each lost value was dropped, as menuconfig's help would:
 *   CONFIG_EXT4_FS=y dropped (got n): depends on BLOCK [=n]
 * Pure: the caller loads the Kconfig database (kconfig-db.ts) and parses the .config. The database
 * may be given as a function: it is then called only when a requested value is not in the .config
 * exactly as written (the usual case, everything kept, never reads the tree's Kconfig files).
 */
import { envFromConfig } from './expr-eval.js';
import { bareName, definitions, similarNames, typeOf } from './kconfig-query.js';
import type { KconfigDb } from './kconfig-types.js';
import {
  type Case,
  choiceReason,
  type DroppedKind,
  dependsReason,
  hiddenReason,
  macroReason,
  noPromptReason,
  type Reason,
  rangeReason,
  selectedReason,
  wantsMore,
} from './reasons.js';
import { lastRequests, type OnDropped, type Origin, type Requested } from './requested.js';
import { sameValue, valueFitsType } from './values.js';

export type { DroppedKind } from './reasons.js';
export {
  findRedefinitions,
  lastRequests,
  type OnDropped,
  type Origin,
  type Redefinition,
  type Requested,
  requestedFromConfig,
  requestedFromFragments,
  requestedFromSet,
} from './requested.js';

export interface Dropped {
  symbol: string; // CONFIG_X
  requested: string;
  /** The effective value; `n` when the symbol is absent from the .config. */
  got: string;
  origin: Origin;
  onDropped: OnDropped;
  reason: string;
  kind: DroppedKind;
  /** Earlier requests for the same symbol that this one overrode. */
  overrides?: { value: string; origin: Origin }[];
  /** Where the symbol is defined, `fs/ext4/Kconfig:29`. */
  definedAt?: string[];
}

const ARTICLE: Record<string, string> = { int: 'an int', hex: 'a hex', string: 'a string' };

function invalidValue(c: Case): Reason | undefined {
  if (!c.type) return undefined;
  if (c.want === 'n' && c.type !== 'bool' && c.type !== 'tristate' && c.got !== 'n')
    return {
      kind: 'invalid-value',
      reason: `is ${ARTICLE[c.type]}: it cannot be unset (it has a value whenever its dependencies are met)`,
    };
  if (valueFitsType(c.want, c.type)) return undefined;
  const use: Record<string, string> = {
    bool: 'use y or n',
    tristate: 'use y, m or n',
    int: 'use a decimal number',
    hex: 'use a number such as 0x1f',
  };
  return { kind: 'invalid-value', reason: `is ${ARTICLE[c.type] ?? `a ${c.type}`}: ${use[c.type]}` };
}

function modulesReason(c: Case): Reason | undefined {
  if (c.type !== 'tristate' || c.want !== 'm') return undefined;
  const modules = c.effective.CONFIG_MODULES ?? 'n';
  return modules === 'y' ? undefined : { kind: 'modules', reason: `m needs CONFIG_MODULES=y [=${modules}]` };
}

/** The reason checks, in order: the first that applies explains the drop. */
function explain(c: Case): Reason {
  const tristate = c.type === 'bool' || c.type === 'tristate';
  const up = wantsMore(c);
  const promptless = !c.defs.some((d) => d.prompt);
  const checks = up
    ? promptless
      ? [invalidValue, modulesReason, noPromptReason, macroReason]
      : [invalidValue, modulesReason, dependsReason, choiceReason, hiddenReason, rangeReason, macroReason]
    : tristate
      ? [invalidValue, modulesReason, selectedReason, choiceReason, noPromptReason, hiddenReason, macroReason]
      : [invalidValue, noPromptReason, hiddenReason, rangeReason, macroReason];
  for (const check of checks) {
    const r = check(c);
    if (r) return r;
  }
  return {
    kind: 'unknown',
    reason: `Kconfig set it to ${c.got}; no unmet dependency, select or range explains it`,
  };
}

/**
 * Every requested value that did not survive into the effective .config, with the reason.
 * @param requested in merge order; the last request for a symbol wins
 * @param effective the .config's values (`CONFIG_X` → value as written; absent or "is not set" is n)
 */
export function findDropped(
  requested: readonly Requested[],
  effective: Readonly<Record<string, string>>,
  database: KconfigDb | (() => KconfigDb),
): Dropped[] {
  const winners = lastRequests(requested);
  // Kept exactly as written: no type is needed to tell (sameValue), nor the database.
  const differ = winners.filter((w) => w.last.value !== (effective[w.last.symbol] ?? 'n'));
  if (differ.length === 0) return [];
  const db = typeof database === 'function' ? database() : database;
  const env = envFromConfig(effective, (name) => typeOf(db, name));
  const requests = new Map(winners.map((w) => [w.last.symbol, w.last]));
  const out: Dropped[] = [];
  for (const { last, earlier } of differ) {
    const defs = definitions(db, last.symbol);
    const type = typeOf(db, last.symbol);
    const got = effective[last.symbol] ?? 'n';
    if (sameValue(last.value, got, type)) continue;
    const base = {
      symbol: last.symbol,
      requested: last.value,
      got,
      origin: last.origin,
      onDropped: last.onDropped,
      ...(earlier.length ? { overrides: earlier.map((e) => ({ value: e.value, origin: e.origin })) } : {}),
    };
    if (defs.length === 0) {
      const similar = similarNames(db, last.symbol).map((n) => `CONFIG_${n}`);
      const hint = similar.length ? `; did you mean ${similar.join(' or ')}?` : '';
      out.push({
        ...base,
        kind: 'undefined',
        reason: `not defined in this source (removed or renamed?)${hint}`,
      });
      continue;
    }
    const c: Case = {
      db,
      effective,
      env,
      requests,
      name: bareName(last.symbol),
      defs,
      type,
      want: last.value,
      got,
    };
    out.push({ ...base, ...explain(c), definedAt: defs.map((d) => `${d.file}:${d.line}`) });
  }
  return out;
}

/** One line: `CONFIG_EXT4_FS=y dropped (got n): depends on BLOCK [=n]`. */
export function describeDropped(d: Dropped): string {
  return `${d.symbol}=${d.requested} dropped (got ${d.got}): ${d.reason}`;
}
