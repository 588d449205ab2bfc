/** Rolling applies: batch sizes as Ansible's serial computes them, the failure budget, the canary. */
import { describe, expect, it } from 'vitest';
import {
  batches,
  batchSize,
  parsePercent,
  parseSerial,
  pool,
  stopReason,
} from '../../../src/fleet/rollout.js';

describe('--serial', () => {
  it.each([
    ['1', { kind: 'count', n: 1 }],
    ['5', { kind: 'count', n: 5 }],
    ['25%', { kind: 'percent', percent: 25 }],
    [' 100% ', { kind: 'percent', percent: 100 }],
  ])('%s', (v, want) => expect(parseSerial(v)).toEqual(want));

  it.each(['0', '-1', '1.5', '101%', 'all', '', '5 %'])('refuses %j with what it takes', (v) => {
    expect(parseSerial(v)).toEqual({
      error: expect.stringContaining('--serial takes a number of hosts (1, 5) or a percentage (25%)'),
    });
  });

  it('a percentage rounds down, never below one host, never above all of them', () => {
    expect(batchSize({ kind: 'percent', percent: 25 }, 10)).toBe(2);
    expect(batchSize({ kind: 'percent', percent: 10 }, 5)).toBe(1);
    expect(batchSize({ kind: 'count', n: 50 }, 3)).toBe(3);
    expect(batchSize(null, 7)).toBe(7);
  });

  it('batches keep the inventory order and cover every host once', () => {
    const hosts = ['a', 'b', 'c', 'd', 'e'];
    expect(batches(hosts, { kind: 'count', n: 2 })).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batches(hosts, { kind: 'percent', percent: 40 })).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(batches(hosts, null)).toEqual([hosts]);
    expect(batches([], { kind: 'count', n: 1 })).toEqual([]);
  });
});

describe('the failure budget and the canary', () => {
  it('parses --max-fail with or without %', () => {
    expect(parsePercent('10%', '--max-fail')).toBe(10);
    expect(parsePercent('0', '--max-fail')).toBe(0);
    expect(parsePercent('150%', '--max-fail')).toEqual({
      error: expect.stringContaining('--max-fail takes a percentage'),
    });
  });

  it('--max-fail counts failed hosts over the whole fleet: 10% of 50 allows 5, the sixth stops it', () => {
    const t = (failed: number) => ({ total: 50, failed, batch: { index: 3, size: 5, failed: 1 } });
    expect(stopReason(t(5), 10, true)).toBeNull();
    expect(stopReason(t(6), 10, true)).toBe('6 of 50 hosts failed, more than --max-fail 10% allows');
    expect(stopReason(t(1), 0, true)).toMatch(/more than --max-fail 0% allows/);
  });

  it('a canary batch that fails as a whole stops the rollout, even without --max-fail', () => {
    expect(stopReason({ total: 10, failed: 1, batch: { index: 0, size: 1, failed: 1 } }, null, true)).toBe(
      'the canary batch failed (1 of 1 host)',
    );
    // Part of the canary failing, a later batch failing, or no batch after it: carry on.
    expect(
      stopReason({ total: 10, failed: 1, batch: { index: 0, size: 2, failed: 1 } }, null, true),
    ).toBeNull();
    expect(
      stopReason({ total: 10, failed: 2, batch: { index: 1, size: 2, failed: 2 } }, null, true),
    ).toBeNull();
    expect(
      stopReason({ total: 1, failed: 1, batch: { index: 0, size: 1, failed: 1 } }, null, false),
    ).toBeNull();
  });
});

describe('pool', () => {
  it('runs at most `limit` at once, keeps input order, and reports failures without rejecting', async () => {
    let running = 0;
    let peak = 0;
    const r = await pool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((res) => setTimeout(res, 5 * (8 - n)));
      running--;
      if (n === 4) throw new Error('four');
      return n * 10;
    });
    expect(peak).toBe(3);
    expect(r.map((x) => (x.status === 'fulfilled' ? x.value : (x.reason as Error).message))).toEqual([
      10,
      20,
      30,
      'four',
      50,
      60,
      70,
    ]);
  });
});
