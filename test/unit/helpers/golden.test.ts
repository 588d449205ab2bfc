/** test/helpers/golden.ts: a missing golden fails, saying how to create it; only the update variable writes. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { golden } from '../../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'kf-golden-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const options = (env: NodeJS.ProcessEnv) => ({
  updateVar: 'UPDATE_GOLDEN',
  command: 'npx vitest run test/unit/plan/golden.test.ts',
  env,
});

describe('golden files', () => {
  it('a missing golden fails with the command that creates it, and nothing is written', () => {
    const path = join(dir, 'missing.txt');
    expect(() => golden(path, 'today', options({}))).toThrow(
      `golden file ${path} is missing: create it with \`UPDATE_GOLDEN=1 npx vitest run test/unit/plan/golden.test.ts\`, then review it`,
    );
    expect(() => golden(path, 'today', options({ UPDATE_GOLDEN: '0' }))).toThrow(/is missing/);
    expect(existsSync(path)).toBe(false);
  });

  it('with the update variable, it is written and read back', () => {
    const path = join(dir, 'new.txt');
    expect(golden(path, 'today', options({ UPDATE_GOLDEN: '1' }))).toBe('today');
    expect(readFileSync(path, 'utf8')).toBe('today');
  });

  it('an existing golden is what the test compares with, and is left alone', () => {
    const path = join(dir, 'kept.txt');
    writeFileSync(path, 'yesterday');
    expect(golden(path, 'today', options({}))).toBe('yesterday');
    expect(readFileSync(path, 'utf8')).toBe('yesterday');
  });
});
