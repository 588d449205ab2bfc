/**
 * The cache's locks: who holds one, when a lock is stale (its process gone, its pid reused, the
 * machine rebooted; never decided for another host), and withLock on real files in a temporary
 * directory with the process table given by the test.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isStale,
  type LockHolder,
  LockTimeout,
  type ProcessProbe,
  parseHolder,
  startTimeOf,
  withLock,
} from '../../../src/compile/lock.js';

const dir = mkdtempSync(join(tmpdir(), 'kf-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const holder = (over: Partial<LockHolder> = {}): LockHolder => ({
  pid: 4242,
  host: 'ctl',
  boot: 'b1',
  start: '1000',
  token: 't',
  what: 'building 6.1.192-kf12345678',
  ...over,
});

describe('a holder’s start time from /proc/PID/stat', () => {
  it('is field 22, also when the command name holds spaces and parentheses', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21';
    expect(startTimeOf(`77 (node) ${rest}`)).toBe('987654');
    expect(startTimeOf(`77 (a b) c) ${rest}`)).toBe('987654');
    expect(startTimeOf('garbage')).toBe('');
  });
});

describe('lock files', () => {
  it('reads what kernelfile wrote, and nothing else', () => {
    expect(parseHolder(JSON.stringify(holder()))).toEqual(holder());
    expect(parseHolder('')).toBeUndefined();
    expect(parseHolder('{"pid":')).toBeUndefined();
    expect(parseHolder(JSON.stringify({ ...holder(), pid: -1 }))).toBeUndefined();
    expect(parseHolder(JSON.stringify({ ...holder(), host: 3 }))).toBeUndefined();
  });

  const me = { host: 'ctl', boot: 'b1' };
  const running =
    (start: string): ProcessProbe =>
    () => ({ alive: true, start });
  const gone: ProcessProbe = () => ({ alive: false });

  it('is stale when its process is gone, its pid belongs to a later process, or the machine rebooted', () => {
    expect(isStale(holder(), me, gone)).toBe(true);
    expect(isStale(holder(), me, running('2000'))).toBe(true);
    expect(isStale(holder(), { ...me, boot: 'b2' }, running('1000'))).toBe(true);
  });

  it('is held while its process runs (also when a start time is unknown)', () => {
    expect(isStale(holder(), me, running('1000'))).toBe(false);
    expect(isStale(holder({ start: '' }), me, running('2000'))).toBe(false);
    expect(isStale(holder(), me, running(''))).toBe(false);
  });

  it('is never judged stale from another host', () => {
    expect(isStale(holder({ host: 'other' }), me, gone)).toBe(false);
  });
});

describe('withLock', () => {
  const locks = join(dir, 'locks');

  it('runs one holder at a time; the next waits, is told who holds it, then runs', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const first = withLock(locks, 'a', 'first', async () => {
      order.push('first in');
      await new Promise<void>((r) => {
        release = r;
      });
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 20));
    const waited: (LockHolder | undefined)[] = [];
    const second = withLock(
      locks,
      'a',
      'second',
      async () => {
        order.push('second in');
        return 2;
      },
      { pollMs: 5, onWait: (h) => waited.push(h) },
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['first in']);
    expect(waited.map((h) => [h?.pid, h?.host, h?.what])).toEqual([[process.pid, hostname(), 'first']]);
    release();
    await first;
    expect(await second).toBe(2);
    expect(order).toEqual(['first in', 'first out', 'second in']);
    expect(existsSync(join(locks, 'a.lock'))).toBe(false);
  });

  it('releases the lock when the function throws', async () => {
    await expect(
      withLock(locks, 'b', 'x', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(join(locks, 'b.lock'))).toBe(false);
  });

  it('takes over a lock its holder left behind (process gone)', async () => {
    writeFileSync(join(locks, 'c.lock'), JSON.stringify(holder({ host: hostname() })));
    const waited: unknown[] = [];
    const r = await withLock(locks, 'c', 'me', async () => 'ran', {
      probe: (pid) => (pid === 4242 ? { alive: false } : { alive: true, start: '' }),
      onWait: (h) => waited.push(h),
    });
    expect(r).toBe('ran');
    expect(waited).toEqual([]);
    expect(existsSync(join(locks, 'c.lock'))).toBe(false);
  });

  it('waits for a lock held on another host, and gives up after the timeout naming it', async () => {
    writeFileSync(join(locks, 'd.lock'), JSON.stringify(holder({ host: 'elsewhere' })));
    const err = await withLock(locks, 'd', 'me', async () => 'ran', { timeoutMs: 30, pollMs: 5 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LockTimeout);
    expect((err as Error).message).toMatch(/d\.lock \(held by pid 4242 on elsewhere: building 6\.1\.192/);
    expect(existsSync(join(locks, 'd.lock'))).toBe(true);
  });

  it('a lock file that is not ours (not JSON) is waited for, not removed', async () => {
    writeFileSync(join(locks, 'e.lock'), 'half-written');
    await expect(withLock(locks, 'e', 'me', async () => 1, { timeoutMs: 30, pollMs: 5 })).rejects.toThrow(
      LockTimeout,
    );
    expect(readFileSync(join(locks, 'e.lock'), 'utf8')).toBe('half-written');
  });

  it('does not remove a lock that another process took over from it', async () => {
    await withLock(locks, 'f', 'me', async () => {
      // Someone (wrongly) broke our lock and took it: leaving must not remove theirs.
      writeFileSync(join(locks, 'f.lock'), JSON.stringify(holder({ token: 'theirs' })));
    });
    expect(parseHolder(readFileSync(join(locks, 'f.lock'), 'utf8'))?.token).toBe('theirs');
  });
});
