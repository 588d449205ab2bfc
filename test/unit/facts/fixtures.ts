/**
 * Fact fixtures: test/fixtures/facts/<family>/<case>/output.txt holds exactly what the facts script
 * printed for one family (nonce FIXTURE_NONCE), expected.json what parse must return.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Sections, splitSections } from '../../../src/facts/protocol.js';
import { golden } from '../../helpers/golden.js';

export const FIXTURE_NONCE = 'kfFIXTURE';
export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/facts/', import.meta.url));

export function fixtureCases(family: string): string[] {
  const dir = join(FIXTURE_DIR, family);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'output.txt')))
    .map((d) => d.name)
    .sort();
}

/** The printed text of a case. */
export function fixtureOutput(family: string, name: string): string {
  return readFileSync(join(FIXTURE_DIR, family, name, 'output.txt'), 'utf8');
}

/** One family's sections of a case; every header in the file must belong to that family. */
export function fixtureSections(family: string, name: string): Sections {
  const all = splitSections(fixtureOutput(family, name), FIXTURE_NONCE);
  const others = Object.keys(all).filter((f) => f !== family);
  if (others.length) throw new Error(`${family}/${name}/output.txt has sections of ${others.join(', ')}`);
  return all[family] ?? {};
}

export function readExpected(family: string, name: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, family, name, 'expected.json'), 'utf8'));
}

/** expected.json of a case; with UPDATE_FACT_FIXTURES=1 it is (re)written from `actual` first; missing, an error. */
export function fixtureExpected(family: string, name: string, actual: unknown): unknown {
  const file = join(FIXTURE_DIR, family, name, 'expected.json');
  return JSON.parse(
    golden(file, `${JSON.stringify(actual, null, 2)}\n`, {
      updateVar: 'UPDATE_FACT_FIXTURES',
      command: 'npx vitest run test/unit/facts/fixtures.test.ts',
    }),
  );
}
