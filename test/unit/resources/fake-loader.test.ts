/**
 * Adding a boot loader is one driver and one line in the registry: a fake driver, defined here,
 * is planned against fixture hosts and writes, defaults, tries once and prunes with its own steps.
 * (A real loader also needs its name in the kernelfile schema's boot.loader and, for `auto`, in
 * the boot facts' detection: this test names it in Desired directly.)
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/plan/planner.js';
import type { Step } from '../../../src/resources/change.js';
import type { Desired } from '../../../src/resources/desired.js';
import { LOADERS, type LoaderDriver } from '../../../src/resources/loaders/index.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const run = (argv: string[]): Step => ({ kind: 'run', title: argv.join(' '), argv, sudo: true });

const fakeboot: LoaderDriver = {
  mode: 'fakeboot',
  loader: 'fakeboot',
  displayName: 'FakeBoot',
  limits: { oneEntryPerKernel: null, rootRequired: true, notes: ['fakeboot: entries live in /fake'] },
  claim: (ctx) => (ctx.f.boot.tools['kernel-install'] ? 'mine' : 'not-mine'),
  entryId: (_ctx, release, index) => `fake-${release}-${index}`,
  sameEntry: (have, want) => have.title === want.title,
  addSteps: (_ctx, entries) => entries.map((e) => run(['fakeboot-add', e.id, e.linux, e.cmdline])),
  defaultSteps: (_ctx, entry) => [run(['fakeboot-default', entry.id])],
  oneshotSteps: (_ctx, entry) => [run(['fakeboot-once', entry.id])],
  removeSteps: (_ctx, releases) => releases.map((r) => run(['fakeboot-remove', r])),
};

const loaders = [...LOADERS, fakeboot]; // the one line that registers it

function planWithFake(name: string, edit: (d: Desired) => void = () => {}) {
  const c = loadCase(name);
  const d = structuredClone(c.desired);
  d.boot.loader = 'fakeboot' as Desired['boot']['loader'];
  edit(d);
  return plan(d, c.facts, { ...planOptions(c.facts), loaders });
}

const argvs = (steps: Step[]) => steps.flatMap((s) => (s.kind === 'run' ? [s.argv] : []));

describe('a boot loader driver registered with one line', () => {
  it('writes the entries and sets the default with its own steps', () => {
    const p = planWithFake('fresh-grub');
    expect(p.problems).toEqual([]);
    expect(p.summary.loaderMode).toBe('FakeBoot');
    expect(p.notes).toContain('fakeboot: entries live in /fake');
    const release = p.summary.release;
    const entry = p.changes.find((c) => c.resource === 'boot-entry');
    expect(entry?.id).toBe(`boot-entry[fake-${release}-0]`);
    expect(entry?.reason).toBe(`FakeBoot entry for ${release}`);
    expect(argvs(entry?.steps ?? [])[0]?.slice(0, 3)).toEqual([
      'fakeboot-add',
      `fake-${release}-0`,
      `/boot/vmlinuz-${release}`,
    ]);
    const receipt = p.changes.flatMap((c) => c.steps).find((s) => s.kind === 'receipt');
    expect(receipt?.kind === 'receipt' && receipt.data.loader).toBe('fakeboot');
    const def = p.changes.find((c) => c.resource === 'default-entry');
    expect(argvs(def?.steps ?? [])).toEqual([['fakeboot-default', `fake-${release}-0`]]);
  });

  it('boots the new entry once with its own steps (boot.trial)', () => {
    const p = planWithFake('fresh-grub', (d) => {
      d.boot.trial = true;
    });
    const trial = p.changes.find((c) => c.resource === 'trial');
    expect(argvs(trial?.steps ?? [])).toEqual([['fakeboot-once', `fake-${p.summary.release}-0`]]);
    expect(p.changes.some((c) => c.resource === 'default-entry')).toBe(false);
  });

  it('removes pruned releases’ entries with its own steps', () => {
    const p = planWithFake('version-bump-prune');
    const pruned = p.changes.filter((c) => c.resource === 'prune');
    expect(pruned.length).toBeGreaterThan(0);
    const removes = argvs(pruned.flatMap((c) => c.steps)).filter((a) => a[0] === 'fakeboot-remove');
    expect(removes).toEqual(pruned.map((c) => ['fakeboot-remove', c.before]));
  });

  it('is not chosen where it does not claim the host, and the registry without it knows no fakeboot', () => {
    const c = loadCase('fresh-grub');
    const d = structuredClone(c.desired);
    d.boot.loader = 'fakeboot' as Desired['boot']['loader'];
    const without = plan(d, c.facts, planOptions(c.facts));
    expect(without.problems.map((x) => x.code)).toContain('no-loader-driver');
    const f = structuredClone(c.facts);
    f.boot.tools['kernel-install'] = null;
    const unclaimed = plan(d, f, { ...planOptions(f), loaders });
    expect(unclaimed.problems.map((x) => x.code)).toContain('no-loader-driver');
  });
});
