/**
 * The host lock protocol of the executor (src/apply/host-lock.ts), over the fake transport: one
 * keeper taken before the first call that touches the host and released after the last, a busy
 * lock refused by its holder's name (host data: escaped), a wait passed on, released on failure.
 */
import { describe, expect, it } from 'vitest';
import { type Controller, execute } from '../../../src/apply/executor.js';
import { describeHolder, HOST_LOCK, KEEPER, type LockHolder } from '../../../src/apply/host-lock.js';
import { HostError } from '../../../src/host/transport.js';
import type { HostPlan, Step } from '../../../src/plan/types.js';
import { FakeTransport } from '../../helpers/fake-transport.js';

const HOLDER: LockHolder = {
  controller: 'ci-runner-3',
  pid: 4242,
  startedAt: '2026-12-01T10:00:00.000Z',
  kernelfile: 'web/kernelfile.yaml',
};

function controller(waitMs?: number): Controller {
  const refuse = async (): Promise<never> => {
    throw new Error('not in this test');
  };
  return {
    build: refuse,
    packSource: refuse,
    dkmsTarball: refuse,
    now: () => '2026-12-01T10:00:00.000Z',
    lock: { holder: HOLDER, ...(waitMs !== undefined ? { waitMs } : {}) },
  };
}

/** A hand-made plan of write and run steps (the shape of what a second apply would do). */
function plan(steps: Step[]): HostPlan {
  return {
    host: 'ssh://root@web-1:22',
    factsDigest: 'x',
    factsFamilies: {},
    summary: {
      name: 'web',
      distro: null,
      arch: null,
      running: null,
      loader: null,
      loaderMode: null,
      initramfs: null,
      release: '6.1.1-kf00000000',
      buildId: '0'.repeat(64),
    },
    buildIds: [],
    changes: [
      {
        id: 'boot-entry[a]',
        resource: 'boot-entry',
        action: 'create',
        before: null,
        after: 'a',
        reason: 'test',
        dependsOn: [],
        attributes: [],
        steps,
      },
    ],
    problems: [],
    notes: [],
    config: {
      from: null,
      base: null,
      release: null,
      buildId: null,
      fallback: null,
      added: [],
      removed: [],
      changed: [],
    },
    modules: [],
    entry: null,
    kept: [],
    rollback: null,
  };
}

const write = (path: string): Step => ({
  kind: 'write',
  title: `write ${path}`,
  path,
  content: 'x\n',
  mode: 0o644,
  sudo: true,
});
const run = (argv: string[]): Step => ({ kind: 'run', title: argv.join(' '), argv, sudo: true });

describe('execute holds one host lock for the whole apply', () => {
  it('taken before the first call that touches the host, released after the last', async () => {
    const t = new FakeTransport();
    await execute(
      t,
      plan([write('/etc/kernelfile/a'), run(['update-grub']), write('/etc/kernelfile/b')]),
      controller(),
    );
    expect(t.calls.length).toBeGreaterThan(2);
    expect(t.heldAt).toHaveLength(t.calls.length);
    expect(t.heldAt.every(Boolean)).toBe(true);
    expect(t.lockLog).toEqual([`acquire wait=0 holder=${JSON.stringify(HOLDER)}`, 'release']);
    expect(t.lockHeld).toBe(false);
  });

  it('a second apply fails fast naming the holder; nothing is run', async () => {
    const t = new FakeTransport().lockedBy(`${JSON.stringify(HOLDER)}\n`);
    const e = await execute(t, plan([write('/etc/kernelfile/a')]), controller()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HostError);
    expect((e as HostError).kind).toBe('locked');
    expect((e as HostError).message).toBe(
      'ssh://root@web-1:22: is being applied by controller ci-runner-3 (pid 4242) since 2026-12-01T10:00:00.000Z, kernelfile web/kernelfile.yaml; nothing was changed',
    );
    expect((e as HostError).hint).toContain('--lock-timeout SECONDS');
    expect(t.calls).toEqual([]);
    expect(t.lockLog).toEqual([`acquire wait=0 holder=${JSON.stringify(HOLDER)}`]);
  });

  it('with a lock timeout, the keeper waits that long (whole seconds) and the refusal says so', async () => {
    const t = new FakeTransport().lockedBy(JSON.stringify(HOLDER));
    const e = await execute(t, plan([write('/etc/kernelfile/a')]), controller(29_500)).catch(
      (x: unknown) => x,
    );
    expect(t.lockLog[0]).toMatch(/^acquire wait=30 /);
    expect((e as Error).message).toContain('still after waiting 30 s; nothing was changed');
  });

  it('a lock that is free within the timeout is taken, and the apply runs', async () => {
    const t = new FakeTransport();
    await execute(t, plan([write('/etc/kernelfile/a')]), controller(60_000));
    expect(t.lockLog).toEqual([`acquire wait=60 holder=${JSON.stringify(HOLDER)}`, 'release']);
    expect(t.files.has('/etc/kernelfile/a')).toBe(true);
  });

  it('a failing step still releases the lock', async () => {
    const t = new FakeTransport().failWhen((c) => c.kind === 'run' && c.inner?.[0] === 'update-grub', {
      code: 1,
      stderr: 'boom',
    });
    await expect(execute(t, plan([run(['update-grub']), write('/x')]), controller())).rejects.toThrow(
      /exited with 1/,
    );
    expect(t.lockLog.at(-1)).toBe('release');
    expect(t.lockHeld).toBe(false);
  });

  it('a plan without changes takes no lock', async () => {
    const t = new FakeTransport();
    await execute(t, { ...plan([]), changes: [] }, controller());
    expect(t.lockLog).toEqual([]);
  });

  it('without a holder from the controller, this process is named', async () => {
    const t = new FakeTransport();
    const { lock: _lock, ...plain } = controller();
    await execute(t, plan([write('/a')]), plain);
    const holder = JSON.parse((t.lockLog[0] as string).replace(/^acquire wait=0 holder=/, ''));
    expect(holder).toMatchObject({ pid: process.pid, kernelfile: null });
    expect(typeof holder.controller).toBe('string');
  });

  it('the holder file is host data: escaped, cut short, and a missing one still refuses', async () => {
    expect(
      describeHolder(JSON.stringify({ controller: 'evil\n\u001b[2J', pid: 'x', startedAt: 'y'.repeat(500) })),
    ).toBe(`controller evil\\n\\u001b[2J since ${'y'.repeat(77)}...`);
    expect(describeHolder('')).toBe('another kernelfile apply (its holder file is missing or unreadable)');
    expect(describeHolder('not json')).toBe(
      'another kernelfile apply (its holder file is missing or unreadable)',
    );
    const t = new FakeTransport().lockedBy('');
    await expect(execute(t, plan([write('/a')]), controller())).rejects.toThrow(
      'is being applied by another kernelfile apply (its holder file is missing or unreadable); nothing was changed',
    );
  });

  it('the keeper is one shell program with its arguments, never a string built from them', () => {
    expect(KEEPER).not.toContain(HOST_LOCK);
    expect(KEEPER).toContain('flock -n 9');
    expect(KEEPER).toContain('flock -w "$wait" 9');
  });
});
