/** apply --reboot's waiting, with a scripted host: down, back, on which release. */
import { describe, expect, it } from 'vitest';
import { waitForReboot } from '../../../src/apply/reboot.js';

type Seen = { release: string; bootId: string } | 'down';

function host(script: Seen[]) {
  let clock = 0;
  let i = 0;
  const probes: number[] = [];
  return {
    probes,
    deps: {
      probe: async () => {
        probes.push(clock);
        const s = script[Math.min(i++, script.length - 1)] as Seen;
        if (s === 'down') throw new Error('connection refused');
        return s;
      },
      sleep: async (ms: number) => {
        clock += ms;
      },
      now: () => clock,
    },
  };
}

const OLD = { release: '6.1.0-18-amd64', bootId: 'boot-1' };

describe('waiting for a rebooted host', () => {
  it('succeeds once the host is back with a new boot id, running the new release', async () => {
    const h = host([OLD, 'down', 'down', { release: '6.1.192-kfa', bootId: 'boot-2' }]);
    const r = await waitForReboot(h.deps, { bootId: 'boot-1' }, '6.1.192-kfa', 600_000, 5000);
    expect(r).toEqual({ ok: true, release: '6.1.192-kfa', bootId: 'boot-2', seconds: 20 });
    expect(h.probes).toEqual([5000, 10000, 15000, 20000]);
  });

  it('fails when the host comes back on the old release: the trial boot fell back', async () => {
    const h = host(['down', { release: OLD.release, bootId: 'boot-2' }]);
    const r = await waitForReboot(h.deps, { bootId: 'boot-1' }, '6.1.192-kfa', 600_000, 5000);
    expect(r.ok).toBe(false);
    expect(r).toMatchObject({ release: OLD.release });
    if (!r.ok)
      expect(r.reason).toMatch(
        /came back after 10 s running 6\.1\.0-18-amd64, not 6\.1\.192-kfa: the trial boot/,
      );
  });

  it('does not mistake a host that has not gone down yet for one that came back', async () => {
    const h = host([OLD, OLD, OLD, { release: '6.1.192-kfa', bootId: 'boot-2' }]);
    const r = await waitForReboot(h.deps, { bootId: 'boot-1' }, '6.1.192-kfa', 600_000, 5000);
    expect(r).toMatchObject({ ok: true, seconds: 20 });
  });

  it('gives up after the timeout, saying the previous default is still in place', async () => {
    const h = host(['down']);
    const r = await waitForReboot(h.deps, { bootId: 'boot-1' }, '6.1.192-kfa', 60_000, 5000);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.reason).toBe(
        'did not come back within 60 s (the previous default is still the default: a reset boots it)',
      );
    expect(h.probes.length).toBe(12);
  });

  it('a host that answers with the same boot id throughout did not reboot: the one-time entry is still armed', async () => {
    const h = host([OLD]);
    const r = await waitForReboot(h.deps, { bootId: 'boot-1' }, '6.1.192-kfa', 60_000, 5000);
    expect(r).toEqual({
      ok: false,
      release: null,
      bootId: null,
      reason:
        'did not reboot within 60 s (the same boot id answered throughout; the one-time entry is still armed)',
    });
    expect(h.probes.length).toBe(12);
  });

  it('one that went down after answering with the same boot id, and stayed down, did not come back', async () => {
    const h = host([OLD, OLD, 'down']);
    const r = await waitForReboot(h.deps, { bootId: 'boot-1' }, '6.1.192-kfa', 60_000, 5000);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^did not come back within 60 s/);
  });
});
