/**
 * Property test: random strings survive quoteArgv → /bin/sh → argv exactly (the pure cases are in
 * test/unit/host/quote.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { quoteArgv, withEnv } from '../../src/host/quote.js';

// Deterministic pseudo-random generator, so a failure can be reproduced from its seed.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ALPHABET = [
  ...' \t\n\'"`$\\!*?[]{}()<>|&;#~=%^,.:/-_+@',
  'a',
  'Z',
  '0',
  'é',
  'ß',
  '日本',
  '🐧',
  '\u00a0',
  '\r',
  '\x01',
  '\x7f',
];

function randomString(next: () => number): string {
  const len = Math.floor(next() * 24);
  let s = '';
  for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

/** What sh makes of a command line: print each argument NUL-terminated. */
function throughSh(line: string): string[] {
  const r = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${line}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('quoteArgv', () => {
  it('round-trips 2,000 random argument lists through /bin/sh exactly', () => {
    const next = rng(20261122);
    const lists: string[][] = [];
    for (let i = 0; i < 2000; i++)
      lists.push(Array.from({ length: 1 + Math.floor(next() * 4) }, () => randomString(next)));
    // One sh per batch: join the lists with a separator argument that cannot occur in them.
    const SEP = '--kf-sep--';
    for (let i = 0; i < lists.length; i += 200) {
      const batch = lists.slice(i, i + 200);
      const got = throughSh(batch.map((l) => `${quoteArgv(l)} ${SEP}`).join(' '));
      const expected = batch.flatMap((l) => [...l, SEP]);
      expect(got).toEqual(expected);
    }
  });

  it('passes environment through env(1) that sh reads back', () => {
    expect(throughSh(quoteArgv(withEnv(['sh', '-c', 'printf %s "$X"'], { X: "a 'b' $c" })))).toEqual([
      'env',
      "X=a 'b' $c",
      'sh',
      '-c',
      'printf %s "$X"',
    ]);
  });
});
