/**
 * Planner golden cases: for every test/fixtures/plan/<case>, the kernelfile (validated for real),
 * build.json and facts.json go through desiredFrom and plan, and the text (plain, summary Kconfig
 * diff) and JSON must be plan.txt and plan.json. `UPDATE_GOLDEN=1` rewrites those two (a missing
 * one is a failure otherwise); review the diff, it is the point. `UPDATE_PLAN_INPUTS=1` first rewrites facts.json and build.json from
 * golden-cases.ts (the fact fixtures put together and edited per case).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { factsDigest } from '../../../src/facts/gather.js';
import type { HostFacts } from '../../../src/facts/types.js';
import { hasChanges } from '../../../src/plan/types.js';
import { type GoldenOptions, golden as goldenFile } from '../../helpers/golden.js';
import {
  type BuildJson,
  baseFacts,
  caseDir,
  planCase,
  planCases,
  readJson,
  rebuildDebianMenu,
  releaseOf,
  writeJson,
} from '../../helpers/plan-fixtures.js';
import { CASES } from './golden-cases.js';

// `1`: every case; or a comma-separated list of cases.
const inputs = process.env.UPDATE_PLAN_INPUTS;
if (inputs)
  for (const [name, make] of Object.entries(CASES)) {
    if (inputs !== '1' && !inputs.split(',').includes(name)) continue;
    const { facts, build } = make();
    writeJson(name, 'facts.json', facts);
    writeJson(name, 'build.json', build);
  }

const PLAN_GOLDENS: GoldenOptions = {
  updateVar: 'UPDATE_GOLDEN',
  command: 'npx vitest run test/unit/plan/golden.test.ts',
};
const cases = planCases();

const golden = (name: string, file: string, actual: string) =>
  goldenFile(join(caseDir(name), file), actual, PLAN_GOLDENS);

describe('planner golden cases', () => {
  it('every case has its inputs, and every defined case a directory', () => {
    expect(cases).toEqual(Object.keys(CASES).sort());
    for (const c of cases)
      for (const f of ['facts.json', 'build.json'])
        expect(existsSync(join(caseDir(c), f)), `${c}/${f}`).toBe(true);
  });

  it('the Debian menu the cases rebuild after an install is the fixture’s grub.cfg, given its kernels', () => {
    const f = baseFacts('debian12-grub');
    const fixture = structuredClone(f.boot.entries);
    rebuildDebianMenu(f);
    expect(f.boot.entries).toEqual(fixture);
  });

  describe.each(cases)('%s', (name) => {
    it('kernelfile.yaml is valid without warnings, and build.json is its build', () => {
      const c = planCase(name);
      expect(c.warnings).toEqual([]);
      expect(c.build.release).toBe(
        releaseOf(c.spec.kernel.version, c.spec.kernel.localversion ?? '', c.build.buildId),
      );
      expect(c.build.buildId).toMatch(/^[0-9a-f]{64}$/);
      expect(c.build.moduleChecks.map((m) => `${m.name}/${m.version}`)).toEqual(
        (c.spec.modules ?? []).map((m) => `${m.name}/${m.version}`),
      );
    });

    it('facts.json is whole, with its digest', () => {
      const { digest, ...rest } = readJson<HostFacts>(name, 'facts.json');
      expect(factsDigest(rest)).toBe(digest);
      expect(readJson<BuildJson>(name, 'build.json').arch).toBe(rest.system.arch);
    });

    it('plan.txt and plan.json', () => {
      const c = planCase(name);
      expect(c.text).toBe(golden(name, 'plan.txt', c.text));
      expect(c.json).toBe(golden(name, 'plan.json', c.json));
      // What the text promises, the data says: no problems ⇔ a Plan: line or "No changes."
      expect(c.text.includes('Plan: not possible')).toBe(c.plan.problems.length > 0);
      if (!c.plan.problems.length) expect(c.text.includes('No changes.')).toBe(!hasChanges(c.plan));
    });
  });
});
