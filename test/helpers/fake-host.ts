/**
 * A host that reboots, for the unit tests of trial boots (src/engine/trial.ts) and of rollouts with
 * reboot: each connection (`gather`) is a FakeTransport that answers `uname -r` and the boot id
 * of the system running at that moment; the reboot command (apply/reboot.ts requestReboot) takes
 * it down for a few connection attempts, then it comes back as the next of its scripted boots (or
 * never, when there is none left). The health check (`timeout … sh -c CMD`) answers as told.
 * Files written over any connection are kept (`files`).
 */
import type { HostFacts } from '../../src/facts/types.js';
import { HostError, type RunResult, type Transport } from '../../src/host/transport.js';
import { FakeTransport } from './fake-transport.js';

export interface Boot {
  release: string;
  bootId: string;
}

export class FakeHost {
  /** Every connection opened (the first is the planned one), in order. */
  readonly transports: FakeTransport[] = [];
  /** What each gather was asked to connect to (the reboot probes shorten the connect timeout). */
  readonly gathered: { connectTimeoutMs: number | undefined }[] = [];
  /**
   * What happened, in order: `reboot requested in BOOT_ID`, and per connection attempt `down` or
   * `up RELEASE BOOT_ID` (the system it reached).
   */
  readonly log: string[] = [];
  private up: Boot | null;
  /** A reboot was requested and the host has not come back yet. */
  private pending = false;
  private downFor = 0;
  private stayingUp = 0;

  constructor(
    readonly name: string,
    first: Boot,
    /** What each reboot comes back as, in order; none left: it never comes back. */
    private readonly boots: Boot[],
    private readonly o: {
      /** Connection attempts refused after a reboot request (default 2). */
      downProbes?: number;
      /** Connections that still see the old system after a reboot request (default 0). */
      staysUp?: number;
      /** What the health check returns (default: exit 0, no output). */
      health?: Partial<RunResult>;
    } = {},
  ) {
    this.up = first;
  }

  /** The planned connection: the host as it runs now. */
  connect(): FakeTransport {
    if (!this.up) throw new Error('fake host: down');
    const seen = this.up;
    const t = new FakeTransport(this.name, (argv) => this.respond(seen, argv));
    this.transports.push(t);
    return t;
  }

  private respond(seen: Boot, argv: readonly string[]): Partial<RunResult> | undefined {
    if (argv[0] === 'cat' && argv[1] === '/proc/sys/kernel/random/boot_id')
      return { stdout: `${seen.bootId}\n` };
    if (argv[0] === 'uname' && argv[1] === '-r') return { stdout: `${seen.release}\n` };
    if (argv[0] === 'sh' && argv[2]?.includes('systemctl reboot')) {
      this.log.push(`reboot requested in ${seen.bootId}`);
      this.stayingUp = this.o.staysUp ?? 0;
      this.downFor = this.o.downProbes ?? 2;
      this.pending = true;
      return { code: 0 };
    }
    if (argv[0] === 'timeout') return { code: 0, ...this.o.health };
    return undefined;
  }

  /** TrialDeps.connect / RolloutSession.connect: connect anew (refused while down). */
  reconnect = async (target: { hostOptions: { connectTimeoutMs?: number } }): Promise<Transport> => {
    this.gathered.push({ connectTimeoutMs: target.hostOptions.connectTimeoutMs });
    if (this.pending && this.stayingUp > 0) this.stayingUp--;
    else if (this.pending) {
      if (this.downFor > 0) {
        this.downFor--;
        this.log.push('down');
        throw new HostError(this.name, 'unreachable', 'connection refused (fake)');
      }
      this.pending = false;
      this.up = this.boots.shift() ?? null;
    }
    if (!this.up) {
      this.log.push('down');
      throw new HostError(this.name, 'unreachable', 'connection timed out (fake)');
    }
    this.log.push(`up ${this.up.release} ${this.up.bootId}`);
    return this.connect();
  };

  /** RolloutSession.gather: reconnect, with no facts (the rollouts that use it replan by planTarget). */
  gather = async (target: { hostOptions: { connectTimeoutMs?: number } }) => ({
    transport: await this.reconnect(target),
    facts: {} as HostFacts,
  });

  /** The files written over every connection (path → content). */
  files(): Map<string, string> {
    const all = new Map<string, string>();
    for (const t of this.transports) for (const [p, c] of t.files) all.set(p, c);
    return all;
  }
}

/** A clock that moves only when slept on. */
export function fakeClock(start = Date.parse('2026-12-02T09:00:00.000Z')) {
  let ms = start;
  return {
    now: () => new Date(ms),
    sleep: async (n: number) => {
      ms += n;
    },
    elapsed: () => ms - start,
  };
}
