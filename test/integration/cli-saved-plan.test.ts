/**
 * `apply PLAN` and `plan --inventory --out` on the command line, connecting: the hosts come from
 * the plan (one host or a fleet), never from `local`. The hosts are addresses nothing listens on
 * (127.0.0.1, ports 1 and 2): what the CLI tries to reach shows where it took the host from, and
 * nothing can change. (The whole review loop on real hosts: test/e2e/fleet-saved-plan.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseHostAddress } from '../../src/host/address.js';
import { fakeIo } from '../helpers/io.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { plannedHost, savedOf, unreachableHost } from '../helpers/saved-plans.js';

let dir: string;
const KF = `apiVersion: kernelfile/v1
name: saved-test
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;

const at = (port: number) => ({ address: parseHostAddress(`ssh://root@127.0.0.1:${port}`) });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-saved-int-'));
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
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const io = fakeIo(dir);
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('apply PLAN takes its hosts from the plan', () => {
  it('one host: the plan’s host is the one apply connects to (not this machine)', async () => {
    const r = await cli('apply', 'one.json', '--yes', '--ssh-config', 'none', '--connect-timeout', '2');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/127\.0\.0\.1:1\b/);
    expect(r.err).toMatch(/refused|unreachable|connect/i);
    expect(r.out).not.toMatch(/\blocal\b/);
  });

  it('one host: the same --host is accepted (and reached)', async () => {
    const same = await cli(
      'apply',
      'one.json',
      '--host',
      'ssh://root@127.0.0.1:1',
      '--yes',
      '--ssh-config',
      'none',
    );
    expect(same.code).toBe(1);
    expect(same.err).toMatch(/127\.0\.0\.1:1\b/);
    expect(same.err).not.toContain('differs from the plan');
  });

  it('a fleet: every host of the plan reached as it says; the one it could not plan is left alone', async () => {
    const r = await cli('apply', 'fleet.json', '--yes', '--ssh-config', 'none', '--connect-timeout', '2');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /^Saved plan fleet\.json: 3 hosts from inventory\.yml, each checked against a fresh plan$/m,
    );
    const table = r.out.slice(r.out.indexOf('Apply:'));
    expect(table).toMatch(/web-1 +unreachable +.*127\.0\.0\.1:1/);
    expect(table).toMatch(/web-2 +unreachable +.*127\.0\.0\.1:2/);
    expect(table).toMatch(
      /db-1 +failed +not in the plan: it could not be planned when the plan was made \(unreachable: cannot connect to ssh:\/\/root@db-1:22: no route to host\)/,
    );
    expect(r.out).toMatch(/^0 of 3 hosts converged; 3 not \(above\)\.$/m);
    expect(r.err).toContain(
      'db-1: hint: make a new plan: kernelfile plan --inventory inventory.yml --out fleet.json',
    );
  });
});

describe('apply PLAN batches its hosts as --inventory does', () => {
  it('--serial and --max-fail are taken without --inventory (the plan names the hosts)', async () => {
    const r = await cli(
      'apply',
      'fleet.json',
      '--yes',
      '--serial',
      '1',
      '--max-fail',
      '0%',
      '--ssh-config',
      'none',
      '--connect-timeout',
      '2',
    );
    expect(r.code).toBe(1);
    expect(r.err).not.toContain('give --inventory FILE too');
    expect(r.out).toMatch(/^0 of 3 hosts converged; 3 not \(above\)\.$/m);
    const bad = await cli('apply', 'fleet.json', '--yes', '--serial', 'half', '--ssh-config', 'none');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--serial takes a number of hosts (1, 5) or a percentage (25%), got `half`');
  });
});

describe('plan --inventory --out', () => {
  it('saves every selected host, those it could not plan with why; exit 1 as the plan', async () => {
    const r = await cli(
      'plan',
      '--inventory',
      'inv.yml',
      '--out',
      'x.json',
      'kernelfile.yaml',
      '--ssh-config',
      'none',
      '--connect-timeout',
      '2',
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'Saved the plan of 0 hosts to x.json (with the 1 that could not be planned, and why). Apply exactly this plan with: kernelfile apply x.json',
    );
    const saved = jsonOutput(readFileSync(join(dir, 'x.json'), 'utf8'), 'saved-plan');
    expect(saved).toMatchObject({
      formatVersion: 2,
      kind: 'kernelfile-plan',
      inventory: 'inv.yml',
      limit: null,
    });
    expect(saved.hosts).toHaveLength(1);
    expect(saved.hosts[0]).toMatchObject({
      name: 'web-1',
      state: 'unreachable',
      connection: { host: 'ssh://127.0.0.1:1', sudo: false, sshConfig: 'none', connectTimeoutMs: 2000 },
    });
    expect((saved.hosts[0] as { error: string }).error).toMatch(/127\.0\.0\.1:1/);
  });
});
