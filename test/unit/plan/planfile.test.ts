/**
 * Saved plans (`plan --out FILE`, `apply FILE`): they read back as written, they say why they no
 * longer apply (the kernelfile or a fact family changed), and a file that is not one of ours, or
 * from another format, is refused with words that say so.
 */
import { describe, expect, it } from 'vitest';
import { factsDigest, familyDigests } from '../../../src/facts/gather.js';
import type { HostFacts } from '../../../src/facts/types.js';
import { parsePlanFile, staleReasons } from '../../../src/plan/planfile.js';
import { plan } from '../../../src/plan/planner.js';
import { PLAN_FORMAT_VERSION, type PlanFile } from '../../../src/plan/types.js';
import { planFile, planJson } from '../../../src/render/plan-json.js';
import { fsSpace, planCase, planOptions, withDigest } from '../../helpers/plan-fixtures.js';

const c = planCase('version-bump-prune');
const file: PlanFile = planFile({ ...c.kernelfile, name: c.spec.name }, [c.plan]);
const host = file.hosts[0] as PlanFile['hosts'][number];

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
  it('as written: planFile → JSON → parsePlanFile', () => {
    const back = parsePlanFile(JSON.stringify(file));
    expect(back).toEqual(file);
    expect(back.hosts[0]?.changes.map((x) => x.id)).toEqual(c.plan.changes.map((x) => x.id));
  });

  it('from the `plan --json` document too (the same format with counts and actions added)', () => {
    const back = parsePlanFile(c.json);
    expect(back.kernelfile).toEqual(file.kernelfile);
    expect(back.hosts[0]?.factsDigest).toBe(c.facts.digest);
    expect(back.hosts[0]?.changes.map((x) => [x.id, x.action, x.steps])).toEqual(
      c.plan.changes.map((x) => [x.id, x.action, x.steps]),
    );
  });

  it('and is not stale against the facts it was made from', () => {
    expect(host.factsDigest).toBe(c.facts.digest);
    expect(host.factsFamilies).toEqual(familyDigests(c.facts));
    expect(staleReasons(file, host, now(c.facts))).toEqual([]);
  });
});

describe('a stale plan says why', () => {
  it('the kernelfile changed: its path and both hashes', () => {
    const changed = 'f'.repeat(64);
    const reasons = staleReasons(file, host, now(c.facts, changed));
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
    const reasons = staleReasons(file, host, now(f));
    expect(reasons).toEqual([`the facts of ${c.facts.host} changed since the plan was made (boot, kernels)`]);
  });

  it('a receipt written by another apply: receipts', () => {
    const f = edited((x) => {
      x.receipts = { ...x.receipts, receipts: x.receipts.receipts.slice(1) };
    });
    expect(staleReasons(file, host, now(f))).toEqual([
      `the facts of ${c.facts.host} changed since the plan was made (receipts)`,
    ]);
  });

  it('both the kernelfile and the facts: two reasons, the kernelfile first', () => {
    const f = edited((x) => {
      x.tools = { ...x.tools, dkms: null };
    });
    const reasons = staleReasons(file, host, now(f, '0'.repeat(64)));
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toMatch(/^kernelfile\.yaml changed/);
    expect(reasons[1]).toMatch(/\(tools\)$/);
  });

  it('a digest that differs without a family that does (an older plan without them) still refuses', () => {
    const old = { ...host, factsFamilies: {} };
    const f = edited((x) => {
      x.system = { ...x.system, hostname: 'web-1.example.org' };
    });
    const reasons = staleReasons(file, old, { ...now(f), factsFamilies: {} });
    expect(reasons).toEqual([`the facts of ${c.facts.host} changed since the plan was made`]);
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
    expect(staleReasons(file, host, now(f))).toEqual([]);
  });

  it('the digest is the same whoever computes it: apply’s re-gathered facts match the plan’s', () => {
    const { digest, ...rest } = structuredClone(c.facts);
    expect(factsDigest(rest)).toBe(digest);
    const again = plan(c.desired, structuredClone(c.facts), planOptions(c.facts));
    expect(staleReasons(file, again, now(c.facts))).toEqual([]);
  });
});

describe('files that are not a plan this version can apply', () => {
  const saved = JSON.parse(JSON.stringify(file)) as Record<string, unknown>;
  const variant = (edit: (o: Record<string, unknown>) => void) => {
    const o = structuredClone(saved);
    edit(o);
    return JSON.stringify(o);
  };

  it.each([
    ['an empty file', ''],
    ['a truncated file', JSON.stringify(file).slice(0, 200)],
    ['YAML (the kernelfile itself)', 'apiVersion: kernelfile/v1\nname: web\n'],
  ])('%s: not JSON, and what was expected', (_, text) => {
    expect(() => parsePlanFile(text)).toThrow(
      /^not JSON \(.+\): is it a file written by `kernelfile plan --out`\?$/,
    );
  });

  it.each([
    ['null', 'null'],
    ['a number', '42'],
    ['an array', JSON.stringify([file])],
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
    expect(() => parsePlanFile(text)).toThrow('not a kernelfile plan (no "kind": "kernelfile-plan")');
  });

  it.each([
    ['an older format', 0],
    ['a newer format', PLAN_FORMAT_VERSION + 1],
    ['a format given as a string', '1'],
    ['no format', undefined],
  ])('%s: names the format and says to plan again', (_, version) => {
    const text = variant((o) => {
      o.formatVersion = version;
    });
    expect(() => parsePlanFile(text)).toThrow(
      `plan format ${String(version)}; this kernelfile reads format ${PLAN_FORMAT_VERSION}: make the plan again`,
    );
  });

  it.each([
    ['no kernelfile', (o: Record<string, unknown>) => delete o.kernelfile],
    [
      'a kernelfile without its hash',
      (o: Record<string, unknown>) => {
        o.kernelfile = { path: 'kernelfile.yaml', name: 'web' };
      },
    ],
    ['no hosts', (o: Record<string, unknown>) => delete o.hosts],
    [
      'hosts that are not a list',
      (o: Record<string, unknown>) => {
        o.hosts = {};
      },
    ],
  ])('%s: incomplete', (_, edit) => {
    expect(() => parsePlanFile(variant(edit))).toThrow('incomplete plan (kernelfile or hosts missing)');
  });

  it.each(['host', 'factsDigest', 'changes'])(
    'a host without %s: incomplete, and which fields a host needs',
    (key) => {
      const text = variant((o) => {
        delete (o.hosts as Record<string, unknown>[])[0]?.[key];
      });
      expect(() => parsePlanFile(text)).toThrow(
        'incomplete plan: a host entry lacks host, factsDigest, changes, problems or summary',
      );
    },
  );

  it('a change with an action apply does not know: names the change', () => {
    const text = variant((o) => {
      const changes = (o.hosts as { changes: Record<string, unknown>[] }[])[0]?.changes ?? [];
      (changes.at(-1) as Record<string, unknown>).action = 'destroy';
    });
    expect(() => parsePlanFile(text)).toThrow(
      `incomplete plan: change ${c.plan.changes.at(-1)?.id} has no valid action or steps`,
    );
  });

  it('a change without steps: names the change', () => {
    const text = variant((o) => {
      const changes = (o.hosts as { changes: Record<string, unknown>[] }[])[0]?.changes ?? [];
      delete (changes[0] as Record<string, unknown>).steps;
    });
    expect(() => parsePlanFile(text)).toThrow(
      `incomplete plan: change ${c.plan.changes[0]?.id} has no valid action or steps`,
    );
  });

  // apply reads `problems` and `summary` of a saved host plan: a file without them is refused here.
  it('a host without problems: incomplete', () => {
    const text = variant((o) => {
      delete (o.hosts as Record<string, unknown>[])[0]?.problems;
    });
    expect(() => parsePlanFile(text)).toThrow(/incomplete plan/);
  });

  it('the `plan --json` document of a plan with problems still reads back (apply refuses it later)', () => {
    const bad = planCase('no-dkms');
    const back = parsePlanFile(bad.json);
    expect(back.hosts[0]?.problems.map((p) => p.code)).toEqual(['no-dkms']);
    expect((JSON.parse(bad.json) as { possible: boolean }).possible).toBe(false);
    expect(planJson(back)).toMatchObject({ possible: false });
  });
});
