/**
 * Every fixture case of every fact family: parse the sections as the host printed them and compare
 * with expected.json (UPDATE_FACT_FIXTURES=1 rewrites expected.json; review the diff).
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../../src/facts/families.js';
import { fixtureCases, fixtureExpected, fixtureSections } from './fixtures.js';

describe.each(Object.values(FAMILIES).map((f) => [f.name, f] as const))('fact family %s', (name, family) => {
  const cases = fixtureCases(name);

  it('has fixture cases, among them this machine', () => {
    expect(cases.length).toBeGreaterThanOrEqual(2);
    expect(cases).toContain('debian12-container');
  });

  it.each(cases)('%s', (c) => {
    const actual = (family.parse as (s: Record<string, string>) => unknown)(fixtureSections(name, c));
    expect(JSON.parse(JSON.stringify(actual))).toEqual(actual); // plain data: survives JSON unchanged
    expect(actual).toEqual(fixtureExpected(name, c, actual));
  });
});
