/**
 * kernelfile against a real host over SSH: a Debian bookworm sshd host on 127.0.0.1 (the test
 * harness, test/helpers/sshd.ts), converged once with `kernelfile apply examples/qemu-tiny` (the
 * example kernel comes from the tests' build cache: test/helpers/kernel-artifacts.ts builds it,
 * about 2.5 min the first time). Then, side by side:
 *
 *  - `kernelfile plan` on the converged host, config cache warm (goal ≤ 1.3× `ssh … true`), against
 *    a plain OpenSSH round trip (`ssh … true`), `kernelfile --version` (Node start-up) and OpenSSH
 *    running kernelfile's facts script (`ssh … sh -s < SCRIPT`: what the host does for a plan,
 *    without kernelfile) and the floor of any Node tool on SSH (bench/ssh-floor.mjs: Node starts,
 *    ssh2 connects, runs `true`, disconnects), with the phases of a plan timed in process (connect, gather, Kconfig
 *    resolution from the cache, DKMS preflight, planning); sshd logs (LogLevel VERBOSE) every
 *    connection and session: a plan is one connection and one command;
 *  - `kernelfile apply --yes` on the converged host (goal: one connection, one command, no file
 *    changed), against the same baselines; `find / -xdev -newer MARK` inside the host lists every
 *    file the re-applies changed;
 *  - shipping the build (src/apply/ship.ts ship(): vmlinuz, System.map, config, modules.tar,
 *    headers.tar) into a fresh directory, connect included, against OpenSSH's `scp` of the same
 *    files into another fresh directory (goal ≥ 0.9× scp's throughput).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ship, shipFiles } from '../src/apply/ship.js';
import { hostOptions } from '../src/cli/host-settings.js';
import type { Io } from '../src/cli/io.js';
import { loadSpec } from '../src/cli/kernelfile.js';
import { prepare, readManifest } from '../src/compile/build.js';
import { cacheDirs, cacheRoot } from '../src/compile/cache.js';
import { sha256File } from '../src/compile/hash.js';
import { DkmsPreflight } from '../src/dkms/preflight.js';
import { factsScript, familyDigests, gather, newNonce } from '../src/facts/gather.js';
import { openHost } from '../src/host/open.js';
import { plan } from '../src/plan/planner.js';
import { hasChanges } from '../src/plan/types.js';
import { renderHostPlan } from '../src/render/plan-text.js';
import { plain } from '../src/render/style.js';
import { desiredFrom } from '../src/resources/desired.js';
import { resolvePath } from '../src/spec/paths.js';
import { kernelfile } from '../test/helpers/cli.js';
import {
  countSshdSessions,
  filesChangedSince,
  type SshdSessions,
  sshdLogSince,
} from '../test/helpers/host-state.js';
import { EXAMPLE, ensureKernelArtifacts, TEST_BUILD_CACHE } from '../test/helpers/kernel-artifacts.js';
import { ensureDebianRoot } from '../test/helpers/rootfs.js';
import { type SshHost, startSshHost } from '../test/helpers/sshd.js';
import {
  floorHosts,
  goal,
  line,
  median,
  ratioGoal,
  record,
  sideBySide,
  sideBySideMany,
  time,
} from './lib.js';

const MB = 1e6;

function spawnOk(argv: string[], stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0] as string, argv.slice(1), {
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
    });
    if (stdin !== undefined) p.stdin?.end(stdin);
    let err = '';
    p.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    p.on('error', reject);
    p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`${argv[0]} exited ${c}: ${err.trim()}`))));
  });
}

/** OpenSSH client options: the same key and known_hosts as kernelfile gets, no ssh config. */
const openSshOptions = (h: SshHost, kh: string) => [
  '-F',
  'none',
  '-o',
  'BatchMode=yes',
  '-o',
  `UserKnownHostsFile=${kh}`,
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-i',
  h.keys.root.privateKeyPath,
];

const fmtSessions = (s: SshdSessions) =>
  `${s.connections} connection${s.connections === 1 ? '' : 's'}, ${s.commands} command${s.commands === 1 ? '' : 's'}, ${s.sftp} SFTP session${s.sftp === 1 ? '' : 's'}`;

/** The connections and sessions sshd logged while `fn` ran (LogLevel VERBOSE). */
async function sessionsOf(h: SshHost, fn: () => Promise<void>): Promise<SshdSessions> {
  const before = h.log();
  await fn();
  await new Promise((r) => setTimeout(r, 300)); // sshd's last lines
  return countSshdSessions(sshdLogSince(h, before));
}

export async function benchHost(root: string, o: { apply: boolean; ship: boolean }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kf-bench-host-'));
  const t0 = Date.now();
  const [artifacts] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  const manifest = JSON.parse(readFileSync(join(artifacts, 'manifest.json'), 'utf8')) as { release: string };
  const setup = Date.now() - t0;
  if (setup > 5000)
    console.log(`${''.padEnd(48)} (built the example kernel: ${(setup / 1000).toFixed(0)} s)`);
  // VERBOSE: sshd logs each connection and each session ("Starting session: command …").
  const h = await startSshHost({ hostname: 'kf-bench', sshdConfig: ['LogLevel VERBOSE'] });
  try {
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, `${h.knownHostsLine()}\n`);
    const address = `ssh://root@${h.host}:${h.port}`;
    const sshArgs = [
      '--host',
      address,
      '--ssh-config',
      'none',
      '--known-hosts',
      kh,
      '-i',
      h.keys.root.privateKeyPath,
    ];
    const sshTrue = () =>
      spawnOk(['ssh', ...openSshOptions(h, kh), '-p', String(h.port), `root@${h.host}`, 'true']);
    const version = () => spawnOk([process.execPath, join(root, 'bin/kernelfile.cjs'), '--version']);
    // What the host does for a plan, without kernelfile: OpenSSH running kernelfile's facts script,
    // as a plan sends it once the host's running config is kept (its boot id known: not sent again).
    const bootId = (await h.exec(['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
    const sshFacts = () =>
      spawnOk(
        ['ssh', ...openSshOptions(h, kh), '-p', String(h.port), `root@${h.host}`, 'sh', '-s'],
        factsScript(newNonce(), { knownBoot: bootId }),
      );
    // The floor of any Node tool on SSH: Node starts, ssh2 connects, runs `true`, disconnects.
    const floorFile = join(dir, 'floor-hosts.json');
    writeFileSync(floorFile, floorHosts([h]));
    const ssh2Floor = () => spawnOk([process.execPath, join(root, 'bench/ssh-floor.mjs'), floorFile, '1']);
    const baselines = [
      ['ssh root@host true (OpenSSH)', sshTrue],
      ['kernelfile --version', version],
      ['ssh root@host sh -s < facts script', sshFacts],
      ['node + ssh2: connect, true (floor)', ssh2Floor],
    ] as const;
    const runs = Number(process.env.BENCH_HOST_RUNS ?? 10);

    if (o.apply) {
      const tc = Date.now();
      const first = await kernelfile(['apply', EXAMPLE, ...sshArgs, '--yes']);
      if (first.code !== 0) throw new Error(`the first apply failed:\n${first.out}${first.err}`);
      console.log(
        `${'kernelfile apply, fresh host (converge once)'.padEnd(48)} ${((Date.now() - tc) / 1000).toFixed(1).padStart(8)} s    (not compared; ${/Apply complete: .*/.exec(first.out)?.[0] ?? ''})`,
      );

      // ── plan, converged host ────────────────────────────────────────────────────────────
      const planArgs = ['plan', EXAMPLE, ...sshArgs, '--detailed-exitcode'];
      const planCli = async () => {
        const r = await kernelfile(planArgs);
        if (r.code !== 0) throw new Error(`plan on the converged host: exit ${r.code}\n${r.out}${r.err}`);
      };
      await planCli(); // the config cache is warm after apply; this warms the page cache too
      const planSessions = await sessionsOf(h, planCli);
      const p = await sideBySideMany('kernelfile plan --host ssh://… (converged)', baselines, planCli, runs);
      const sshMs = p.baselines[0] as number;
      console.log(`${''.padEnd(48)} per plan: ${fmtSessions(planSessions)} (sshd log)`);
      record({
        name: 'kernelfile plan, converged SSH host (CLI)',
        value: `${p.subject.toFixed(1)} ms`,
        baseline: `ssh host true ${sshMs.toFixed(1)} ms`,
        ratio: p.subject / sshMs,
        goal: ratioGoal(p.subject / sshMs, 1.3),
        detail: `${(p.subject / (p.baselines[2] as number)).toFixed(2)}× OpenSSH running the facts script (${(p.baselines[2] as number).toFixed(0)} ms); ${(p.subject / (p.baselines[1] as number)).toFixed(2)}× --version; the Node + ssh2 floor is ${((p.baselines[3] as number) / sshMs).toFixed(2)}× ssh host true (${(p.baselines[3] as number).toFixed(0)} ms), kernelfile ${(p.subject / (p.baselines[3] as number)).toFixed(2)}× that floor`,
      });
      record({
        name: 'plan, converged host: round trips',
        value: `${planSessions.connections} conn, ${planSessions.commands} cmd`,
        goal: {
          text: '1 connection, 1 command',
          met: planSessions.connections === 1 && planSessions.commands === 1 && planSessions.sftp === 0,
        },
        detail: `${planSessions.sftp} SFTP sessions`,
      });
      await planPhases(root, address, h, kh, dir, runs);

      // ── re-apply, converged host ────────────────────────────────────────────────────────
      const mark = '/run/kf-bench-mark';
      await h.exec(['touch', mark]);
      await new Promise((r) => setTimeout(r, 20)); // a later mtime than the mark, on any file system
      const applyCli = async () => {
        const r = await kernelfile(['apply', EXAMPLE, ...sshArgs, '--yes']);
        if (r.code !== 0 || !r.out.includes('No changes.'))
          throw new Error(`apply on the converged host changed something: exit ${r.code}\n${r.out}${r.err}`);
      };
      const sessions = await sessionsOf(h, applyCli);
      const a = await sideBySideMany('kernelfile apply --yes (converged)', baselines, applyCli, runs);
      const files = await filesChangedSince(h, mark);
      console.log(
        `${''.padEnd(48)} per re-apply: ${fmtSessions(sessions)} (sshd log); files changed by ${runs + 1} re-applies: ${files.length ? files.join(' ') : 'none'}`,
      );
      record({
        name: 'kernelfile apply, converged SSH host (CLI)',
        value: `${a.subject.toFixed(1)} ms`,
        baseline: `ssh host true ${(a.baselines[0] as number).toFixed(1)} ms`,
        ratio: a.subject / (a.baselines[0] as number),
        detail: goal(a.subject, 1000),
      });
      record({
        name: 're-apply, converged host: round trips, changes',
        value: `${sessions.connections} conn, ${sessions.commands} cmd`,
        goal: {
          text: '1 connection, 1 command, 0 files changed',
          met:
            sessions.connections === 1 &&
            sessions.commands === 1 &&
            sessions.sftp === 0 &&
            files.length === 0,
        },
        detail: `${sessions.sftp} SFTP sessions; files changed by ${runs + 1} re-applies: ${files.length}`,
      });
    }

    if (o.ship) await benchShip(artifacts, manifest.release, h, kh, dir);
  } finally {
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The phases of `kernelfile plan`, timed in this process as src/cli/plan-host.ts runs them
 * (medians): where the CLI's time goes. `node + CLI start-up` is `kernelfile --version` (Node, the
 * bundle from its code cache, the command line parsed); `validate` reads and checks the
 * kernelfile; `connect` is the ssh2 handshake and authentication; `gather` the facts script (one
 * round trip), and in parentheses what `dkms status` alone takes on the same host (part of
 * gather); `prepare` the source, patches and Kconfig resolution from the cache (build.ts prepare);
 * `DKMS preflight` evaluates each module's dkms.conf in bash; `plan() + render` the rest.
 */
async function planPhases(
  root: string,
  address: string,
  h: SshHost,
  kh: string,
  dir: string,
  runs: number,
): Promise<void> {
  const io: Io = {
    out: () => {},
    err: () => {},
    color: false,
    cwd: root,
    env: { ...process.env, XDG_CACHE_HOME: TEST_BUILD_CACHE, NO_COLOR: '1' },
    readStdin: async () => Buffer.alloc(0),
    stdinIsTTY: false,
    stderrIsTTY: false,
    ask: async () => '',
  };
  const phases: Record<string, number[]> = {};
  const lap = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    const t = process.hrtime.bigint();
    const v = await fn();
    phases[name] = [...(phases[name] ?? []), Number(process.hrtime.bigint() - t) / 1e6];
    return v;
  };
  for (let i = 0; i < runs + 1; i++) {
    const loaded = await lap('validate', () => loadSpec(EXAMPLE, io));
    if (!loaded.result.ok) throw new Error('examples/qemu-tiny does not validate');
    const { spec } = loaded.result.value;
    const t = await lap('connect', () =>
      openHost(
        address,
        hostOptions(
          { host: address, sshConfig: 'none', knownHosts: [kh], identity: [h.keys.root.privateKeyPath] },
          { ...io, env: { ...io.env, HOME: dir } },
        ),
      ),
    );
    const facts = await lap('gather', () => gather(t));
    // Not a phase of its own: the part of gather that `dkms status` (a bash script on the host) takes.
    await lap('↳ dkms status', () => t.run(['dkms', 'status']));
    const resolve = (w: string) => resolvePath(w, { kernelfile: EXAMPLE, home: loaded.home });
    const dirs = cacheDirs(cacheRoot(spec.build?.cacheDir, io.env));
    const prepared = await lap('prepare (Kconfig cached)', () =>
      prepare({
        spec,
        arch: spec.kernel.arch ?? facts.system.arch ?? 'x86_64',
        dirs,
        resolvePath: resolve,
        setOrigin: () => ({ file: EXAMPLE, line: 1 }),
      }),
    );
    const checks = await lap('DKMS preflight', () =>
      new DkmsPreflight().check(spec, resolve, facts, prepared, t),
    );
    const p = await lap('plan() + render', () => {
      const mf = readManifest(join(dirs.artifacts, prepared.buildId));
      const boot = mf?.files.filter((f) => ['vmlinuz', 'System.map', 'config'].includes(f.path));
      const d = desiredFrom(
        spec,
        { path: 'kernelfile.yaml', sha256: '0'.repeat(64) },
        resolve,
        {
          release: prepared.release,
          buildId: prepared.buildId,
          arch: prepared.arch,
          effective: prepared.config.effective,
          requested: prepared.config.requestedSymbols,
          artifacts: {
            cached: mf !== undefined,
            bootBytes: boot ? boot.reduce((n, f) => n + f.size, 0) : null,
          },
        },
        checks,
      );
      const hp = plan(d, facts, { factsFamilies: familyDigests(facts), image: false });
      renderHostPlan(hp, { style: plain, configDiff: 'summary' });
      return hp;
    });
    await lap('close', () => t.close());
    if (hasChanges(p)) throw new Error('the in-process plan of the converged host has changes');
  }
  // The CLI's own start-up: Node, the bundle compiled from its code cache, the command line parsed.
  for (let i = 0; i < 6; i++)
    await lap('node + CLI start-up (--version)', () =>
      spawnOk([process.execPath, join(root, 'bin/kernelfile.cjs'), '--version']),
    );
  // The first round pays for loading modules and JIT (and the page cache): drop it.
  const meds = Object.entries(phases).map(([k, v]) => [k, median(v.slice(1))] as const);
  const sum = meds.filter(([k]) => !k.startsWith('↳')).reduce((n, [, v]) => n + v, 0);
  console.log(
    `${''.padEnd(48)} phases (ms): ${meds.map(([k, v]) => (k.startsWith('↳') ? `(${k.slice(2)} ${v.toFixed(0)})` : `${k} ${v.toFixed(0)}`)).join(' · ')} = ${sum.toFixed(0)}`,
  );
}

async function benchShip(
  artifacts: string,
  release: string,
  h: SshHost,
  kh: string,
  dir: string,
): Promise<void> {
  const files = await shipFiles(artifacts, release); // packs the tarballs once, as the executor does
  const bytes = Object.values(files).reduce((n, f) => n + statSync(f).size, 0);
  const runs = Number(process.env.BENCH_SHIP_RUNS ?? 5);
  const opts = {
    sshConfig: 'none',
    knownHosts: [kh],
    identities: [h.keys.root.privateKeyPath],
    env: { HOME: dir, USER: 'bench' },
  };
  const base = '/var/tmp/kf-bench-ship';
  await h.exec(['rm', '-rf', base]);
  await h.exec(['mkdir', '-p', ...Array.from({ length: runs + 1 }, (_, i) => `${base}/scp-${i}`)]);
  let n = 0;
  let m = 0;
  const connects: number[] = [];
  const ships: number[] = [];
  const scp = async () => {
    const to = `${base}/scp-${n++}/`;
    await spawnOk([
      'scp',
      '-q',
      ...openSshOptions(h, kh),
      '-P',
      String(h.port),
      ...Object.values(files),
      `root@${h.host}:${to}`,
    ]);
  };
  const shipOnce = async () => {
    const to = `${base}/ship-${m++}`;
    const t0 = process.hrtime.bigint();
    const t = await openHost(`ssh://root@${h.host}:${h.port}`, opts);
    const t1 = process.hrtime.bigint();
    try {
      const r = await ship(t, files, to);
      if (r.skipped.length || r.bytes !== bytes) throw new Error(`ship skipped ${r.skipped.join(', ')}`);
    } finally {
      await t.close();
    }
    connects.push(Number(t1 - t0) / 1e6);
    ships.push(Number(process.hrtime.bigint() - t1) / 1e6);
  };
  // One round first: page cache and JIT warm for both.
  await scp();
  await shipOnce();
  connects.length = 0;
  ships.length = 0;
  const r = await sideBySide(
    `ship() ${(bytes / MB).toFixed(1)} MB, 5 files (connect incl.)`,
    'scp of the same files (OpenSSH)',
    scp,
    shipOnce,
    runs,
  );
  // The files arrived whole.
  const sums = await h.exec(['sh', '-c', `cd ${base}/ship-1 && sha256sum *`]);
  const want = await Promise.all(Object.entries(files).map(async ([k, f]) => `${await sha256File(f)}  ${k}`));
  for (const w of want)
    if (!sums.stdout.includes(w)) throw new Error(`ship-1 on the host does not hold ${w.slice(66)} intact`);
  await h.exec(['rm', '-rf', base]);
  const hashing = median(
    await Promise.all([0, 1, 2].map(() => time(() => Promise.all(Object.values(files).map(sha256File))))),
  );
  const mbs = (ms: number) => bytes / MB / (ms / 1000);
  console.log(
    `${''.padEnd(48)} ${mbs(r.subject).toFixed(0)} MB/s vs scp ${mbs(r.baseline).toFixed(0)} MB/s: ${(r.baseline / r.subject).toFixed(2)}× scp's throughput (goal ≥ 0.9×); of ship's ${r.subject.toFixed(0)} ms: connect ${median(connects).toFixed(0)} ms, ship() ${median(ships).toFixed(0)} ms (local sha256 of the files alone: ~${hashing.toFixed(0)} ms)`,
  );
  console.log(
    line('ship() alone (connection open)', median(ships), 'scp of the same files (OpenSSH)', r.baseline),
  );
  record({
    name: `ship() ${(bytes / MB).toFixed(1)} MB vs scp (connect incl.)`,
    value: `${mbs(r.subject).toFixed(0)} MB/s`,
    detail: `scp ${mbs(r.baseline).toFixed(0)} MB/s; ${(r.baseline / r.subject).toFixed(2)}× scp's throughput (goal ≥ 0.9×: ${r.baseline / r.subject >= 0.9 ? 'met' : 'MISSED'})`,
  });
}
