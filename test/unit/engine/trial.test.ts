/**
 * A trial boot, live (src/engine/trial.ts), against a scripted host (test/helpers/fake-host.ts)
 * and a clock that moves only when slept on: reboot, wait for a new boot id, check the release,
 * run the health check; a failure is recorded on the host (trials/<release>.json, failed, with what
 * was seen) and reported with both releases and the boot ids; a host that came up unhealthy is
 * rebooted into its default first.
 */
import { describe, expect, it } from 'vitest';
import { ApplyError } from '../../../src/engine/errors.js';
import type { Target } from '../../../src/engine/targets.js';
import { runHealthCheck, type TrialEvent, type TrialRun, trialBoot } from '../../../src/engine/trial.js';
import { parseHostAddress } from '../../../src/host/address.js';
import type { RunResult } from '../../../src/host/transport.js';
import { decodeTrial } from '../../../src/receipt/decode.js';
import { trialPath } from '../../../src/receipt/paths.js';
import { MAX_HEALTH_OUTPUT, type Trial } from '../../../src/receipt/types.js';
import { type Boot, FakeHost, fakeClock } from '../../helpers/fake-host.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { BOOT_A, BOOT_B, BOOT_C } from '../../helpers/receipt-text.js';

const NAME = 'ssh://root@web-1:22';
const NEW = '6.1.120-web-kf65da743d';
const OLD = '6.1.119-web-kff0ca3e73';
const ENTRY = { release: NEW, id: `kernelfile-${NEW}`, cmdline: 'root=UUID=8c2f5d0e ro quiet' };
const CHECK = { command: 'systemctl is-system-running --wait', timeoutSeconds: 120 };

const target: Target = {
  name: 'web-1',
  address: parseHostAddress('ssh://root@web-1'),
  hostOptions: {},
  sudo: false,
  kernelfile: 'kernelfile.yaml',
};

/** A trial of NEW on a host running OLD (boot A) that comes back as `boots`. */
function trial(boots: Boot[], o: { health?: Partial<RunResult>; check?: TrialRun['healthCheck'] } = {}) {
  const host = new FakeHost(NAME, { release: OLD, bootId: BOOT_A }, boots, { health: o.health });
  const clock = fakeClock();
  const events: TrialEvent[] = [];
  const run: TrialRun = {
    target,
    transport: host.connect(),
    entry: ENTRY,
    previous: OLD,
    healthCheck: o.check === undefined ? null : o.check,
    timeoutMs: 600_000,
  };
  const go = () =>
    trialBoot(run, {
      connect: host.reconnect,
      sleep: clock.sleep,
      now: clock.now,
      emit: (e) => events.push(e),
    });
  return { host, clock, events, run, go };
}

async function failure(p: Promise<unknown>): Promise<ApplyError> {
  const e = await p.then(
    () => {
      throw new Error('the trial passed');
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ApplyError);
  return e as ApplyError;
}

/** The record the trial left on the host, decoded. */
function recordOn(host: FakeHost): Trial {
  const text = host.files().get(trialPath(NEW));
  if (text === undefined) throw new Error('no trial record written');
  const d = decodeTrial(text, `${NEW}.json`);
  if (!d.ok) throw new Error(d.error);
  return d.value;
}

/** The reboot requests, as `sh -c '(sleep 1; systemctl reboot …) &'` runs with sudo. */
const rebootsOn = (t: FakeTransport) =>
  t.runs().filter((c) => c.argv[0] === 'sh' && c.argv[2]?.includes('systemctl reboot'));

describe('a trial that passes', () => {
  it('without a health check: rebooted once, up in the new release; nothing written', async () => {
    const t = trial([{ release: NEW, bootId: BOOT_B }]);
    await expect(t.go()).resolves.toEqual({ seconds: 15 });
    expect(t.events).toEqual([
      { phase: 'rebooting', release: NEW },
      { phase: 'up', release: NEW, seconds: 15 },
    ]);
    // The boot id is read on the planned connection before the reboot is requested there.
    const first = t.run.transport as FakeTransport;
    expect(first.runs().map((c) => c.argv[0])).toEqual(['cat', 'sh']);
    expect(rebootsOn(first)[0]?.opts?.sudo).toBe(true);
    // Probed every 5 s with a short connect timeout: down, down, up.
    expect(t.host.log).toEqual([`reboot requested in ${BOOT_A}`, 'down', 'down', `up ${NEW} ${BOOT_B}`]);
    expect(t.host.gathered).toEqual([
      { connectTimeoutMs: 10_000 },
      { connectTimeoutMs: 10_000 },
      { connectTimeoutMs: 10_000 },
    ]);
    expect(t.host.files().size).toBe(0);
  });

  it('with a health check that passes: it runs as root under `timeout`, on a new connection', async () => {
    const t = trial([{ release: NEW, bootId: BOOT_B }], { check: CHECK });
    await expect(t.go()).resolves.toEqual({ seconds: 15 });
    const runs = t.host.transports.flatMap((x) => x.runs()).filter((c) => c.argv[0] === 'timeout');
    expect(runs.map((c) => c.argv)).toEqual([
      ['timeout', '-k', '10', '120', 'sh', '-c', 'systemctl is-system-running --wait'],
    ]);
    expect(runs[0]?.opts).toMatchObject({ sudo: true, timeoutMs: 150_000 });
    expect(t.events.at(-1)).toEqual({ phase: 'health', release: NEW, ok: true });
    // On a connection of its own, after the probe's (a fresh system), not the planned one.
    expect((t.run.transport as FakeTransport).runs().some((c) => c.argv[0] === 'timeout')).toBe(false);
    expect(t.host.files().size).toBe(0);
  });
});

describe('a trial that fails', () => {
  it('back on another release: an ApplyError naming both, the boot ids in its details, the failure recorded', async () => {
    const t = trial([{ release: OLD, bootId: BOOT_B }]);
    const e = await failure(t.go());
    expect(e.message).toBe(
      `${NAME}: the trial boot of ${NEW} failed: came back after 15 s running ${OLD}, not ${NEW}: the trial boot of the new kernel failed and the previous default booted`,
    );
    expect(e.details).toEqual([`boot id before the reboot: ${BOOT_A}`, `after: ${BOOT_B}, running ${OLD}`]);
    expect(e.hint).toMatch(/previous default is unchanged.*--retry-trial.*kernelfile rollback/);
    const record = recordOn(t.host);
    expect(record).toEqual({
      trialVersion: 1,
      release: NEW,
      entry: ENTRY.id,
      cmdline: ENTRY.cmdline,
      bootId: BOOT_A,
      state: 'failed',
      failedAt: '2026-12-02T09:00:15.000Z', // the fake clock, 15 s in
      seenRelease: OLD,
      seenBootId: BOOT_B,
      reason: `came back after 15 s running ${OLD}, not ${NEW}: the trial boot of the new kernel failed and the previous default booted`,
      health: null,
    });
    // Written as root through the executor's write (under the per-command lock), on a new connection.
    const writes = t.host.transports.flatMap((x) => x.runs()).filter((c) => c.wrote);
    expect(writes.map((c) => c.wrote?.path)).toEqual([trialPath(NEW)]);
    expect(writes[0]?.opts?.sudo).toBe(true);
    expect(t.events.map((x) => x.phase)).toEqual(['rebooting']);
  });

  it('the health check fails: recorded with its output, rebooted back into the previous release', async () => {
    const health = { code: 3, stdout: 'degraded\n', stderr: 'unit nginx.service failed\n' };
    const t = trial(
      [
        { release: NEW, bootId: BOOT_B },
        { release: OLD, bootId: BOOT_C },
      ],
      { check: CHECK, health },
    );
    const e = await failure(t.go());
    expect(e.message).toBe(
      `${NAME}: the trial boot of ${NEW} failed: ${NEW} came up but its health check exited 3; rebooted back into ${OLD}`,
    );
    expect(e.details).toEqual([
      `boot id before the reboot: ${BOOT_A}`,
      `after: ${BOOT_B}, running ${NEW}`,
      'health check `systemctl is-system-running --wait` exited 3:',
      'degraded',
      'unit nginx.service failed',
    ]);
    const record = recordOn(t.host);
    expect(record).toMatchObject({
      state: 'failed',
      bootId: BOOT_A,
      seenRelease: NEW,
      seenBootId: BOOT_B,
      reason: `${NEW} came up but its health check exited 3`,
      health: { command: CHECK.command, code: 3, output: 'degraded\nunit nginx.service failed\n' },
    });
    expect(record.failedAt).toMatch(/^2026-12-02T09:00:15\.000Z$/);
    // Two reboots: the trial, and back into the default (the one-time entry is used up), the
    // second only once the failure is on the host.
    expect(t.host.log.filter((l) => l.startsWith('reboot requested'))).toEqual([
      `reboot requested in ${BOOT_A}`,
      `reboot requested in ${BOOT_B}`,
    ]);
    const back = t.host.transports.find((x) => rebootsOn(x).length && x !== t.run.transport);
    expect(back?.lines().map((l) => l.replace(/^run: sh -c .*/, 'reboot'))).toEqual([
      `write ${trialPath(NEW)}`,
      'reboot',
    ]);
    expect(t.host.log.at(-1)).toBe(`up ${OLD} ${BOOT_C}`);
    expect(t.events).toEqual([
      { phase: 'rebooting', release: NEW },
      { phase: 'up', release: NEW, seconds: 15 },
      { phase: 'health', release: NEW, ok: false },
      { phase: 'fallback', release: NEW, to: OLD },
    ]);
  });

  it('the health check fails and the default does not come back: said so, the failure still recorded', async () => {
    const t = trial([{ release: NEW, bootId: BOOT_B }], { check: CHECK, health: { code: 1 } });
    const e = await failure(t.go());
    expect(e.message).toMatch(
      /health check exited 1; rebooted into its default, which did not come back within 600 s$/,
    );
    expect(recordOn(t.host).state).toBe('failed');
  });

  it('never comes back: an error saying so; nothing written (there is no host to write to)', async () => {
    const t = trial([]);
    const e = await failure(t.go());
    expect(e.message).toBe(
      `${NAME}: the trial boot of ${NEW} failed: did not come back within 600 s (the previous default is still the default: a reset boots it)`,
    );
    expect(e.details).toEqual([`boot id before the reboot: ${BOOT_A}`, 'after: not seen, running unknown']);
    expect(t.host.files().size).toBe(0);
    expect(t.clock.elapsed()).toBe(600_000);
  });

  it('still up at the first probe, then down for good: it did not come back (not "did not reboot")', async () => {
    // A host takes a while to shut down: the first probe often still sees the old system.
    const host = new FakeHost(NAME, { release: OLD, bootId: BOOT_A }, [], { staysUp: 1 });
    const clock = fakeClock();
    const run: TrialRun = { ...trial([]).run, transport: host.connect() };
    const e = await failure(
      trialBoot(run, { connect: host.reconnect, sleep: clock.sleep, now: clock.now, emit: () => {} }),
    );
    expect(host.log.slice(0, 3)).toEqual([`reboot requested in ${BOOT_A}`, `up ${OLD} ${BOOT_A}`, 'down']);
    expect(e.message).toMatch(
      /did not come back within 600 s \(the previous default is still the default: a reset boots it\)$/,
    );
  });

  it('never goes down: the one-time entry is still armed, nothing written', async () => {
    const host = new FakeHost(NAME, { release: OLD, bootId: BOOT_A }, [], { staysUp: 1000 });
    const clock = fakeClock();
    const run: TrialRun = {
      target,
      transport: host.connect(),
      entry: ENTRY,
      previous: OLD,
      healthCheck: null,
      timeoutMs: 60_000,
    };
    const e = await failure(
      trialBoot(run, { connect: host.reconnect, sleep: clock.sleep, now: clock.now, emit: () => {} }),
    );
    expect(e.message).toMatch(
      /did not reboot within 60 s \(the same boot id answered throughout; the one-time entry is still armed\)$/,
    );
    expect(host.files().size).toBe(0);
  });
});

describe('runHealthCheck', () => {
  it('stdout then stderr, on a line of its own', async () => {
    const r = await runHealthCheck(
      new FakeTransport(NAME, () => ({ code: 1, stdout: 'no newline', stderr: 'err\n' })),
      CHECK,
    );
    expect(r).toEqual({ ok: false, code: 1, output: 'no newline\nerr\n' });
  });

  it('killed by `timeout` (124, or 137 after -k): said in the output', async () => {
    for (const code of [124, 137]) {
      const r = await runHealthCheck(new FakeTransport(NAME, () => ({ code, stdout: 'waiting\n' })), {
        command: 'sleep 999',
        timeoutSeconds: 5,
      });
      expect(r).toEqual({ ok: false, code, output: 'waiting\n(timed out after 5 s)\n' });
    }
  });

  it('keeps the end of a long output', async () => {
    const stdout = `${'x'.repeat(MAX_HEALTH_OUTPUT)}the end\n`;
    const r = await runHealthCheck(new FakeTransport(NAME, () => ({ code: 2, stdout })), CHECK);
    expect(r.output).toHaveLength(MAX_HEALTH_OUTPUT);
    expect(r.output.endsWith('the end\n')).toBe(true);
  });

  it('a check that cannot run failed, without an exit status', async () => {
    const t = new FakeTransport(NAME).failWhen(() => true, 'disconnected');
    const r = await runHealthCheck(t, CHECK);
    expect(r.ok).toBe(false);
    expect(r.code).toBeNull();
    expect(r.output).toMatch(/^could not run: .*connection dropped/);
  });
});
