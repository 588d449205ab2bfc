/**
 * Saved plans for unit tests: planned hosts made from the planner's golden cases (real plans, real
 * facts), with targets as an inventory gives them, and the saved plan `plan --out` writes for them.
 */
import type { Prepared } from '../../src/compile/build.js';
import type { Loaded } from '../../src/engine/kernelfile.js';
import type { FleetHost, PlannedHost } from '../../src/engine/planning.js';
import { savedPlanDocument } from '../../src/engine/saved-plan.js';
import type { Target } from '../../src/engine/targets.js';
import { parseHostAddress } from '../../src/host/address.js';
import type { SavedPlan } from '../../src/plan/types.js';
import { FakeTransport } from './fake-transport.js';
import { validDocument } from './json-schemas.js';
import { planCase } from './plan-fixtures.js';

/** Where the saved plans of these tests are made and applied: paths in them are relative to it. */
export const CWD = '/srv/kernels';
export const ENV = { cwd: CWD, env: { HOME: '/nonexistent-home' } };

export function target(name: string, o: Partial<Target> = {}): Target {
  return {
    name,
    address: parseHostAddress(`ssh://root@${name}:22`),
    hostOptions: {},
    sudo: false,
    kernelfile: 'kernelfile.yaml',
    ...o,
  };
}

/** A host planned from a golden case, as PlanningSession.planAll returns it (its connection a fake). */
export function plannedHost(
  name: string,
  caseName: string,
  o: Partial<Target> = {},
): Extract<FleetHost, { ok: true }> & { fake: FakeTransport } {
  const c = planCase(caseName);
  const transport = new FakeTransport(`ssh://root@${name}:22`);
  const host: PlannedHost = {
    target: target(name, o),
    loaded: { kf: { display: o.kernelfile ?? 'kernelfile.yaml' } } as Loaded,
    transport,
    facts: structuredClone(c.facts),
    prepared: { buildId: c.desired.buildId, release: c.desired.release } as Prepared,
    desired: {
      ...c.desired,
      kernelfile: { ...c.desired.kernelfile, path: o.kernelfile ?? 'kernelfile.yaml' },
    },
    plan: structuredClone(c.plan),
    diagnostics: [],
  };
  return { ok: true as const, ...host, fake: transport };
}

export function unreachableHost(name: string): FleetHost {
  return {
    ok: false,
    target: target(name),
    unreachable: true,
    error: `cannot connect to ssh://root@${name}:22: no route to host`,
    hint: 'check the address',
    cause: new Error('no route to host'),
  };
}

/**
 * The saved plan `plan --out` writes for these hosts (valid against its schema), as read back
 * (JSON round trip).
 */
export function savedOf(
  hosts: readonly FleetHost[],
  selection: { inventory?: string; limit?: string } = { inventory: 'inventory.yml' },
): SavedPlan {
  const doc = JSON.parse(JSON.stringify(savedPlanDocument(hosts, selection, ENV)));
  return validDocument('saved-plan', doc) as unknown as SavedPlan;
}
