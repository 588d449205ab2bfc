/**
 * Did-you-mean: the candidate close enough to a word to be a typo of it, not just any word (at
 * most a third of its letters differ). Pure; used for kernelfile keys and values, host address
 * schemes and `--limit` patterns.
 */
import { closest, distance } from 'fastest-levenshtein';

export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = word.toLowerCase();
  const exactCase = candidates.find((c) => c.toLowerCase() === lower);
  if (exactCase) return exactCase;
  const best = closest(word, candidates as string[]);
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  return distance(word, best) <= limit ? best : undefined;
}
