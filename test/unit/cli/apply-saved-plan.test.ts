/**
 * `apply PLAN` on the command line, what it refuses before connecting to anything: a --host or
 * --inventory that names other hosts than the plan, a plan of the old format, a plan given to
 * rollback. (Where apply connects to, taking its hosts from the plan: test/integration/cli-saved-plan.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { parseHostAddress } from '../../../src/host/address.js';
import { fakeIo } from '../../helpers/io.js';
import { plannedHost, savedOf, unreachableHost } from '../../helpers/saved-plans.js';

let dir: string;
const KF = `apiVersion: kernelfile/v1
name: saved-test
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;

const at = (port: number) => ({ address: parseHostAddress(`ssh://root@127.0.0.1:${port}`) });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-saved-'));
  writeFileSync(join(dir, 'linux-6.1.192.tar.xz'), '');
  writeFileSync(join(dir, 'kernelfile.yaml'), KF);
  const one = savedOf([plannedHost('web-1', 'fresh-grub', at(1))], {});
  writeFileSync(join(dir, 'one.json'), JSON.stringify(one));
  const fleet = savedOf([
    plannedHost('web-1', 'fresh-grub', at(1)),
    plannedHost('web-2', 'fresh-grub', at(2)),
    unreachableHost('db-1'),
  ]);
  writeFileSync(join(dir, 'fleet.json'), JSON.stringify(fleet));
  writeFileSync(
    join(dir, 'inv.yml'),
    'web:\n  hosts:\n    web-1:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n',
  );
  // A plan of format 1: the `plan --json` document of one host.
  writeFileSync(
    join(dir, 'old.json'),
    JSON.stringify({ formatVersion: 1, kind: 'kernelfile-plan', kernelfile: {}, hosts: [] }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const io = fakeIo(dir);
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('apply PLAN refuses, before connecting, what does not fit the plan', () => {
  it('one host: another --host is refused, naming both', async () => {
    const other = await cli('apply', 'one.json', '--host', 'ssh://root@127.0.0.1:2', '--yes');
    expect(other.code).toBe(1);
    expect(other.err).toContain(
      'kernelfile: --host ssh://root@127.0.0.1:2 differs from the plan one.json, made for ssh://root@127.0.0.1:1. Nothing was changed',
    );
    expect(other.err).toContain('hint: apply the plan without host options');
  });

  it('a fleet plan with --host, or with an inventory that selects other hosts: refused, naming them', async () => {
    const host = await cli('apply', 'fleet.json', '--host', 'ssh://root@127.0.0.1:1', '--yes');
    expect(host.code).toBe(1);
    expect(host.err).toContain(
      'kernelfile: --host ssh://root@127.0.0.1:1: the plan fleet.json is for 3 hosts of inventory.yml (web-1, web-2, db-1). Nothing was changed',
    );
    const inv = await cli('apply', 'fleet.json', '--inventory', 'inv.yml', '--yes');
    expect(inv.code).toBe(1);
    expect(inv.err).toContain(
      'kernelfile: --inventory inv.yml differs from the plan fleet.json: web-2, db-1 are in the plan but not selected; web-1: the plan reaches it as ssh://root@127.0.0.1:1, the inventory as ssh://127.0.0.1:1. Nothing was changed',
    );
  });

  it('a plan of format 1 is refused, saying to make it again', async () => {
    const r = await cli('apply', 'old.json', '--yes');
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'kernelfile: old.json is not a usable plan: plan format 1 (a plan saved by an older kernelfile, or the output of `plan --json`) does not record how to reach its hosts',
    );
    expect(r.err).toContain('hint: make a new one with `kernelfile plan … --out FILE`');
  });

  it('rollback takes a kernelfile, not a plan', async () => {
    const r = await cli('rollback', 'one.json', '--yes');
    expect(r.code).toBe(1);
    expect(r.err).toContain('kernelfile: one.json is a saved plan: rollback takes a kernelfile');
  });
});
