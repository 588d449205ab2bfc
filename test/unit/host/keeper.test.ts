/**
 * The keeper's bookkeeping (src/host/keeper.ts) with fake connections: which request gets which
 * connection, when one is made again, when it is closed, and what is answered. Real connections
 * through a real keeper process: test/integration/kept-ssh.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Keeper, type KeptLink } from '../../../src/host/keeper.js';
import type { KeeperReply, KeeperRequest, KeptConnection } from '../../../src/host/keeper-protocol.js';
import { HostError, type RunOptions, type RunResult } from '../../../src/host/transport.js';

class FakeLink implements KeptLink {
  lost = false;
  closed = false;
  readonly runs: string[][] = [];
  /** Set to hold the next command until release() is called. */
  held?: { release: () => void };

  constructor(readonly id: number) {}

  get isLost(): boolean {
    return this.lost;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.runs.push([...argv]);
    if (this.lost) throw new HostError('ssh://root@web-1:22', 'disconnected', 'connection lost');
    if (this.held) await new Promise<void>((r) => Object.assign(this.held as object, { release: r }));
    opts.onLine?.(`line from ${this.id}`, 'stdout');
    return { code: 0, stdout: `link ${this.id}\n`, stderr: '' };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const conn = (user = 'root'): KeptConnection => ({
  target: {
    alias: 'web-1',
    host: '192.0.2.10',
    port: 22,
    user,
    identityFiles: ['/nonexistent/kf-unit/id_ed25519'],
    identitiesOnly: false,
    proxyJump: [],
  },
  jumps: {},
  knownHostsFiles: ['/nonexistent/kf-unit/known_hosts'],
});

const run = (c = conn(), persistMs = 60_000, lines = false): KeeperRequest => ({
  op: 'run',
  version: '1.2.3',
  persistMs,
  conn: c,
  run: { argv: ['uname', '-n'], ...(lines ? { lines: true } : {}) },
});

let links: FakeLink[];
let ended: number;
let refuse: HostError | undefined;
/** The next connection made holds its first command (FakeLink.held). */
let holdNext: boolean;
let keeper: Keeper;

async function ask(m: KeeperRequest, gone = false): Promise<KeeperReply[]> {
  const replies: KeeperReply[] = [];
  await keeper.handle(
    m,
    (r) => replies.push(r),
    () => gone,
  );
  return replies;
}

const resultOf = (replies: KeeperReply[]) => replies.find((r) => 'result' in r);
const stats = async () => {
  const [r] = await ask({ op: 'stats', version: '1.2.3' });
  return r && 'stats' in r ? r.stats : undefined;
};

beforeEach(() => {
  links = [];
  ended = 0;
  refuse = undefined;
  holdNext = false;
  keeper = new Keeper(
    '1.2.3',
    () => ended++,
    async () => {
      if (refuse) throw refuse;
      const l = new FakeLink(links.length + 1);
      if (holdNext) l.held = { release: () => {} };
      holdNext = false;
      links.push(l);
      return l;
    },
  );
});
afterEach(() => vi.useRealTimers());

describe('the keeper', () => {
  it('runs a second request on the connection the first one made', async () => {
    expect(resultOf(await ask(run()))).toEqual({ result: { code: 0, stdout: 'link 1\n', stderr: '' } });
    expect(await ask({ ...run(), op: 'open' } as KeeperRequest)).toEqual([{ opened: true, reused: true }]);
    expect(resultOf(await ask(run()))).toEqual({ result: { code: 0, stdout: 'link 1\n', stderr: '' } });
    expect(links).toHaveLength(1);
    expect(await stats()).toMatchObject({ connections: 1, logins: 1, reused: 2 });
  });

  it('makes another connection for other settings', async () => {
    await ask(run(conn('root')));
    expect(resultOf(await ask(run(conn('deploy'))))).toMatchObject({ result: { stdout: 'link 2\n' } });
    expect(await stats()).toMatchObject({ connections: 2, logins: 2 });
  });

  it('answers another version of kernelfile with a fault, connecting nowhere', async () => {
    const replies = await ask({ ...run(), version: '9.9.9' });
    expect(replies).toEqual([{ fault: 'this keeper runs kernelfile 1.2.3, not 9.9.9' }]);
    expect(links).toHaveLength(0);
  });

  it("gives the host's refusal as the error a direct connection raises, without the host prefix", async () => {
    refuse = new HostError(
      'ssh://root@web-1:22',
      'unreachable',
      'connection refused on 192.0.2.10:22',
      'check it',
    );
    expect(await ask(run())).toEqual([
      {
        error: {
          host: 'ssh://root@web-1:22',
          kind: 'unreachable',
          message: 'connection refused on 192.0.2.10:22',
          hint: 'check it',
        },
      },
    ]);
    expect(await stats()).toMatchObject({ connections: 0 });
  });

  it('sends output lines when asked, and none once the asker has gone', async () => {
    expect(await ask(run(conn(), 60_000, true))).toEqual([
      { line: 'line from 1', stream: 'stdout' },
      { result: { code: 0, stdout: 'link 1\n', stderr: '' } },
    ]);
    expect(await ask(run(conn(), 60_000, true), true)).toEqual([
      { result: { code: 0, stdout: 'link 1\n', stderr: '' } },
    ]);
  });

  it('replaces a connection found lost, and one lost as its command started (run once more)', async () => {
    await ask(run());
    (links[0] as FakeLink).lost = true;
    expect(resultOf(await ask(run()))).toMatchObject({ result: { stdout: 'link 2\n' } });
    expect((links[0] as FakeLink).closed).toBe(true);
    expect((links[0] as FakeLink).runs).toHaveLength(1); // found lost before the command
    // Lost when the command starts on it: the command runs once more, on a new connection.
    const second = links[1] as FakeLink;
    const real = second.run.bind(second);
    second.run = async (argv, opts) => {
      second.lost = true;
      return real(argv, opts);
    };
    expect(resultOf(await ask(run()))).toMatchObject({ result: { stdout: 'link 3\n' } });
    expect(await stats()).toMatchObject({ connections: 1, logins: 3 });
  });

  it('does not run a command again when a connection made for it is lost: the error is answered', async () => {
    const made = keeper;
    keeper = new Keeper(
      '1.2.3',
      () => {},
      async () => {
        const l = new FakeLink(1);
        l.lost = true;
        return l;
      },
    );
    expect(await ask(run())).toEqual([
      {
        error: { host: 'ssh://root@web-1:22', kind: 'disconnected', message: 'connection lost' },
      },
    ]);
    keeper = made;
  });

  it('closes a connection unused for its persist time, then ends', async () => {
    vi.useFakeTimers();
    await ask(run(conn(), 1000));
    await vi.advanceTimersByTimeAsync(999);
    expect((links[0] as FakeLink).closed).toBe(false);
    await ask(run(conn(), 1000)); // used again: the time starts over
    await vi.advanceTimersByTimeAsync(999);
    expect((links[0] as FakeLink).closed).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect((links[0] as FakeLink).closed).toBe(true);
    expect(ended).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ended).toBe(1);
  });

  it('never closes a connection while a request runs on it, also one made again under its key', async () => {
    vi.useFakeTimers();
    await ask(run(conn(), 1000));
    const first = links[0] as FakeLink;
    first.held = { release: () => {} };
    const a = ask(run(conn(), 1000)); // held on the first connection
    await vi.advanceTimersByTimeAsync(0);
    // The first connection is lost while A still runs on it; B makes its replacement, whose
    // command is held too (made held: the factory's next link).
    first.lost = true;
    holdNext = true;
    const b = ask(run(conn(), 1000));
    await vi.advanceTimersByTimeAsync(0);
    const replacement = links[1] as FakeLink;
    expect(replacement.runs).toHaveLength(1);
    first.held.release();
    await a;
    // A is done (releasing the connection it used, not B's); B still runs: past the persist time
    // the replacement stays open.
    await vi.advanceTimersByTimeAsync(5000);
    expect(replacement.closed).toBe(false);
    replacement.held?.release();
    expect(resultOf(await b)).toMatchObject({ result: { stdout: 'link 2\n' } });
    await vi.advanceTimersByTimeAsync(999);
    expect(replacement.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(replacement.closed).toBe(true);
  });

  it('stops on request: every connection closed', async () => {
    vi.useFakeTimers();
    await ask(run(conn('root')));
    await ask(run(conn('deploy')));
    expect(await ask({ op: 'stop', version: '1.2.3' })).toEqual([{ stopping: true }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(links.every((l) => l.closed)).toBe(true);
    expect(ended).toBeGreaterThanOrEqual(1);
  });
});
