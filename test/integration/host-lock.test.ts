/**
 * The host lock on a real host (Debian's sshd in a test namespace): two applies at once, each
 * executing a small hand-made plan of write and run steps (no kernel build). The second fails fast
 * naming the first; with a lock timeout it waits and then runs; a holder whose connection is gone
 * releases the lock by itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Controller, execute } from '../../src/apply/executor.js';
import { HOST_LOCK, type LockHolder } from '../../src/apply/host-lock.js';
import { HostError, type Transport } from '../../src/host/transport.js';
import type { HostPlan, Step } from '../../src/plan/types.js';
import { openRoot, type SshHost, startSshHost } from '../helpers/sshd.js';

let dir: string;
let h: SshHost;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-lock-test-'));
  h = await startSshHost();
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function connect(): Promise<Transport> {
  return openRoot(h, dir);
}

function controller(who: string, waitMs = 0): Controller {
  const refuse = async (): Promise<never> => {
    throw new Error('no build in this test');
  };
  const holder: LockHolder = {
    controller: who,
    pid: 1000,
    startedAt: '2026-12-01T10:00:00Z',
    kernelfile: `${who}.yaml`,
  };
  return {
    build: refuse,
    packSource: refuse,
    dkmsTarball: refuse,
    now: () => new Date().toISOString(),
    lock: { holder, waitMs },
  };
}

/** An apply of entry `name`: write its file, take a while, append to a shared log. */
function plan(name: string, seconds: number): HostPlan {
  const steps: Step[] = [
    {
      kind: 'write',
      title: `write ${name}`,
      path: `/etc/kernelfile/lock-test/${name}`,
      content: `${name}\n`,
      mode: 0o644,
      sudo: true,
    },
    {
      kind: 'run',
      title: 'log start',
      argv: ['sh', '-c', `echo "${name} start" >> /etc/kernelfile/lock-test/log`],
      sudo: true,
    },
    { kind: 'run', title: 'work', argv: ['sleep', String(seconds)], sudo: true },
    {
      kind: 'run',
      title: 'log end',
      argv: ['sh', '-c', `echo "${name} end" >> /etc/kernelfile/lock-test/log`],
      sudo: true,
    },
  ];
  return {
    host: 'x',
    factsDigest: 'x',
    factsFamilies: {},
    summary: {
      name,
      distro: null,
      arch: null,
      running: null,
      loader: null,
      loaderMode: null,
      initramfs: null,
      release: 'x',
      buildId: 'x',
    },
    buildIds: [],
    changes: [
      {
        id: `boot-entry[${name}]`,
        resource: 'boot-entry',
        action: 'create',
        before: null,
        after: name,
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

const log = async () =>
  (
    await h.exec([
      'sh',
      '-c',
      'cat /etc/kernelfile/lock-test/log 2>/dev/null; rm -f /etc/kernelfile/lock-test/log',
    ])
  ).stdout
    .trim()
    .split('\n')
    .filter(Boolean);

/** Resolves once the first apply's keeper holds the lock (its holder file is there). */
async function held(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await h.exec(['test', '-s', `${HOST_LOCK}.holder`])).code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the first apply never took the lock');
}

/** Wait until the first apply's step has started (its line is in the log, which stays as it is). */
async function stepStarted(line: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await h.exec(['grep', '-qx', line, '/etc/kernelfile/lock-test/log']);
    if (r.code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the first apply never logged "${line}"`);
}

describe('two applies to one host', () => {
  it('the second fails fast naming the first; nothing of it ran', async () => {
    const [a, b] = [await connect(), await connect()];
    try {
      const first = execute(a, plan('one', 3), controller('controller-a'));
      await held();
      const started = Date.now();
      const e = await execute(b, plan('two', 0), controller('controller-b')).catch((x: unknown) => x);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(e).toBeInstanceOf(HostError);
      expect((e as HostError).kind).toBe('locked');
      expect((e as Error).message).toContain(
        'is being applied by controller controller-a (pid 1000) since 2026-12-01T10:00:00Z, kernelfile controller-a.yaml; nothing was changed',
      );
      await first;
      expect(await log()).toEqual(['one start', 'one end']);
      expect((await h.exec(['test', '-e', '/etc/kernelfile/lock-test/two'])).code).not.toBe(0);
      // Released: the holder file is gone and the next apply takes the lock at once.
      expect((await h.exec(['test', '-e', `${HOST_LOCK}.holder`])).code).not.toBe(0);
      await execute(b, plan('two', 0), controller('controller-b'));
      expect(await log()).toEqual(['two start', 'two end']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('with a lock timeout the second waits, then runs after the first (never interleaved)', async () => {
    const [a, b] = [await connect(), await connect()];
    try {
      const first = execute(a, plan('one', 3), controller('controller-a'));
      await held();
      await execute(b, plan('two', 0), controller('controller-b', 30_000));
      await first;
      expect(await log()).toEqual(['one start', 'one end', 'two start', 'two end']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a holder whose connection dropped does not block: the lock is free within seconds', async () => {
    const [a, b] = [await connect(), await connect()];
    try {
      const first = execute(a, plan('one', 6), controller('controller-a')).catch((x: unknown) => x);
      await held();
      // Its step is running (on a loaded machine the lock is held a while before the step starts).
      await stepStarted('one start');
      await a.close(); // the controller is gone: its keeper's output goes nowhere
      // The second apply gets the host lock; its steps wait (per-command lock) only for the step
      // the first left running, never for the whole first apply.
      const started = Date.now();
      await execute(b, plan('two', 0), controller('controller-b', 20_000));
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await first).toBeInstanceOf(Error);
      expect(await log()).toEqual(['one start', 'two start', 'two end']);
    } finally {
      await b.close();
    }
  });
});
