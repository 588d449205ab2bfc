/**
 * The engine's rollback (src/engine/rollback.ts): a planned host's forward plan replaced by the
 * plan of a rollback, so the one rollout applies it. Hosts are PlannedHost-shaped objects over the
 * golden cases and fake transports, as in rollout.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Prepared } from '../../../src/compile/build.js';
import type { Loaded } from '../../../src/engine/kernelfile.js';
import { blocked, type FleetHost, type PlannedHost } from '../../../src/engine/planning.js';
import { rollbackPlan, rollbackPlans } from '../../../src/engine/rollback.js';
import { parseHostAddress } from '../../../src/host/address.js';
import { plan } from '../../../src/plan/planner.js';
import { planRollback } from '../../../src/plan/rollback.js';
import { hasChanges } from '../../../src/plan/types.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { kfEntryId, loadCase, planOptions } from '../../helpers/plan-fixtures.js';

function planned(name: string, caseName: string, edit?: (c: ReturnType<typeof loadCase>) => void) {
  const c = loadCase(caseName);
  const facts = structuredClone(c.facts);
  const desired = structuredClone(c.desired);
  edit?.({ ...c, facts, desired });
  const host: PlannedHost = {
    target: {
      name,
      address: parseHostAddress(`ssh://root@${name}`),
      hostOptions: {},
      sudo: false,
      kernelfile: 'kernelfile.yaml',
    },
    loaded: {} as Loaded,
    transport: new FakeTransport(`ssh://root@${name}:22`),
    facts,
    prepared: { buildId: desired.buildId, release: desired.release } as Prepared,
    desired,
    plan: plan(desired, facts, planOptions(facts)),
    diagnostics: [],
  };
  return host;
}

/** prune-running: web 6.1.117, 6.1.118 (running), 6.1.119 (the default); the kernelfile wants 6.1.120. */
const releases = loadCase('prune-running').facts.receipts.receipts.map((r) => r.release);
const [R117, R118, R119] = releases as [string, string, string];

describe('rollbackPlan', () => {
  it('replaces the forward plan by the rollback’s, and says what it rolls back to', () => {
    const h = planned('web-1', 'prune-running');
    // A requested Kconfig value the new build drops blocks the forward plan, not a rollback.
    h.diagnostics = [{ severity: 'error', code: 'dropped', message: 'CONFIG_KVM=y would be dropped' }];
    expect(blocked(h)).toBe(true);
    const r = rollbackPlan(h, { trial: false });
    expect(r.rollback).toEqual({ to: R118, requested: undefined });
    expect(r.plan).toEqual(
      (() => {
        const rb = planRollback(h.desired, h.facts, { trial: false, base: h.plan });
        if (!rb.ok) throw new Error(rb.problem.message);
        return rb.plan;
      })(),
    );
    expect(r.plan.changes.map((c) => [c.resource, c.action])).toEqual([['default-entry', 'update']]);
    expect(r.diagnostics).toEqual([]);
    // The rest of the host is the planned one: same connection, facts and kernelfile.
    expect(r.transport).toBe(h.transport);
    expect(r.facts).toBe(h.facts);
    expect(r.desired).toBe(h.desired);
    expect(r.target).toBe(h.target);
    // The forward plan is left as it was.
    expect(h.plan.changes.some((c) => c.resource === 'kernel')).toBe(true);
    expect(blocked(r)).toBe(false);
    expect(hasChanges(r.plan)).toBe(true);
  });

  it('--to: the release asked for is kept beside the one chosen', () => {
    const r = rollbackPlan(planned('web-1', 'prune-running'), { to: R117, trial: false });
    expect(r.rollback).toEqual({ to: R117, requested: R117 });
    expect(r.plan.entry?.id).toBe(kfEntryId(R117));
  });

  it('trial: the plan boots it once first', () => {
    const r = rollbackPlan(planned('web-1', 'prune-running'), { to: R117, trial: true });
    expect(r.plan.changes.map((c) => [c.resource, c.action])).toEqual([['trial', 'create']]);
    expect(r.plan.entry?.trial).toBe(true);
  });

  it('a forward plan that cannot be applied (its trial failed) can still be rolled back', () => {
    const h = planned('web-1', 'prune-running');
    h.plan = { ...h.plan, problems: [{ code: 'trial-failed', message: 'the trial boot failed', hint: '' }] };
    expect(blocked(h)).toBe(true);
    const r = rollbackPlan(h, { trial: false });
    expect(r.plan.problems).toEqual([]);
    expect(blocked(r)).toBe(false);
  });

  it('already the default: nothing to do, said in a note; not a rollback to run', () => {
    const h = planned('web-1', 'prune-running');
    const r = rollbackPlan(h, { to: R119, trial: false });
    expect(r.rollback).toBeUndefined();
    expect(r.plan.changes).toEqual([]);
    expect(r.plan.problems).toEqual([]);
    expect(r.plan.notes).toEqual([`${R119} already is the default on ${h.facts.host}`]);
    expect(r.plan.buildIds).toEqual([]);
    expect(r.plan.modules).toEqual([]);
    expect(hasChanges(r.plan)).toBe(false);
    expect(blocked(r)).toBe(false);
  });

  it('nothing to roll back to: the problem, and no changes (the host is not applied)', () => {
    const h = planned('web-1', 'prune-running');
    const r = rollbackPlan(h, { to: '6.1.99-nope', trial: false });
    expect(r.rollback).toBeUndefined();
    expect(r.plan.changes).toEqual([]);
    expect(r.plan.problems.map((p) => p.code)).toEqual(['no-such-kernel']);
    expect(blocked(r)).toBe(true);
    const none = rollbackPlan(planned('web-2', 'converged'), { trial: false });
    expect(none.plan.problems.map((p) => p.code)).toEqual(['no-rollback']);
  });
});

describe('rollbackPlans', () => {
  it('each planned host gets its rollback; hosts that could not be planned stay as they were', () => {
    const down: FleetHost = {
      ok: false,
      target: { ...planned('down', 'converged').target, name: 'down' },
      unreachable: true,
      error: 'ssh://root@down:22: connection refused',
      cause: new Error('refused'),
    };
    const hosts: FleetHost[] = [
      { ok: true, ...planned('web-1', 'prune-running') },
      down,
      { ok: true, ...planned('web-2', 'converged') },
    ];
    const out = rollbackPlans(hosts, { trial: false });
    expect(out).toHaveLength(3);
    expect(out[1]).toBe(down);
    const [a, , b] = out;
    if (!a?.ok || !b?.ok) throw new Error('planned hosts lost');
    expect(a.rollback?.to).toBe(R118);
    expect(b.plan.problems.map((p) => p.code)).toEqual(['no-rollback']);
    // One request for the fleet: --to applies to every host.
    const to = rollbackPlans(hosts, { to: R117, trial: true });
    expect(to[0]?.ok && to[0].rollback).toEqual({ to: R117, requested: R117 });
    expect(to[2]?.ok && to[2].plan.problems.map((p) => p.code)).toEqual(['no-such-kernel']);
  });
});
