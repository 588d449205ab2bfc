/**
 * The inventory fixtures (test/fixtures/inventory/*.yml) cross-checked with the real
 * `ansible-inventory --list` on this machine, when it is on the PATH (test/unit/fleet/inventory.test.ts
 * compares with the recorded output). Split from the unit test: it starts ansible-inventory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Inventory, parseInventory } from '../../src/fleet/inventory.js';
import { ansibleList, canonical } from '../unit/fleet/ansible-list.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/inventory/', import.meta.url));
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yml'))
  .sort();

function fixture(name: string): Inventory {
  const r = parseInventory(readFileSync(join(FIXTURES, name), 'utf8'), `inventory/${name}`);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.value;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

describe.skipIf(!onPath('ansible-inventory'))('cross-check with ansible-inventory on this machine', () => {
  it.each(fixtures)('%s', (f) => {
    const out = execFileSync('ansible-inventory', ['-i', join(FIXTURES, f), '--list'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(canonical(ansibleList(fixture(f)))).toEqual(canonical(JSON.parse(out)));
  });
});
