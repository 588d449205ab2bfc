/**
 * The plan's JSON documents: `plan --json` shows each file a step writes by its sha256 and size,
 * the saved plan carries the content (what apply compares); the fleet plan and the saved plan are
 * valid against their schemas, with their totals; an error becomes the error document.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errorDocument, failureOf } from '../../../src/cli/json-error.js';
import { describe as describeError, UserError } from '../../../src/engine/errors.js';
import { planDocument, savedPlanDocument } from '../../../src/engine/saved-plan.js';
import { KERNELFILE_VERSION } from '../../../src/engine/version.js';
import type { Step } from '../../../src/plan/types.js';
import { fleetPlanJson, hostPlanJson, savedHostPlanJson } from '../../../src/render/plan-json.js';
import { TEST_STAMP, validDocument } from '../../helpers/json-schemas.js';
import { ENV, plannedHost, unreachableHost } from '../../helpers/saved-plans.js';

const NOW = new Date('2025-03-01T12:34:56.789Z');
const writes = (steps: readonly Step[]) => steps.filter((s) => s.kind === 'write');

describe('plan --json and the saved plan', () => {
  const h = plannedHost('web-1', 'fresh-grub');
  const shown = hostPlanJson(h.plan);
  const saved = savedHostPlanJson(h.plan);

  it('plan --json: every write step by the sha256 and size of its content, no content', () => {
    const whole = h.plan.changes.flatMap((c) => writes(c.steps));
    expect(whole.length).toBeGreaterThan(2);
    const digests = shown.changes.flatMap((c) => c.steps.filter((s) => s.kind === 'write'));
    expect(digests).toEqual(
      whole.map((s) => ({
        kind: 'write',
        title: s.title,
        path: s.path,
        sha256: createHash('sha256').update(s.content).digest('hex'),
        size: Buffer.byteLength(s.content),
        mode: s.mode,
        sudo: s.sudo,
      })),
    );
    expect(JSON.stringify(shown)).not.toContain('"content"');
    // Every other step and field is as in the plan.
    expect(shown.changes.map((c) => c.steps.filter((s) => s.kind !== 'write'))).toEqual(
      h.plan.changes.map((c) => c.steps.filter((s) => s.kind !== 'write')),
    );
  });

  it('the saved plan: every step whole, as apply compares it with a fresh plan', () => {
    expect(saved.changes.map((c) => c.steps)).toEqual(h.plan.changes.map((c) => c.steps));
    expect(saved.changes.map((c) => c.actions)).toEqual(shown.changes.map((c) => c.actions));
  });

  it('both stamped: the version of kernelfile and the clock the caller gives', () => {
    const doc = validDocument('plan', planDocument([h], { now: () => NOW }));
    expect(doc).toMatchObject({ kernelfileVersion: KERNELFILE_VERSION, generatedAt: NOW.toISOString() });
    expect(
      doc.hosts[0]?.changes.flatMap((c) => c.steps).some((s) => s.kind === 'write' && 'sha256' in s),
    ).toBe(true);
    const file = validDocument(
      'saved-plan',
      JSON.parse(JSON.stringify(savedPlanDocument([h], {}, { ...ENV, now: () => NOW }))),
    );
    expect(file.generatedAt).toBe(NOW.toISOString());
    expect(JSON.stringify(file)).toContain('"content"');
  });

  it('no-op is spelled as Terraform spells it, in action and actions', () => {
    const c = plannedHost('web-1', 'converged');
    const doc = validDocument('plan', planDocument([c]));
    const changes = doc.hosts[0]?.changes ?? [];
    expect(changes.length).toBeGreaterThan(0);
    for (const x of changes) {
      expect(x.action).toBe('no-op');
      expect(x.actions).toEqual(['no-op']);
    }
    expect(JSON.stringify(doc)).not.toContain('"noop"');
  });
});

describe('the fleet plan (plan --inventory --json)', () => {
  it('planned hosts and those that could not be, the builds, the totals over the fleet', () => {
    const web1 = plannedHost('web-1', 'fresh-grub');
    const web2 = plannedHost('web-2', 'converged');
    const blocked = plannedHost('web-3', 'no-dkms');
    const planned = [web1, web2, blocked].map((h) => ({
      name: h.target.name,
      state: 'changes pending',
      kernelfile: { path: 'kernelfile.yaml', sha256: h.desired.kernelfile.sha256, name: h.desired.name },
      plan: h.plan,
      possible: h.plan.problems.length === 0,
    }));
    const doc = validDocument(
      'fleet-plan',
      fleetPlanJson(
        { inventory: 'inventory.yml', limit: 'web' },
        [...planned, { name: 'db-1', state: 'unreachable', error: 'no route to host', hint: null }],
        [
          {
            buildId: web1.desired.buildId,
            release: web1.desired.release,
            kernelfile: 'kernelfile.yaml',
            hosts: ['web-1'],
            cached: false,
          },
        ],
        TEST_STAMP,
      ),
    );
    expect(doc).toMatchObject({
      kind: 'kernelfile-fleet-plan',
      ...TEST_STAMP,
      changed: true,
      possible: false,
    });
    const add = [web1, web2, blocked].reduce((n, h) => n + hostPlanJson(h.plan).counts.add, 0);
    expect(doc.counts.add).toBe(add);
    expect(doc.hosts.map((x) => ('plan' in x ? x.plan.possible : x.state))).toEqual([
      true,
      true,
      false,
      'unreachable',
    ]);
  });

  it('a saved plan with an unplanned host is not possible', () => {
    const doc = validDocument(
      'saved-plan',
      JSON.parse(
        JSON.stringify(
          savedPlanDocument([plannedHost('web-1', 'converged'), unreachableHost('db-1')], {}, ENV),
        ),
      ),
    );
    expect(doc).toMatchObject({ changed: false, possible: false });
  });
});

describe('the error document', () => {
  it('an expected error: message, hint, details; a bug: internal', () => {
    const user = validDocument(
      'error',
      errorDocument('plan', failureOf(describeError(new UserError('no host', 'give --host'))), {
        now: () => NOW,
      }),
    );
    expect(user).toEqual({
      formatVersion: 1,
      kind: 'kernelfile-error',
      kernelfileVersion: KERNELFILE_VERSION,
      generatedAt: NOW.toISOString(),
      command: 'plan',
      error: {
        message: 'no host',
        hint: 'give --host',
        details: [],
        file: null,
        line: null,
        column: null,
        unreachable: false,
        internal: false,
      },
    });
    const bug = validDocument(
      'error',
      errorDocument('facts', failureOf(describeError(new TypeError('x is undefined')))),
    );
    expect(bug.error).toMatchObject({
      message: 'internal error: x is undefined',
      hint: null,
      internal: true,
    });
  });
});
