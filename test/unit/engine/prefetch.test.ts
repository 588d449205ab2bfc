/**
 * PlanningSession.prefetch: the connection and the facts script start before planning asks for
 * them (the CLI's one-host plan and apply overlap them with reading the kernelfile; planAll does it
 * for the hosts a fleet plans first); the next gather of the target takes them, and dropPrefetched
 * closes what nobody took without waiting for it.
 */
import { describe, expect, it } from 'vitest';
import { PlanningSession } from '../../../src/engine/planning.js';
import type { Target } from '../../../src/engine/targets.js';
import type { Transport } from '../../../src/host/transport.js';
import { gatherTransport } from '../../helpers/gather-transport.js';
import { ENV, target } from '../../helpers/saved-plans.js';

/** A session whose connections are fake hosts answering the facts script (only its trailer). */
function session(options: ConstructorParameters<typeof PlanningSession>[1] = {}) {
  const opened: { t: Transport; runs: () => number; closed: () => number }[] = [];
  let pending: ((t: Transport) => void)[] = [];
  let hold = false;
  const s = new (class extends PlanningSession {
    override connect(_t: Target): Promise<Transport> {
      let closed = 0;
      const { t, calls } = gatherTransport((stdin) => {
        const nonce = stdin.match(/kf__nonce='(\w+)'/)?.[1];
        return {
          code: 0,
          stdout: `${nonce} system arch\nx86_64\n${nonce} system arch#rc\n0\n${nonce} - end\nok\n`,
          stderr: '',
        };
      });
      const host = {
        ...t,
        close: async () => {
          closed++;
        },
      };
      opened.push({ t: host, runs: () => calls.length, closed: () => closed });
      if (!hold) return Promise.resolve(host);
      return new Promise((resolve) => pending.push(() => resolve(host)));
    }
  })(ENV, options);
  return {
    s,
    opened,
    holdConnections: () => {
      hold = true;
    },
    release: () => {
      for (const p of pending) p(undefined as never);
      pending = [];
    },
  };
}

describe('PlanningSession.prefetch', () => {
  it('the next gather takes the prefetched connection and facts: one connection, one command', async () => {
    const { s, opened } = session();
    const web1 = target('web-1');
    s.prefetch(web1);
    s.prefetch(web1); // once per target
    expect(opened).toHaveLength(1);
    const g = await s.gather(web1);
    expect(g.transport).toBe(opened[0]?.t);
    expect(g.facts.system.arch).toBe('x86_64');
    expect(opened[0]?.runs()).toBe(1);
    // Taken: a later gather connects anew, and dropPrefetched has nothing left to close.
    s.dropPrefetched();
    await s.gather(web1);
    expect(opened).toHaveLength(2);
    expect(opened[0]?.closed()).toBe(0);
  });

  it('dropPrefetched closes what was not taken, once it is open, without waiting for it', async () => {
    const { s, opened, holdConnections, release } = session();
    holdConnections();
    s.prefetch(target('web-1'));
    s.dropPrefetched(); // returns at once although the connection is still on its way
    expect(opened).toHaveLength(1);
    expect(opened[0]?.closed()).toBe(0);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(opened[0]?.closed()).toBe(1);
  });

  it('a prefetch that fails is reported by the gather that takes it, and not before', async () => {
    const s = new (class extends PlanningSession {
      override connect(): Promise<Transport> {
        return Promise.reject(new Error('web-1: connection refused'));
      }
    })(ENV);
    s.prefetch(target('web-1'));
    await new Promise((r) => setTimeout(r, 0)); // no unhandled rejection in between
    await expect(s.gather(target('web-1'))).rejects.toThrow('connection refused');
  });

  it('planAll starts the first `parallel` hosts at once, and closes them when their kernelfile fails to load', async () => {
    const { s, opened } = session({ parallel: 2 });
    const targets = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'].map((n) =>
      target(n, { kernelfile: '/nonexistent/kernelfile.yaml' }),
    );
    const fleet = s.planAll(targets);
    // Before any kernelfile is read: the 2 hosts the pool plans first are connecting, no more.
    expect(opened).toHaveLength(2);
    const hosts = await fleet;
    expect(hosts.map((h) => h.ok)).toEqual([false, false, false, false, false]);
    expect(hosts[0]?.ok === false && hosts[0].error).toMatch(/nonexistent\/kernelfile\.yaml/);
    await new Promise((r) => setTimeout(r, 0));
    // Nobody took the two prefetched gathers: each connection is closed once. The other three
    // hosts were never connected to (their kernelfile failed before a gather).
    expect(opened).toHaveLength(2);
    expect(opened.map((o) => o.closed())).toEqual([1, 1]);
  });
});
