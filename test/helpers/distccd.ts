/**
 * Real distcc daemons for tests: Debian's distccd, each in a network namespace of its own
 * (netns.ts: its own address on a veth pair with this machine), listening on that address and
 * allowing this machine's end of the pair only. It runs as the user distccd (it drops root itself),
 * with a log at info level (one `COMPILE_OK` job summary per compile it ran) and TMPDIR in its own
 * directory, so a compiler it leaves behind when it is killed writes nowhere else.
 *
 * `path`: directories put first on the daemon's PATH (distccd runs the compiler it is asked for by
 * name, from its PATH: a directory with another `gcc` is another compiler on that host).
 * kill() kills every process in the namespace (the daemon, its children, their compilers): a daemon
 * that dies mid-build; its address then refuses connections. stop() also deletes the namespace.
 */
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tcpReach } from '../../src/compile/distcc.js';
import { createNetns, deleteNetns, killNetnsPids } from './netns.js';
import { requireCommands, requireRoot, runOk, sleep } from './proc.js';

export interface Distccd {
  /** The daemon's address (10.x.y.2). */
  address: string;
  /** This machine's address on the pair (what the daemon allows). */
  gateway: string;
  /** The network namespace's name. */
  netns: string;
  /** The daemon's log file (readable here: the tests read it to prove remote compiles). */
  logFile: string;
  /** Compiles the daemon ran to completion (its `COMPILE_OK` job summaries). */
  compiles(): number;
  /** Kill every process of the daemon (mid-build): its address refuses connections from now on. */
  kill(): Promise<void>;
  /** Kill it and remove its namespace and files. */
  stop(): Promise<void>;
}

export interface DistccdOptions {
  /** distccd --jobs (default 2). */
  jobs?: number;
  /** Directories first on the daemon's PATH. */
  path?: string[];
  /** The address allowed to connect (default: this machine's end of the pair). */
  allow?: string;
}

const running = new Set<Distccd>();

/** Stop every daemon this process started (an afterAll safety net). */
export async function stopAllDistccd(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop()));
}

export async function startDistccd(o: DistccdOptions = {}): Promise<Distccd> {
  requireRoot('startDistccd');
  requireCommands('startDistccd', [
    ['distccd', 'distcc'],
    ['ip', 'iproute2'],
  ]);
  const uid = Number((await runOk(['id', '-u', 'distccd'])).stdout.trim());
  const gid = Number((await runOk(['id', '-g', 'distccd'])).stdout.trim());
  const dir = mkdtempSync(join(tmpdir(), `kernelfile-distccd-${process.pid}-`));
  chmodSync(dir, 0o755);
  chownSync(dir, uid, gid);
  const logFile = join(dir, 'distccd.log');
  writeFileSync(logFile, '');
  chownSync(logFile, uid, gid);
  const { info, address } = await createNetns();
  let stopped: Promise<void> | undefined;
  const d: Distccd = {
    address,
    gateway: info.gateway,
    netns: info.name,
    logFile,
    compiles: () => (readFileSync(logFile, 'utf8').match(/ COMPILE_OK /g) ?? []).length,
    kill: () => killNetnsPids(info.name),
    stop: () => {
      stopped ??= (async () => {
        running.delete(d);
        await deleteNetns(info, address);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  running.add(d);
  try {
    await runOk([
      'ip',
      'netns',
      'exec',
      info.name,
      'env',
      `PATH=${[...(o.path ?? []), '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':')}`,
      `TMPDIR=${dir}`,
      'distccd',
      '--daemon',
      '--pid-file',
      join(dir, 'distccd.pid'),
      '--log-file',
      logFile,
      '--log-level',
      'info',
      '--jobs',
      String(o.jobs ?? 2),
      '--listen',
      address,
      '--allow',
      o.allow ?? info.gateway,
    ]);
    const until = Date.now() + 10_000;
    while ((await tcpReach(address, 3632, 1000)) !== null) {
      if (Date.now() > until)
        throw new Error(
          `distccd on ${address} is not listening after 10 s: ${readFileSync(logFile, 'utf8')}`,
        );
      await sleep(50);
    }
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}
