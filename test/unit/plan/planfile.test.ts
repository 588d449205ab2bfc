/**
 * Saved plans (`plan --out FILE`, `apply FILE`), one host or a fleet: they read back as written,
 * they say why they no longer apply (the kernelfile or a fact family changed), and a file that is
 * not one of ours, is of another format, or whose fields are not what apply may use (a kernelfile
 * outside the working directory, a control character, a timeout that is no number) is refused,
 * saying where and what.
 */
import { describe, expect, it } from 'vitest';
import { factsDigest, familyDigests } from '../../../src/facts/gather.js';
import type { HostFacts } from '../../../src/facts/types.js';
import { parseHostAddress, type SshAddress } from '../../../src/host/address.js';
import {
  insideWorkingDirectory,
  MAX_SAVED_HOSTS,
  parseSavedPlan,
  shown,
  staleReasons,
} from '../../../src/plan/planfile.js';
import { plan } from '../../../src/plan/planner.js';
import {
  isPlanned,
  SAVED_PLAN_FORMAT_VERSION,
  type SavedHostPlan,
  type SavedPlan,
} from '../../../src/plan/types.js';
import { fsSpace, planCase, planOptions, withDigest } from '../../helpers/plan-fixtures.js';
import { plannedHost, savedOf, unreachableHost } from '../../helpers/saved-plans.js';

const c = planCase('version-bump-prune');
const fleet = savedOf([
  plannedHost('web-1', 'version-bump-prune', {
    kernelfile: 'kernelfiles/web.yaml',
    hostOptions: { knownHosts: ['ci/known_hosts'], identities: [], connectTimeoutMs: 10_000, env: {} },
  }),
  plannedHost('web-2', 'fresh-grub', {
    kernelfile: 'kernelfiles/web.yaml',
    address: {
      ...(parseHostAddress('ssh://deploy@10.0.0.12:2222') as SshAddress),
      identity: '/keys/web',
      become: true,
    },
    sudo: true,
  }),
  unreachableHost('db-1'),
]);
const one = savedOf([plannedHost('web-1', 'version-bump-prune')], {});
const entry = one.hosts[0] as SavedHostPlan;

/** The facts as apply would gather them again, and what staleReasons is given then. */
function now(facts: HostFacts, kernelfileSha256 = c.kernelfile.sha256) {
  return { kernelfileSha256, factsDigest: facts.digest, factsFamilies: familyDigests(facts) };
}

function edited(edit: (f: HostFacts) => void): HostFacts {
  const f = structuredClone(c.facts);
  edit(f);
  return withDigest(f);
}

describe('a saved plan reads back', () => {
  it('a fleet: every host in its order, planned or not, with how to reach it and its kernelfile', () => {
    const back = parseSavedPlan(JSON.stringify(fleet));
    expect(back).toMatchObject({
      formatVersion: SAVED_PLAN_FORMAT_VERSION,
      kind: 'kernelfile-plan',
      inventory: 'inventory.yml',
      limit: null,
    });
    expect(back.hosts.map((h) => [h.name, h.state, isPlanned(h)])).toEqual([
      ['web-1', 'changes pending', true],
      ['web-2', 'changes pending', true],
      ['db-1', 'unreachable', false],
    ]);
    const [web1, web2, db1] = back.hosts;
    expect(web1?.connection).toEqual({
      host: 'ssh://root@web-1:22',
      sudo: false,
      knownHosts: ['ci/known_hosts'],
      connectTimeoutMs: 10_000,
    });
    // An inventory's identity file and become travel with the address.
    expect(web2?.connection).toEqual({
      host: 'ssh://deploy@10.0.0.12:2222',
      identity: '/keys/web',
      become: true,
      sudo: true,
    });
    expect((web1 as SavedHostPlan).kernelfile).toEqual({
      path: 'kernelfiles/web.yaml',
      sha256: c.kernelfile.sha256,
      name: c.spec.name,
    });
    expect((web2 as SavedHostPlan).kernelfile.path).toBe('kernelfiles/web.yaml');
    expect(db1).toEqual({
      name: 'db-1',
      state: 'unreachable',
      connection: { host: 'ssh://root@db-1:22', sudo: false },
      error: 'cannot connect to ssh://root@db-1:22: no route to host',
      hint: 'check the address',
    });
    expect((web1 as SavedHostPlan).plan.changes.map((x) => [x.id, x.action, x.steps])).toEqual(
      c.plan.changes.map((x) => [x.id, x.action, x.steps]),
    );
  });

  it('with what a CI job asks first: per host and in total, counts, changed, possible', () => {
    expect(fleet).toMatchObject({ changed: true, possible: false });
    const h = (fleet.hosts[0] as SavedHostPlan).plan as unknown as Record<string, unknown>;
    expect(h).toMatchObject({ changed: true, possible: true });
    expect((h.changes as { actions: string[] }[])[0]?.actions).toEqual(expect.any(Array));
  });

  it('one host: no inventory, the host as --host names it', () => {
    const back = parseSavedPlan(JSON.stringify(one));
    expect(back.inventory).toBeNull();
    expect(back.hosts).toHaveLength(1);
    expect(back.hosts[0]?.name).toBe('web-1');
    expect(back.hosts[0]?.connection.host).toBe('ssh://root@web-1:22');
  });

  it('never saves the environment or --accept-new-host-keys', () => {
    const text = JSON.stringify(
      savedOf([
        plannedHost('web-1', 'converged', {
          hostOptions: { acceptNewHostKeys: true, env: { SSH_AUTH_SOCK: '/run/agent', HOME: '/h' } },
        }),
      ]),
    );
    expect(text).not.toMatch(/acceptNewHostKeys|SSH_AUTH_SOCK|\/run\/agent/);
  });

  it('and is not stale against the facts it was made from', () => {
    expect(entry.plan.factsDigest).toBe(c.facts.digest);
    expect(entry.plan.factsFamilies).toEqual(familyDigests(c.facts));
    expect(staleReasons(entry, now(c.facts))).toEqual([]);
  });
});

describe('a stale plan says why', () => {
  it('the kernelfile changed: its path and both hashes', () => {
    const reasons = staleReasons(entry, now(c.facts, 'f'.repeat(64)));
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toContain('kernelfile.yaml changed since the plan was made');
    expect(reasons[0]).toContain(c.kernelfile.sha256.slice(0, 12));
    expect(reasons[0]).toContain('ffffffffffff');
  });

  it('kernels and boot changed: the message names both families, and only them', () => {
    const f = edited((x) => {
      // Someone removed a distro kernel and changed the default by hand since the plan.
      x.kernels = x.kernels.filter((k) => k.release !== '6.1.0-13-amd64');
      x.boot = { ...x.boot, default: x.boot.entries[0]?.id ?? null };
    });
    expect(f.digest).not.toBe(c.facts.digest);
    expect(staleReasons(entry, now(f))).toEqual([
      `the facts of ${c.facts.host} changed since the plan was made (boot, kernels)`,
    ]);
  });

  it('a receipt written by another apply: receipts', () => {
    const f = edited((x) => {
      x.receipts = { ...x.receipts, receipts: x.receipts.receipts.slice(1) };
    });
    expect(staleReasons(entry, now(f))).toEqual([
      `the facts of ${c.facts.host} changed since the plan was made (receipts)`,
    ]);
  });

  it('both the kernelfile and the facts: two reasons, the kernelfile first', () => {
    const f = edited((x) => {
      x.tools = { ...x.tools, dkms: null };
    });
    const reasons = staleReasons(entry, now(f, '0'.repeat(64)));
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toMatch(/^kernelfile\.yaml changed/);
    expect(reasons[1]).toMatch(/\(tools\)$/);
  });

  it('a digest that differs without a family that does (a plan without them) still refuses', () => {
    const old = { ...entry, plan: { ...entry.plan, factsFamilies: {} } };
    const f = edited((x) => {
      x.system = { ...x.system, hostname: 'web-1.example.org' };
    });
    expect(staleReasons(old, { ...now(f), factsFamilies: {} })).toEqual([
      `the facts of ${c.facts.host} changed since the plan was made`,
    ]);
  });

  it('free space and the host’s name are not in the digest: not stale', () => {
    const f = edited((x) => {
      x.host = 'ssh://web-1.example.org';
      x.space = {
        ...x.space,
        boot: fsSpace('/boot', '/dev/vda1', '/', 31526391808, 9283592448, 20612501248),
      };
    });
    expect(f.digest).toBe(c.facts.digest);
    expect(staleReasons(entry, now(f))).toEqual([]);
  });

  it('the digest is the same whoever computes it: apply’s re-gathered facts match the plan’s', () => {
    const { digest, ...rest } = structuredClone(c.facts);
    expect(factsDigest(rest)).toBe(digest);
    const again = plan(c.desired, structuredClone(c.facts), planOptions(c.facts));
    expect(staleReasons({ ...entry, plan: again }, now(c.facts))).toEqual([]);
  });
});

describe('kernelfile paths of a saved plan stay inside the working directory', () => {
  it.each([
    ['kernelfile.yaml', true],
    ['kernelfiles/web.yaml', true],
    ['./a/../b.yaml', true],
    ['a/b/../../c.yaml', true],
    ['/etc/kernelfile.yaml', false],
    ['../kernelfile.yaml', false],
    ['a/../../b.yaml', false],
    ['.', false],
    ['a/..', false],
  ])('%s: %s', (p, inside) => {
    expect(insideWorkingDirectory(p)).toBe(inside);
  });
});

describe('files that are not a plan this version can apply', () => {
  const variant = (edit: (o: Record<string, unknown>) => void, from: SavedPlan = fleet) => {
    const o = structuredClone(from) as unknown as Record<string, unknown>;
    edit(o);
    return JSON.stringify(o);
  };

  it.each([
    ['an empty file', ''],
    ['a truncated file', JSON.stringify(fleet).slice(0, 200)],
    ['YAML (the kernelfile itself)', 'apiVersion: kernelfile/v1\nname: web\n'],
  ])('%s: not JSON, and what was expected', (_, text) => {
    expect(() => parseSavedPlan(text)).toThrow(
      /^not JSON \(.+\): is it a file written by `kernelfile plan --out`\?$/,
    );
  });

  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['an array', JSON.stringify([fleet])],
    ['an empty object', '{}'],
    [
      'a Terraform plan',
      JSON.stringify({ format_version: '1.2', terraform_version: '1.7.0', planned_values: {} }),
    ],
    ['package.json', JSON.stringify({ name: 'kernelfile', version: '0.1.0', type: 'module' })],
    [
      'a plan with another kind',
      variant((o) => {
        o.kind = 'kernelfile-facts';
      }),
    ],
  ])('%s: not a kernelfile plan', (_, text) => {
    expect(() => parseSavedPlan(text)).toThrow('not a kernelfile plan (no "kind": "kernelfile-plan")');
  });

  it('the fleet plan `plan --inventory --json` prints: says to save one with --out', () => {
    expect(() =>
      parseSavedPlan(JSON.stringify({ formatVersion: 1, kind: 'kernelfile-fleet-plan', hosts: [] })),
    ).toThrow(
      'this is the fleet plan `plan --inventory --json` prints, not a saved plan: save one with `kernelfile plan --inventory FILE --out PLAN`',
    );
  });

  it('format 1 (an older saved plan, or `plan --json`): it names no connection; make the plan again', () => {
    const one = variant((o) => {
      o.formatVersion = 1;
    });
    for (const text of [c.json, one])
      expect(() => parseSavedPlan(text)).toThrow(
        'plan format 1 (a plan saved by an older kernelfile, or the output of `plan --json`) does not record how to reach its hosts; this kernelfile applies plans of format 2: make the plan again with `kernelfile plan … --out FILE`',
      );
  });

  it.each([
    ['a newer format', SAVED_PLAN_FORMAT_VERSION + 1, String(SAVED_PLAN_FORMAT_VERSION + 1)],
    ['a format given as a string', '2', '"2"'],
    ['no format', undefined, 'missing'],
  ])('%s: names the format and says to plan again', (_, version, written) => {
    const text = variant((o) => {
      o.formatVersion = version;
    });
    expect(() => parseSavedPlan(text)).toThrow(
      `plan format ${written}; this kernelfile reads format ${SAVED_PLAN_FORMAT_VERSION}: make the plan again`,
    );
  });

  const DELETE = Symbol('delete');
  /** The saved fleet with the value at `path` replaced (or deleted). */
  const withValue = (path: (string | number)[], value: unknown) =>
    variant((o) => {
      let at = o as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
      const last = path.at(-1) as string | number;
      if (value === DELETE) delete at[last];
      else at[last] = value;
    });

  it.each<[string, (string | number)[], unknown, string]>([
    ['no hosts', ['hosts'], DELETE, 'hosts: missing or not a list'],
    ['hosts not a list', ['hosts'], {}, 'hosts: missing or not a list'],
    ['no host at all', ['hosts'], [], 'hosts: empty: the plan names no host'],
    [
      'too many hosts',
      ['hosts'],
      Array.from({ length: MAX_SAVED_HOSTS + 1 }, () => ({})),
      `hosts: more than ${MAX_SAVED_HOSTS} hosts`,
    ],
    ['a host twice', ['hosts'], [fleet.hosts[0], fleet.hosts[0]], 'hosts: web-1 is there twice'],
    ['a host without a name', ['hosts', 0, 'name'], DELETE, 'hosts[0].name: not a string (undefined)'],
    [
      'a name with a control character',
      ['hosts', 1, 'name'],
      'web-2\u001b[2J',
      'hosts[1].name: contains a control character (web-2\\u001b[2J)',
    ],
    [
      'a host without its connection',
      ['hosts', 0, 'connection'],
      DELETE,
      'hosts[0] (web-1).connection: missing (how to reach the host)',
    ],
    [
      'an address with a newline',
      ['hosts', 0, 'connection', 'host'],
      'ssh://root@web-1:22\nProxyCommand x',
      'hosts[0] (web-1).connection.host: contains a control character (ssh://root@web-1:22\\nProxyCommand x)',
    ],
    [
      'sudo that is not true or false',
      ['hosts', 0, 'connection', 'sudo'],
      'yes',
      'hosts[0] (web-1).connection.sudo: not true or false (yes)',
    ],
    [
      'known_hosts that are not a list',
      ['hosts', 0, 'connection', 'knownHosts'],
      '/etc/ssh/ssh_known_hosts',
      'hosts[0] (web-1).connection.knownHosts: not a list',
    ],
    [
      'an empty identity file name',
      ['hosts', 1, 'connection', 'identity'],
      '',
      'hosts[1] (web-2).connection.identity: empty',
    ],
    [
      'a timeout that is no number of milliseconds',
      ['hosts', 0, 'connection', 'connectTimeoutMs'],
      -1,
      'hosts[0] (web-1).connection.connectTimeoutMs: not a number of milliseconds from 1 to 86400000 (-1)',
    ],
    [
      'a kernelfile outside the working directory',
      ['hosts', 0, 'kernelfile', 'path'],
      '../../etc/kf.yaml',
      'hosts[0] (web-1).kernelfile.path: ../../etc/kf.yaml is not inside the working directory (a saved plan names kernelfiles relative to it)',
    ],
    [
      'an absolute kernelfile path',
      ['hosts', 0, 'kernelfile', 'path'],
      '/tmp/kf.yaml',
      'hosts[0] (web-1).kernelfile.path: /tmp/kf.yaml is not inside the working directory',
    ],
    [
      'a kernelfile without its hash',
      ['hosts', 0, 'kernelfile', 'sha256'],
      DELETE,
      'hosts[0] (web-1).kernelfile.sha256: not a sha256 (64 hexadecimal digits)',
    ],
    [
      'a planned host without its kernelfile',
      ['hosts', 0, 'kernelfile'],
      DELETE,
      'hosts[0] (web-1).kernelfile: missing',
    ],
    [
      'a host plan without its facts digest',
      ['hosts', 0, 'plan', 'factsDigest'],
      DELETE,
      'hosts[0] (web-1).plan: incomplete: a host plan needs host, factsDigest, changes, problems and summary',
    ],
    [
      'a host plan without problems',
      ['hosts', 0, 'plan', 'problems'],
      DELETE,
      'hosts[0] (web-1).plan: incomplete',
    ],
    [
      'fact family digests that are not strings',
      ['hosts', 0, 'plan', 'factsFamilies'],
      { boot: 1 },
      'hosts[0] (web-1).plan.factsFamilies: not an object of digests',
    ],
    [
      'an unplanned host with another state',
      ['hosts', 2, 'state'],
      'converged',
      'hosts[2] (db-1).state: a host without a plan must be `unreachable` or `error`',
    ],
    [
      'an unplanned host without why',
      ['hosts', 2, 'error'],
      DELETE,
      'hosts[2] (db-1).error: missing (why the host could not be planned)',
    ],
    [
      'an inventory name with a control character',
      ['inventory'],
      'inv\u0007.yml',
      'inventory: contains a control character (inv\\u0007.yml)',
    ],
  ])('%s: refused, saying where and what', (_, path, value, message) => {
    expect(() => parseSavedPlan(withValue(path, value))).toThrow(`incomplete or invalid plan: ${message}`);
  });

  it('a change with an action apply does not know, or without steps: names the change', () => {
    const last = c.plan.changes.length - 1;
    expect(() =>
      parseSavedPlan(withValue(['hosts', 0, 'plan', 'changes', last, 'action'], 'destroy')),
    ).toThrow(`change ${c.plan.changes[last]?.id} has no valid id, action or steps`);
    expect(() => parseSavedPlan(withValue(['hosts', 0, 'plan', 'changes', 0, 'steps'], DELETE))).toThrow(
      `hosts[0] (web-1).plan.changes[0]: change ${c.plan.changes[0]?.id} has no valid id`,
    );
    expect(() =>
      parseSavedPlan(withValue(['hosts', 0, 'plan', 'changes', 0, 'steps'], ['rm -rf /'])),
    ).toThrow(/changes\[0\]: change .* has no valid id, action or steps/);
  });

  it('a plan saved while format 2 spelled no-op `noop` reads back with `no-op`', () => {
    const converged = planCase('converged');
    const doc = JSON.parse(JSON.stringify(savedOf([plannedHost('web-1', 'converged')], {})));
    const changes = doc.hosts[0].plan.changes as { action: string }[];
    const noops = changes.filter((x) => x.action === 'no-op');
    expect(noops.length).toBeGreaterThan(0);
    for (const x of noops) x.action = 'noop';
    const back = parseSavedPlan(JSON.stringify(doc));
    expect((back.hosts[0] as SavedHostPlan).plan.changes.map((x) => x.action)).toEqual(
      converged.plan.changes.map((x) => x.action),
    );
  });

  it('a plan with problems still reads back (apply refuses it later)', () => {
    const bad = savedOf([plannedHost('web-1', 'no-dkms')]);
    const back = parseSavedPlan(JSON.stringify(bad));
    expect((back.hosts[0] as SavedHostPlan).plan.problems.map((p) => p.code)).toEqual(['no-dkms']);
    expect(bad).toMatchObject({ possible: false });
  });

  it('values from the file are escaped in messages, C1 controls too, and cut short', () => {
    expect(shown('a\u009b2Jb')).toBe('a\\u009b2Jb');
    expect(shown('x'.repeat(100))).toBe(`${'x'.repeat(77)}...`);
  });
});
