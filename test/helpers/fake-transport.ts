/**
 * An in-memory Transport for unit tests: it records every run, put, write and get, answers runs
 * with exit 0 and no output (or what `respond` says), keeps the files written through the
 * executor's write-as-root command, and can be told to fail a given call: with an exit code (and
 * output), or by throwing HostError 'disconnected' as a dropped SSH connection does.
 *
 * The host lock's keeper (src/apply/host-lock.ts) is played, not recorded in `calls`: it prints
 * `locked` and lives until the release command, or finds the lock taken (`lockedBy`) and ends
 * printing the holder. `lockLog` says what happened, `heldAt[i]` whether calls[i] ran under it.
 */

import { locked } from '../../src/apply/executor.js';
import { HOST_LOCK, KEEPER_NAME } from '../../src/apply/host-lock.js';
import { capabilitiesOf, parseHostAddress } from '../../src/host/address.js';
import { HostError, type RunOptions, type RunResult, type Transport } from '../../src/host/transport.js';

export type Call =
  | {
      kind: 'run';
      argv: readonly string[];
      opts: RunOptions | undefined;
      /** The command inside `locked(…)`, or null when the command does not hold the host lock. */
      inner: readonly string[] | null;
      /** For the executor's write-as-root command (locked `sh -c … kernelfile PATH MODE BYTES`, content on stdin). */
      wrote: { path: string; content: string } | null;
    }
  | { kind: 'put'; from: string; to: string; mode: number | undefined }
  | { kind: 'write'; path: string; data: string; mode: number | undefined }
  | { kind: 'get'; path: string };

export type Failure = { code: number; stdout?: string; stderr?: string } | 'disconnected';

const LOCK_PREFIX = locked([]);

/** The command inside `locked(argv)`, or null when argv is not a locked command. */
export function unlock(argv: readonly string[]): readonly string[] | null {
  if (argv.length < LOCK_PREFIX.length) return null;
  return LOCK_PREFIX.every((a, i) => argv[i] === a) ? argv.slice(LOCK_PREFIX.length) : null;
}

/** One line per call, for readable assertions: `write PATH`, `locked: ARGV…`, `run: ARGV…`, `put FROM -> TO`. */
export function describeCall(c: Call): string {
  switch (c.kind) {
    case 'run':
      if (c.wrote) return `write ${c.wrote.path}`;
      return c.inner ? `locked: ${c.inner.join(' ')}` : `run: ${c.argv.join(' ')}`;
    case 'put':
      return `put ${c.from} -> ${c.to}`;
    case 'write':
      return `write() ${c.path}`;
    case 'get':
      return `get ${c.path}`;
  }
}

export class FakeTransport implements Transport {
  readonly kind = 'ssh' as const;
  readonly capabilities = capabilitiesOf(parseHostAddress('ssh://root@web-1:22'));
  readonly calls: Call[] = [];
  /** Files written by the executor's write command (path → content), in the order written. */
  readonly files = new Map<string, string>();
  private readonly failures: { match: (c: Call) => boolean; how: Failure }[] = [];
  /** The host lock: what the keeper and its release did (`acquire wait=N holder=JSON`, `release`). */
  readonly lockLog: string[] = [];
  /** For each call in `calls`: whether the host lock was held when it ran. */
  readonly heldAt: boolean[] = [];
  private keeperEnd: (() => void) | null = null;
  private busyHolder: string | null = null;

  constructor(
    readonly name = 'ssh://root@web-1:22',
    private readonly respond: (argv: readonly string[]) => Partial<RunResult> | undefined = () => undefined,
  ) {}

  /** Make the first call that matches (and every later one) fail. */
  failWhen(match: (c: Call) => boolean, how: Failure): this {
    this.failures.push({ match, how });
    return this;
  }

  private failure(c: Call): Failure | undefined {
    return this.failures.find((f) => f.match(c))?.how;
  }

  private disconnect(): never {
    throw new HostError(this.name, 'disconnected', 'the connection dropped (fake)');
  }

  /** Another apply holds the host lock: a keeper ends at once, printing this holder file. */
  lockedBy(holderText: string | null): this {
    this.busyHolder = holderText;
    return this;
  }

  /** Whether the host lock is held now. */
  get lockHeld(): boolean {
    return this.keeperEnd !== null;
  }

  private keeper(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    this.lockLog.push(`acquire wait=${argv[6]} holder=${argv[7]}`);
    if (this.busyHolder !== null)
      return Promise.resolve({ code: 75, stdout: `busy\n${this.busyHolder}`, stderr: '' });
    if (this.keeperEnd) throw new Error('fake: a second keeper while the lock is held');
    return new Promise((resolve) => {
      this.keeperEnd = () => {
        this.keeperEnd = null;
        resolve({ code: 0, stdout: 'locked\n', stderr: '' });
      };
      opts?.onLine?.('locked', 'stdout');
    });
  }

  async run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
    if (argv[3] === KEEPER_NAME) return this.keeper(argv, opts);
    if (argv[0] === 'rm' && argv.length === 3 && argv[2]?.startsWith(`${HOST_LOCK}.t-`)) {
      this.lockLog.push('release');
      this.keeperEnd?.();
      return { code: 0, stdout: '', stderr: '' };
    }
    this.heldAt[this.calls.length] = this.lockHeld;
    const inner = unlock(argv);
    const isWrite =
      inner !== null && inner[0] === 'sh' && inner[3] === 'kernelfile' && opts?.stdin !== undefined;
    const wrote = isWrite ? { path: inner[4] as string, content: String(opts?.stdin) } : null;
    const call: Call = { kind: 'run', argv: [...argv], opts, inner, wrote };
    this.calls.push(call);
    const how = this.failure(call);
    if (how === 'disconnected') this.disconnect();
    if (how) {
      for (const l of `${how.stdout ?? ''}`.split('\n').filter(Boolean)) opts?.onLine?.(l, 'stdout');
      return { code: how.code, stdout: how.stdout ?? '', stderr: how.stderr ?? '' };
    }
    if (wrote) this.files.set(wrote.path, wrote.content);
    return { code: 0, stdout: '', stderr: '', ...this.respond(argv) };
  }

  async put(from: string, to: string, mode?: number): Promise<void> {
    const call: Call = { kind: 'put', from, to, mode };
    this.heldAt[this.calls.length] = this.lockHeld;
    this.calls.push(call);
    const how = this.failure(call);
    if (how === 'disconnected') this.disconnect();
    if (how) throw new HostError(this.name, 'io', `cannot put ${to} (fake, exit ${how.code})`);
  }

  async write(path: string, data: string | Buffer, mode?: number): Promise<void> {
    const call: Call = { kind: 'write', path, data: String(data), mode };
    this.heldAt[this.calls.length] = this.lockHeld;
    this.calls.push(call);
    const how = this.failure(call);
    if (how === 'disconnected') this.disconnect();
    if (how) throw new HostError(this.name, 'io', `cannot write ${path} (fake, exit ${how.code})`);
    this.files.set(path, String(data));
  }

  async get(path: string): Promise<Buffer> {
    this.calls.push({ kind: 'get', path });
    const content = this.files.get(path);
    if (content === undefined) throw new HostError(this.name, 'io', `no such file: ${path} (fake)`);
    return Buffer.from(content);
  }

  async close(): Promise<void> {}

  /** The calls as lines (see describeCall). */
  lines(): string[] {
    return this.calls.map(describeCall);
  }

  /** The run calls. */
  runs(): Extract<Call, { kind: 'run' }>[] {
    return this.calls.filter((c): c is Extract<Call, { kind: 'run' }> => c.kind === 'run');
  }
}
