/**
 * The engine's one apply path (Rollout) over in-memory transports: one host is a rollout of one;
 * a fleet goes in batches with a canary and a failure budget; every distinct build is made once
 * before the first batch; the build id is checked; lost connections are reopened only onto
 * unchanged facts; a failed step says the next apply resumes. Plans come from the real planner's
 * golden cases; builds are fakes (no process).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest, Prepared } from '../../../src/compile/build.js';
import {
  type ApplyEvent,
  type ApplyOptions,
  Rollout,
  type RolloutSession,
} from '../../../src/engine/apply.js';
import { ApplyError, UserError } from '../../../src/engine/errors.js';
import type { Loaded } from '../../../src/engine/kernelfile.js';
import type { FleetHost, PlannedHost } from '../../../src/engine/planning.js';
import { parseHostAddress } from '../../../src/host/address.js';
import { plan } from '../../../src/plan/planner.js';
import { decodeTrial } from '../../../src/receipt/decode.js';
import { receiptPath, trialPath } from '../../../src/resources/layout.js';
import { fakeArtifactsDir, fakeManifest } from '../../helpers/fake-artifacts.js';
import { FakeHost } from '../../helpers/fake-host.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { kfEntryId, loadCase, planCase, planOptions } from '../../helpers/plan-fixtures.js';
import { BOOT_A, BOOT_B, BOOT_C } from '../../helpers/receipt-text.js';

const tmp = mkdtempSync(join(tmpdir(), 'kf-rollout-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function artifacts(buildId: string, release: string): { dir: string; manifest: Manifest } {
  return { dir: fakeArtifactsDir(tmp, buildId), manifest: fakeManifest(buildId, release, 1000) };
}

function planned(name: string, caseName: string, transport = new FakeTransport(`ssh://root@${name}:22`)) {
  const c = planCase(caseName);
  const host: PlannedHost = {
    target: {
      name,
      address: parseHostAddress(`ssh://root@${name}`),
      hostOptions: {},
      sudo: false,
      kernelfile: 'kernelfile.yaml',
    },
    loaded: {} as Loaded,
    transport,
    facts: c.facts,
    prepared: { buildId: c.desired.buildId, release: c.desired.release } as Prepared,
    desired: c.desired,
    plan: c.plan,
    diagnostics: [],
  };
  return { ok: true as const, ...host, fake: transport };
}

/** A rollout over fake builds; `headersNeed` is what the built headers' host tools need. */
function rollout(
  options: ApplyOptions = {},
  session: Partial<RolloutSession> = {},
  headersNeed?: Manifest['headersNeed'],
) {
  const events: ApplyEvent[] = [];
  const built: string[] = [];
  const r = new Rollout(
    {
      gather: session.gather ?? (async () => Promise.reject(new Error('no reconnect expected'))),
      connect:
        session.connect ??
        (session.gather
          ? async (t) => (await (session.gather as RolloutSession['gather'])(t)).transport
          : async () => Promise.reject(new Error('no reconnect expected'))),
      planTarget: session.planTarget ?? (async () => Promise.reject(new Error('no replan expected'))),
    },
    { yes: true, ...options, onEvent: (e) => events.push(e) },
    {
      build: async (p) => {
        built.push(p.buildId);
        const a = artifacts(p.buildId, p.release);
        return headersNeed === undefined ? a : { ...a, manifest: { ...a.manifest, headersNeed } };
      },
      packSource: async () => {
        const source = join(tmp, 'source.tar');
        writeFileSync(source, 'a module source\n');
        return source;
      },
      sleep: async () => {},
    },
  );
  return { r, events, built };
}

const failOn = (cmd: string) => (c: Parameters<Parameters<FakeTransport['failWhen']>[0]>[0]) =>
  c.kind === 'run' && (c.inner ?? c.argv).includes(cmd);

describe('one host is a rollout of one', () => {
  it('converges it: the build once, the plan executed, the receipt written', async () => {
    const h = planned('web-1', 'fresh-grub');
    const { r, built } = rollout();
    const res = await r.run([h]);
    expect(res.failed).toBe(0);
    expect(res.outcomes.map((o) => [o.name, o.result])).toEqual([['web-1', 'converged']]);
    expect(res.outcomes[0]?.executed?.changes).toBeGreaterThan(0);
    expect(built).toEqual([h.prepared.buildId]);
    expect(h.fake.files.has(receiptPath(h.desired.release))).toBe(true);
  });

  it('a failed step is an ApplyError that says the previous default stays and the next apply resumes', async () => {
    const t = new FakeTransport('ssh://root@web-1:22').failWhen(failOn('update-grub'), {
      code: 1,
      stderr: 'grub-probe: error: failed',
    });
    const h = planned('web-1', 'fresh-grub', t);
    const res = await rollout().r.run([h]);
    const o = res.outcomes[0];
    expect(o?.result).toBe('failed');
    expect(o?.cause).toBeInstanceOf(ApplyError);
    expect(o?.hint).toMatch(/previous default boot entry is unchanged.*resumes where this one stopped/);
    expect((o as { cause: ApplyError }).cause.details.join('\n')).toMatch(/grub-probe: error: failed/);
    // Nothing after the failed step: no default entry was set.
    expect(
      t.runs().some((c) => (c.inner ?? c.argv).some((a) => a.startsWith('saved_entry=kernelfile-'))),
    ).toBe(false);
  });

  it('refuses a plan whose build id the kernelfile no longer resolves to, before changing the host', async () => {
    const h = planned('web-1', 'fresh-grub');
    h.prepared = { ...h.prepared, buildId: 'f'.repeat(64) } as Prepared;
    const res = await rollout().r.run([h]);
    expect(res.outcomes[0]?.result).toBe('failed');
    expect(res.outcomes[0]?.detail).toMatch(
      /the plan wants build [0-9a-f]{12}, the kernelfile now resolves to ffffffffffff/,
    );
  });

  it('without --yes and no way to ask, refuses before anything runs; a "no" changes nothing', async () => {
    const h = planned('web-1', 'fresh-grub');
    await expect(rollout({ yes: false }).r.run([h])).rejects.toThrow(UserError);
    await expect(rollout({ yes: false }).r.run([h])).rejects.toThrow(/confirm with --yes/);
    const asked: string[] = [];
    const res = await rollout({
      yes: false,
      confirm: async (what) => {
        asked.push(what);
        return false;
      },
    }).r.run([h]);
    expect(asked).toEqual(['ssh://root@web-1:22']);
    expect(res.failed).toBe(-1);
    expect(h.fake.calls).toEqual([]);
  });

  it('a host lost mid-apply is unreachable, not failed', async () => {
    const t = new FakeTransport('ssh://root@web-1:22').failWhen(failOn('depmod'), 'disconnected');
    const res = await rollout().r.run([planned('web-1', 'fresh-grub', t)]);
    expect(res.outcomes[0]?.result).toBe('unreachable');
  });
});

describe('a build that was not cached at plan time (issue 12, defect 12)', () => {
  it('is checked against the host libraries once built: a host without libelf.so.1 is refused before anything changes', async () => {
    const h = planned('web-1', 'fresh-grub');
    // The host's loader finds libc but not libelf; the plan could not check (the build was not cached).
    h.facts = {
      ...h.facts,
      libs: { dirs: ['/usr/lib/x86_64-linux-gnu'], sonames: ['libc.so.6'], glibc: '2.36' },
    };
    const { r } = rollout({}, {}, { sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.34' });
    const res = await r.run([h]);
    const o = res.outcomes[0];
    expect(o?.result).toBe('failed');
    expect(o?.detail).toBe(
      `the headers of ${h.desired.release} cannot build kernelfile-hello 1.0 on ssh://root@web-1:22: their host tools (objtool, modpost…) need libelf.so.1, which ssh://root@web-1:22 lacks. Nothing was changed on the host`,
    );
    expect(o?.hint).toBe(
      'plan again: the build is in the cache now, and the plan builds kernelfile-hello 1.0 on the controller',
    );
    // Nothing was uploaded, written or run on the host but the liveness probe (the lock is the
    // fake's keeper, not a call).
    expect(h.fake.calls.filter((c) => !(c.kind === 'run' && c.argv.join(' ') === 'true'))).toEqual([]);
  });

  it('a host that has them is applied as planned', async () => {
    const h = planned('web-1', 'fresh-grub');
    h.facts = {
      ...h.facts,
      libs: { dirs: ['/usr/lib/x86_64-linux-gnu'], sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.36' },
    };
    const { r } = rollout({}, {}, { sonames: ['libc.so.6', 'libelf.so.1'], glibc: '2.34' });
    const res = await r.run([h]);
    expect(res.outcomes.map((o) => o.result)).toEqual(['converged']);
  });
});

describe('a fleet', () => {
  it('builds each distinct build once before the first batch, then goes batch by batch', async () => {
    const hosts = ['web-1', 'web-2', 'web-3'].map((n) => planned(n, 'fresh-grub'));
    const { r, events, built } = rollout({ serial: '1' });
    const res = await r.run(hosts);
    expect(res.outcomes.map((o) => o.result)).toEqual(['converged', 'converged', 'converged']);
    expect(built).toHaveLength(1);
    const kinds = events.filter((e) => e.type === 'build' || e.type === 'batch').map((e) => e.type);
    expect(kinds.slice(0, 3)).toEqual(['build', 'build', 'batch']);
    expect(events.filter((e) => e.type === 'batch').map((e) => (e.type === 'batch' ? e.hosts : []))).toEqual([
      ['web-1'],
      ['web-2'],
      ['web-3'],
    ]);
  });

  it('stops when the canary batch fails; the rest are skipped untouched', async () => {
    const bad = new FakeTransport('ssh://root@web-1:22').failWhen(failOn('depmod'), { code: 1 });
    const hosts = [
      planned('web-1', 'fresh-grub', bad),
      planned('web-2', 'fresh-grub'),
      planned('web-3', 'fresh-grub'),
    ];
    const { r, events } = rollout({ serial: '1' });
    const res = await r.run(hosts);
    expect(res.outcomes.map((o) => o.result)).toEqual(['failed', 'skipped', 'skipped']);
    expect(res.outcomes[1]?.detail).toBe('not applied: the canary batch failed (1 of 1 host)');
    expect(hosts[1]?.fake.calls).toEqual([]);
    expect(events.some((e) => e.type === 'stop')).toBe(true);
  });

  it('stops once more hosts failed than --max-fail allows', async () => {
    const failing = (n: string) =>
      new FakeTransport(`ssh://root@${n}:22`).failWhen(failOn('depmod'), { code: 1 });
    const hosts = [
      planned('a', 'fresh-grub'),
      planned('b', 'fresh-grub', failing('b')),
      planned('c', 'fresh-grub', failing('c')),
      planned('d', 'fresh-grub'),
    ];
    const res = await rollout({ serial: '1', maxFail: '25%' }).r.run(hosts);
    expect(res.outcomes.map((o) => o.result)).toEqual(['converged', 'failed', 'failed', 'skipped']);
    expect(res.outcomes[3]?.detail).toMatch(/2 of 4 hosts failed, more than --max-fail 25% allows/);
    expect(res.failed).toBe(3);
  });

  it('reports unreachable and impossible hosts, leaves converged ones unchanged, and applies the rest', async () => {
    const down: FleetHost = {
      ok: false,
      target: { ...planned('down', 'fresh-grub').target, name: 'down' },
      unreachable: true,
      error: 'ssh://root@down:22: connection refused',
      cause: new Error('refused'),
    };
    const hosts: FleetHost[] = [
      down,
      planned('full', 'boot-too-small'),
      planned('done', 'converged'),
      planned('new', 'fresh-grub'),
    ];
    const res = await rollout().r.run(hosts);
    expect(res.outcomes.map((o) => [o.name, o.result])).toEqual([
      ['down', 'unreachable'],
      ['full', 'failed'],
      ['done', 'unchanged'],
      ['new', 'converged'],
    ]);
    expect(res.outcomes[1]?.detail).toMatch(/^not possible: .*free/);
  });
});

describe('a connection lost while its host waited', () => {
  const lost = () =>
    new FakeTransport('ssh://root@web-2:22').failWhen(
      (c) => c.kind === 'run' && c.argv[0] === 'true',
      'disconnected',
    );

  it('is opened again, and the host applied over the new one when its facts are unchanged', async () => {
    const h = planned('web-2', 'fresh-grub', lost());
    const fresh = new FakeTransport('ssh://root@web-2:22');
    const { r, events } = rollout({}, { gather: async () => ({ transport: fresh, facts: h.facts }) });
    const res = await r.run([h]);
    expect(res.outcomes[0]?.result).toBe('converged');
    expect(events.some((e) => e.type === 'reconnected' && e.host === 'web-2')).toBe(true);
    expect(fresh.files.has(receiptPath(h.desired.release))).toBe(true);
  });

  it('is not used when the facts changed since the plan: nothing runs', async () => {
    const h = planned('web-2', 'fresh-grub', lost());
    const fresh = new FakeTransport('ssh://root@web-2:22');
    const { r } = rollout(
      {},
      { gather: async () => ({ transport: fresh, facts: { ...h.facts, digest: 'changed' } }) },
    );
    const res = await r.run([h]);
    expect(res.outcomes[0]?.result).toBe('failed');
    expect(res.outcomes[0]?.detail).toMatch(
      /reconnected, but its facts changed since the plan; nothing was changed/,
    );
    expect(fresh.calls).toEqual([]);
  });
});

describe('apply --reboot: a trial boot per host', () => {
  /** version-bump with boot.trial: 6.1.119 runs and is the default; the plan installs 6.1.120 and arms it. */
  const OLD = loadCase('version-bump').facts.system.running as string;
  const NEW = loadCase('version-bump').desired.release;

  /** The trial record a host keeps for 6.1.120, decoded. */
  function recordOn(host: FakeHost) {
    const d = decodeTrial(host.files().get(trialPath(NEW)) ?? '', `${NEW}.json`);
    if (!d.ok) throw new Error(d.error);
    return d.value;
  }

  /** A host of the fleet that comes back from its reboot as `boots`. */
  function trialHost(name: string, boots: { release: string; bootId: string }[]) {
    const host = new FakeHost(`ssh://root@${name}:22`, { release: OLD, bootId: BOOT_A }, boots);
    const h = planned(name, 'version-bump', host.connect());
    h.facts = { ...h.facts, system: { ...h.facts.system, bootId: BOOT_A } };
    h.desired = { ...h.desired, boot: { ...h.desired.boot, trial: true } };
    h.plan = plan(h.desired, h.facts, planOptions(h.facts));
    return { h, host };
  }

  it('the plan arms the trial (a one-time entry and its record), so the reboot is a trial', () => {
    const { h } = trialHost('web-1', []);
    expect(h.plan.changes.find((c) => c.resource === 'trial')?.action).toBe('create');
    expect(h.plan.entry?.trial).toBe(true);
  });

  it('a canary whose trial fails stops the rollout: the other hosts are skipped, untouched', async () => {
    const canary = trialHost('web-1', [{ release: OLD, bootId: BOOT_B }]);
    const others = ['web-2', 'web-3'].map((n) => trialHost(n, [{ release: NEW, bootId: BOOT_C }]));
    const hosts = [canary, ...others];
    const gather = async (t: { name: string; hostOptions: { connectTimeoutMs?: number } }) => {
      const host = hosts.find((x) => x.h.target.name === t.name)?.host;
      if (!host) throw new Error(`no host ${t.name}`);
      return host.gather(t);
    };
    const { r, events } = rollout(
      { serial: '1', reboot: true, rebootTimeoutMs: 60_000 },
      { gather: gather as RolloutSession['gather'] },
    );
    const res = await r.run(hosts.map((x) => x.h));
    expect(res.outcomes.map((o) => [o.name, o.result])).toEqual([
      ['web-1', 'failed'],
      ['web-2', 'skipped'],
      ['web-3', 'skipped'],
    ]);
    expect(res.failed).toBe(3);
    const [failed] = res.outcomes;
    expect(failed?.cause).toBeInstanceOf(ApplyError);
    expect(failed?.detail).toMatch(
      new RegExp(
        `^ssh://root@web-1:22: the trial boot of ${NEW}.* failed: came back after \\d+ s running ${OLD}, not ${NEW}`,
      ),
    );
    expect(failed?.hint).toMatch(/--retry-trial/);
    // The stop, reported as an event and as the skipped hosts' detail.
    const stop = events.find((e) => e.type === 'stop');
    expect(stop).toEqual({ type: 'stop', reason: 'the canary batch failed (1 of 1 host)' });
    expect(res.outcomes[1]?.detail).toBe('not applied: the canary batch failed (1 of 1 host)');
    for (const o of others) expect(o.host.transports.flatMap((t) => t.calls)).toEqual([]);
    // The canary: its plan executed (armed, recorded), rebooted once, the failure recorded, and
    // the default never changed.
    expect(recordOn(canary.host)).toMatchObject({
      state: 'failed',
      seenRelease: OLD,
      seenBootId: BOOT_B,
      bootId: BOOT_A,
    });
    expect(canary.host.log.filter((l) => l.startsWith('reboot requested'))).toHaveLength(1);
    const runs = canary.host.transports.flatMap((t) => t.runs().map((c) => (c.inner ?? c.argv).join(' ')));
    expect(runs.some((c) => c.includes(`next_entry=${kfEntryId(NEW)}`))).toBe(true);
    expect(runs.some((c) => c.includes('saved_entry='))).toBe(false);
    expect(
      events.filter((e) => e.type === 'reboot').map((e) => (e.type === 'reboot' ? [e.host, e.phase] : [])),
    ).toEqual([['web-1', 'rebooting']]);
  });

  it('a trial an earlier apply armed (nothing left to change): apply --reboot boots it; without --reboot it is unchanged', async () => {
    const pending = () => {
      const host = new FakeHost('ssh://root@web-1:22', { release: OLD, bootId: BOOT_A }, [
        { release: NEW, bootId: BOOT_B },
      ]);
      return { host, h: planned('web-1', 'trial-pending', host.connect()) };
    };
    const idle = pending();
    expect(idle.h.plan.changes.find((c) => c.resource === 'trial')?.action).toBe('no-op');
    const plain = rollout({});
    expect((await plain.r.run([idle.h])).outcomes.map((o) => [o.name, o.result])).toEqual([
      ['web-1', 'unchanged'],
    ]);

    const { h, host } = pending();
    const { r, events } = rollout(
      { reboot: true, rebootTimeoutMs: 60_000 },
      {
        gather: host.gather as RolloutSession['gather'],
        planTarget: async () => {
          const after = planned('web-1', 'trial-booted', host.connect());
          return after;
        },
      },
    );
    const res = await r.run([h]);
    expect(res.outcomes.map((o) => [o.result, o.detail])).toEqual([
      ['converged', `rebooted into ${NEW}, now the default`],
    ]);
    expect(host.log[0]).toBe(`reboot requested in ${BOOT_A}`);
    expect(
      events.filter((e) => e.type === 'reboot').map((e) => (e.type === 'reboot' ? e.phase : '')),
    ).toEqual(['rebooting', 'up', 'default']);
  });

  it('a trial that passes: the host is planned again and the default set, the trial record removed', async () => {
    const { h, host } = trialHost('web-1', [{ release: NEW, bootId: BOOT_B }]);
    const again = async (): Promise<PlannedHost> => {
      // The host after its trial boot: trial-booted (6.1.120 runs, 6.1.119 still the default), with
      // the record the apply wrote.
      const after = planned(
        'web-1',
        'trial-booted',
        (await host.gather({ hostOptions: {} })).transport as FakeTransport,
      );
      after.facts = {
        ...after.facts,
        system: { ...after.facts.system, bootId: BOOT_B },
        receipts: {
          ...after.facts.receipts,
          trials: [{ file: trialPath(NEW), release: NEW, data: recordOn(host) }],
        },
      };
      after.plan = plan(after.desired, after.facts, planOptions(after.facts));
      return after;
    };
    const replans: unknown[] = [];
    const { r, events } = rollout(
      { reboot: true, rebootTimeoutMs: 60_000 },
      {
        gather: host.gather as RolloutSession['gather'],
        planTarget: async (t, trial) => {
          replans.push([t.name, trial]);
          return again();
        },
      },
    );
    const res = await r.run([h]);
    expect(res.outcomes.map((o) => [o.result, o.detail])).toEqual([
      ['converged', `rebooted into ${NEW}, now the default`],
    ]);
    expect(replans).toEqual([['web-1', true]]);
    const last = host.transports.at(-1) as FakeTransport;
    expect(last.runs().map((c) => (c.inner ?? c.argv).join(' '))).toEqual(
      expect.arrayContaining([
        `grub-editenv /boot/grub/grubenv set saved_entry=${kfEntryId(NEW)}`,
        `rm -f ${trialPath(NEW)}`,
      ]),
    );
    expect(
      events.filter((e) => e.type === 'reboot').map((e) => (e.type === 'reboot' ? e.phase : '')),
    ).toEqual(['rebooting', 'up', 'default']);
  });
});
