/**
 * Records what Ansible makes of the inventory fixtures, for the unit tests that compare kernelfile's
 * reading with it (test/unit/fleet/inventory*.test.ts, python-literal.test.ts); the integration test
 * test/integration/fleet-inventory-ansible.test.ts runs Ansible again on each and compares live.
 *
 *   node --import tsx scripts/record-ansible.ts            # every fixture without a recording, and the Python literals
 *   node --import tsx scripts/record-ansible.ts FIXTURE…    # these again (an inventory file or a fixture directory)
 *
 * - test/fixtures/inventory/NAME.{yml,ini} → NAME.ansible.json: `ansible-inventory -i FILE --list`.
 * - test/fixtures/inventory-dirs/NAME/ (one inventory file beside group_vars/, host_vars/) →
 *   NAME/ansible.json.
 * - test/fixtures/inventory/python-literals.json: each `text` as Ansible's INI plugin reads a value.
 *
 * Needs ansible-core (`ansible-inventory`, and python3 with the ansible package).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ansibleInventoryList, pythonLiterals } from '../test/helpers/ansible-reference.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/inventory/', import.meta.url));
const DIRS = fileURLToPath(new URL('../test/fixtures/inventory-dirs/', import.meta.url));
const LITERALS = join(FIXTURES, 'python-literals.json');

/** The inventory file of a fixture directory: its one top-level file that is not the recording. */
export function dirInventory(dir: string): string {
  const files = readdirSync(dir).filter((f) => f !== 'ansible.json' && statSync(join(dir, f)).isFile());
  if (files.length !== 1) throw new Error(`${dir}: expected one inventory file, found ${files.join(', ')}`);
  return join(dir, files[0] as string);
}

function recordingOf(fixture: string): { inventory: string; out: string } {
  if (statSync(fixture).isDirectory())
    return { inventory: dirInventory(fixture), out: join(fixture, 'ansible.json') };
  return { inventory: fixture, out: fixture.replace(/\.(yml|ini)$/, '.ansible.json') };
}

function record(fixture: string): void {
  const { inventory, out } = recordingOf(fixture);
  writeFileSync(out, `${JSON.stringify(ansibleInventoryList(inventory), null, 4)}\n`);
  console.log(`recorded ${out}`);
}

const args = process.argv.slice(2);
if (args.length) for (const a of args) record(a);
else {
  const all = [
    ...readdirSync(FIXTURES)
      .filter((f) => /\.(yml|ini)$/.test(f))
      .map((f) => join(FIXTURES, f)),
    ...(existsSync(DIRS) ? readdirSync(DIRS).map((d) => join(DIRS, d)) : []),
  ];
  for (const f of all) if (!existsSync(recordingOf(f).out)) record(f);
  const cases = JSON.parse(readFileSync(LITERALS, 'utf8')) as Array<{ text: string }>;
  const recorded = pythonLiterals(cases.map((c) => c.text));
  writeFileSync(LITERALS, `${JSON.stringify(recorded, null, 1)}\n`);
  console.log(`recorded ${basename(LITERALS)} (${recorded.length} values)`);
}
