/**
 * The executor over an in-memory transport (test/helpers/fake-transport.ts) and a fake controller:
 * plans from the real planner (the golden cases of test/fixtures/plan) and small hand-made ones.
 * No process, no host: the artifacts are a few small files in a temp directory, with the shipped
 * tarballs already packed so that nothing runs tar.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Controller, execute, locked, StepError, type StepEvent } from '../../../src/apply/executor.js';
import { HostError } from '../../../src/host/transport.js';
import type { Change, HostPlan, Step } from '../../../src/plan/types.js';
import {
  pendingPath,
  receiptPath,
  sidecarPath,
  stagingDir,
  statPath,
} from '../../../src/resources/layout.js';
import { fakeArtifactsDir, fakeManifest } from '../../helpers/fake-artifacts.js';
import { type Call, type Failure, FakeTransport } from '../../helpers/fake-transport.js';
import { planCase } from '../../helpers/plan-fixtures.js';

const NOW = '2026-12-01T10:00:00.000Z';
const tmp = mkdtempSync(join(tmpdir(), 'kf-executor-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fakeController(releaseOf: (buildId: string) => string) {
  const builds: string[] = [];
  const packed: string[] = [];
  const source = join(tmp, 'source.tar');
  writeFileSync(source, 'a module source\n');
  const controller: Controller = {
    async build(buildId, progress) {
      builds.push(buildId);
      progress(`build ${buildId}: cached`);
      return { dir: fakeArtifactsDir(tmp, buildId), manifest: fakeManifest(buildId, releaseOf(buildId)) };
    },
    async packSource(from) {
      packed.push(from);
      return source;
    },
    async dkmsTarball() {
      return source;
    },
    now: () => NOW,
  };
  return { controller, builds, packed };
}

/** Execute `plan`, recording each event with the number of transport calls made before it. */
async function run(plan: HostPlan, t = new FakeTransport()) {
  const { controller, builds, packed } = fakeController(() => plan.summary.release);
  const events: { e: StepEvent; at: number }[] = [];
  let error: unknown;
  const result = await execute(t, plan, controller, (e) => events.push({ e, at: t.calls.length })).catch(
    (e: unknown) => {
      error = e;
      return undefined;
    },
  );
  return { t, result, error, events, builds, packed };
}

/** The transport calls made during each step (from its start event to the next one). */
function callsByStep(
  t: FakeTransport,
  events: { e: StepEvent; at: number }[],
): { step: Step; calls: Call[] }[] {
  const starts = events.filter((x) => x.e.kind === 'step' && x.e.state === 'start');
  return starts.map((x, i) => ({
    step: (x.e as Extract<StepEvent, { kind: 'step' }>).step,
    calls: t.calls.slice(x.at, starts[i + 1]?.at ?? t.calls.length),
  }));
}

const runsOf = (plan: HostPlan) => plan.changes.filter((c) => c.action !== 'no-op').flatMap((c) => c.steps);
const changeOf = (plan: HostPlan, resource: Change['resource']) => {
  const c = plan.changes.find((x) => x.resource === resource);
  if (!c) throw new Error(`no ${resource} change`);
  return c;
};
const runStep = (c: Change, match: (argv: string[]) => boolean) => {
  const s = c.steps.find((x): x is Extract<Step, { kind: 'run' }> => x.kind === 'run' && match(x.argv));
  if (!s) throw new Error(`no such step in ${c.id}`);
  return s;
};
const isCall = (c: Call, argv: readonly string[]) =>
  c.kind === 'run' &&
  c.inner !== null &&
  c.inner.length === argv.length &&
  c.inner.every((a, i) => a === argv[i]);

/** fresh-grub: nothing installed; kernel, DKMS module, initramfs, GRUB entry, receipt, then the default. */
const fresh = () => planCase('fresh-grub').plan;

describe('execute: a fresh install (the fresh-grub golden case)', () => {
  it('runs every step in plan order, each run and write step as one locked command', async () => {
    const plan = fresh();
    const { t, result, error, events } = await run(plan);
    expect(error).toBeUndefined();
    const steps = runsOf(plan);
    expect(steps.map((s) => s.kind)).toEqual(
      expect.arrayContaining(['build', 'ship', 'upload', 'run', 'write', 'receipt']),
    );
    const byStep = callsByStep(t, events);
    expect(byStep.map((x) => x.step)).toEqual(steps);
    for (const { step, calls } of byStep) {
      if (step.kind === 'run') {
        expect(calls).toHaveLength(1);
        expect(calls[0]?.kind === 'run' && calls[0].argv).toEqual(locked(step.argv));
        expect(calls[0]?.kind === 'run' && calls[0].opts?.sudo).toBe(step.sudo);
      }
      if (step.kind === 'write') {
        expect(calls).toHaveLength(1);
        expect(calls[0]?.kind === 'run' && calls[0].wrote).toEqual({
          path: step.path,
          content: step.content,
        });
      }
      if (step.kind === 'build') expect(calls).toEqual([]);
    }
    const changes = plan.changes.filter((c) => c.action !== 'no-op');
    expect(events.filter((x) => x.e.kind === 'change').map((x) => x.e)).toEqual(
      changes.map((change, index) => ({ kind: 'change', change, index, total: changes.length })),
    );
    expect(result).toEqual({
      host: t.name,
      changes: changes.length,
      steps: steps.length,
      mutating: steps.filter((s) => s.kind !== 'build').length + 1, // + the journal
    });
  });

  it('ships the build once: the five files, to the staging directory', async () => {
    const plan = fresh();
    const { t } = await run(plan);
    const puts = t.calls.filter((c) => c.kind === 'put').map((c) => (c.kind === 'put' ? c.to : ''));
    const staging = stagingDir(plan.summary.buildId);
    expect(puts.filter((p) => p.startsWith(`${staging}/`)).sort()).toEqual(
      ['System.map', 'config', 'headers.tar', 'modules.tar', 'vmlinuz'].map((f) => `${staging}/${f}`),
    );
  });

  it('writes the journal before the first command that changes the host, and the receipt after the install', async () => {
    const plan = fresh();
    const release = plan.summary.release;
    const { t } = await run(plan);
    const lines = t.lines();
    // Before the journal: nothing (the build step only asks the controller).
    expect(lines[0]).toBe(`write ${pendingPath(release)}`);
    expect(JSON.parse(t.files.get(pendingPath(release)) as string)).toEqual({
      release,
      buildId: plan.summary.buildId,
      name: plan.summary.name,
      startedAt: NOW,
      host: t.name,
    });
    expect(lines.filter((l) => l.startsWith('write ') && l.includes('/pending/'))).toHaveLength(1);

    // The receipt: the sidecar, the receipt, then the journal and the staging go; every install
    // step came before, and only the default entry (planned again from facts if interrupted) after.
    const receiptAt = lines.indexOf(`write ${receiptPath(release)}`);
    expect(lines[receiptAt - 1]).toBe(`write ${sidecarPath(release)}`);
    expect(lines[receiptAt + 1]).toBe(
      `locked: rm -rf ${pendingPath(release)} ${stagingDir(plan.summary.buildId)}`,
    );
    // Then the files as stat sees them (facts compare that before hashing them again).
    expect(lines[receiptAt + 2]).toMatch(
      new RegExp(
        `^locked: sh -c .*stat -c '%s %y %z %i %n'.* kf-stat ${sidecarPath(release)} ${statPath(release)}$`,
      ),
    );
    const defaultEntry = changeOf(plan, 'default-entry');
    const after = lines.slice(receiptAt + 3);
    expect(after).toEqual(
      defaultEntry.steps.map((s) => (s.kind === 'run' ? `locked: ${s.argv.join(' ')}` : s.kind)),
    );
    for (const s of changeOf(plan, 'boot-entry').steps)
      if (s.kind === 'run') expect(lines.indexOf(`locked: ${s.argv.join(' ')}`)).toBeLessThan(receiptAt);

    const receipt = JSON.parse(t.files.get(receiptPath(release)) as string);
    expect(receipt).toMatchObject({
      receiptVersion: 1,
      release,
      buildId: plan.summary.buildId,
      installedAt: NOW,
      host: t.name,
    });
    expect(receipt.files.map((f: { path: string }) => f.path)).toEqual([
      `/boot/System.map-${release}`,
      `/boot/config-${release}`,
      `/boot/vmlinuz-${release}`,
      `/lib/modules/${release}/kernel/a.ko`,
    ]);
  });

  it('calls the controller for the build once, although build, ship and receipt steps all name it', async () => {
    const plan = fresh();
    const { builds, packed, events } = await run(plan);
    expect(builds).toEqual([plan.summary.buildId]);
    expect(packed).toEqual([expect.stringContaining('modules/hello')]);
    // the build's progress reaches the events, on the build step
    expect(events.map((x) => x.e)).toContainEqual(
      expect.objectContaining({ kind: 'line', line: `build ${plan.summary.buildId}: cached` }),
    );
  });

  it('holds the host lock for every command, except the staging directory made before an upload', async () => {
    const { t } = await run(fresh());
    const unlocked = t.runs().filter((c) => c.inner === null);
    expect(unlocked.length).toBeGreaterThan(0);
    // ship.ts makeUploadDir: mkdir, chmod and chown of the upload directory, and the sha256 of what
    // is there already (see the it.fails below)
    for (const c of unlocked)
      expect(c.argv.slice(0, 3).join(' ')).toMatch(/^sh -c mkdir -p "\$1" && chmod 0755 "\$1"/);
  });

  // Known gap (ship.ts makeUploadDir): preparing an upload directory changes the host (mkdir, chmod,
  // chown) without the lock that every other command holds. When it takes the lock, this test
  // fails: turn it into a plain `it`.
  it.fails('holds the host lock for every command that changes the host, the upload directory too', async () => {
    const { t } = await run(fresh());
    expect(t.runs().filter((c) => c.inner === null)).toEqual([]);
  });

  it('skips noop changes, and changes without steps, whatever steps they carry', async () => {
    const plan = fresh();
    const initramfs = changeOf(plan, 'initramfs');
    plan.changes = plan.changes.map((c) => (c === initramfs ? { ...c, action: 'no-op' as const } : c));
    plan.changes.splice(1, 0, { ...initramfs, id: 'initramfs[empty]', action: 'update', steps: [] });
    const { t, events, error } = await run(plan);
    expect(error).toBeUndefined();
    for (const s of initramfs.steps) {
      if (s.kind === 'run') expect(t.runs().some((c) => isCall(c, s.argv))).toBe(false);
      if (s.kind === 'write') expect(t.files.has(s.path)).toBe(false);
    }
    const ran = events.flatMap((x) => (x.e.kind === 'change' ? [x.e.change.id] : []));
    expect(ran).not.toContain(initramfs.id);
    expect(ran).not.toContain('initramfs[empty]');
    expect(ran).toContain(changeOf(plan, 'default-entry').id);
  });
});

describe('execute: a step that fails', () => {
  const installSteps: [string, Change['resource'], (argv: string[]) => boolean][] = [
    ['depmod', 'kernel', (a) => a[0] === 'depmod'],
    ['dkms add', 'dkms-module', (a) => a[0] === 'dkms' && a[1] === 'add'],
    ['update-initramfs', 'initramfs', (a) => a[0] === 'update-initramfs'],
    ['update-grub', 'boot-entry', (a) => a[0] === 'update-grub'],
  ];

  it.each(installSteps)(
    '%s exits 1: StepError naming host, change and step, with the output tail; nothing runs after it',
    async (_, resource, match) => {
      const plan = fresh();
      const change = changeOf(plan, resource);
      const step = runStep(change, match);
      const out = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
      const t = new FakeTransport().failWhen((c) => isCall(c, step.argv), {
        code: 1,
        stdout: out,
        stderr: 'fatal: it broke',
      });
      const { error, result } = await run(plan, t);
      expect(result).toBeUndefined();
      expect(error).toBeInstanceOf(StepError);
      const e = error as StepError;
      expect(e.message).toBe(`${t.name}: ${change.id}: ${step.title}: exited with 1`);
      expect([e.host, e.change, e.step]).toEqual([t.name, change, step]);
      expect(e.details).toEqual([
        ...Array.from({ length: 19 }, (_, i) => `line ${i + 12}`),
        'fatal: it broke',
      ]);
      // The failed command was the last one: no receipt, the default entry untouched, the journal left
      // for the next plan to resume from.
      const last = t.calls.at(-1) as Call;
      expect(isCall(last, step.argv)).toBe(true);
      const release = plan.summary.release;
      expect(t.files.has(receiptPath(release))).toBe(false);
      expect(t.files.has(pendingPath(release))).toBe(true);
      for (const s of changeOf(plan, 'default-entry').steps)
        if (s.kind === 'run') expect(t.runs().some((c) => isCall(c, s.argv))).toBe(false);
    },
  );

  it.each<[string, (c: Call) => boolean]>([
    ['while shipping the kernel', (c) => c.kind === 'put' && c.to.endsWith('/vmlinuz')],
    ['during update-grub', (c) => c.kind === 'run' && c.inner?.[0] === 'update-grub'],
  ])('a connection dropped %s: the HostError goes up, and nothing more is sent', async (_, match) => {
    const plan = fresh();
    const t = new FakeTransport().failWhen(match, 'disconnected');
    const { error } = await run(plan, t);
    expect(error).toBeInstanceOf(HostError);
    expect((error as HostError).kind).toBe('disconnected');
    expect(match(t.calls.at(-1) as Call)).toBe(true);
    expect(t.calls.filter(match)).toHaveLength(1);
    expect(t.files.has(receiptPath(plan.summary.release))).toBe(false);
  });

  it('a journal that cannot be written stops the apply before anything else', async () => {
    const plan = fresh();
    const how: Failure = { code: 1, stderr: 'No space left on device' };
    const t = new FakeTransport().failWhen(
      (c) => c.kind === 'run' && c.wrote?.path.includes('/pending/') === true,
      how,
    );
    const { error } = await run(plan, t);
    expect(error).toBeInstanceOf(HostError);
    expect((error as HostError).message).toMatch(/cannot write .*pending.*No space left on device/);
    expect(t.calls).toHaveLength(1);
  });
});

describe('execute: hand-made plans', () => {
  const step = {
    build: (buildId: string): Step => ({ kind: 'build', title: `build ${buildId}`, buildId }),
    ship: (buildId: string): Step => ({
      kind: 'ship',
      title: `ship ${buildId}`,
      buildId,
      to: stagingDir(buildId),
      sudo: true,
    }),
    run: (...argv: string[]): Step => ({ kind: 'run', title: argv.join(' '), argv, sudo: true }),
  };
  const change = (id: string, steps: Step[], action: Change['action'] = 'create'): Change => ({
    id,
    resource: 'kernel',
    action,
    before: null,
    after: null,
    reason: 'test',
    dependsOn: [],
    attributes: [],
    steps,
  });
  const hostPlan = (changes: Change[]): HostPlan => {
    const p = fresh();
    return { ...p, changes, buildIds: ['a'.repeat(64), 'b'.repeat(64)] };
  };
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);

  it('asks the controller for each build id once, in the order the steps need them', async () => {
    const plan = hostPlan([
      change('one', [step.build(A), step.ship(A)]),
      change('two', [step.build(B), step.ship(B), step.build(A)]),
      change('three', [step.ship(A), step.ship(B)]),
    ]);
    const { builds, error, t } = await run(plan);
    expect(error).toBeUndefined();
    expect(builds).toEqual([A, B]);
    // the second ship of a build finds nothing missing on the fake host, and sends everything again
    expect(t.calls.filter((c) => c.kind === 'put')).toHaveLength(20);
  });

  it('without a receipt step writes no journal; the commands run locked, in order', async () => {
    const plan = hostPlan([
      change('default', [step.run('grub-editenv', '/boot/grub/grubenv', 'set', 'saved_entry=x')]),
    ]);
    const { t, error, result } = await run(plan);
    expect(error).toBeUndefined();
    expect(t.lines()).toEqual(['locked: grub-editenv /boot/grub/grubenv set saved_entry=x']);
    expect(result).toMatchObject({ changes: 1, steps: 1, mutating: 1 });
  });

  it('a build-only plan changes nothing on the host', async () => {
    const { t, builds, result } = await run(hostPlan([change('k', [step.build(A)])]));
    expect(t.calls).toEqual([]);
    expect(builds).toEqual([A]);
    expect(result).toMatchObject({ steps: 1, mutating: 0 });
  });
});

describe('execute: a converged host', () => {
  it('the converged golden case (every change noop) runs no command and builds nothing', async () => {
    const plan = planCase('converged').plan;
    expect(plan.changes.length).toBeGreaterThan(0);
    expect(plan.changes.every((c) => c.action === 'no-op')).toBe(true);
    const { t, result, builds, events, error } = await run(plan);
    expect(error).toBeUndefined();
    expect(t.calls).toEqual([]);
    expect(builds).toEqual([]);
    expect(events).toEqual([]);
    expect(result).toEqual({ host: t.name, changes: 0, steps: 0, mutating: 0 });
  });
});
