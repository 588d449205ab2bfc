/**
 * A fleet against Ansible and against the floor: real sshd hosts on 127.0.0.1 (the test harness,
 * test/helpers/sshd.ts), ONE Ansible YAML inventory and ONE known_hosts file for every tool; at 10
 * and at 50 hosts (BENCH_FLEET_HOSTS), side by side, alternating, all N hosts at once:
 *
 *  - `kernelfile plan --inventory INV --parallel N` (connect, gather facts, resolve the Kconfig from
 *    the warm config cache, plan each host; its text output to /dev/null), against
 *  - `ansible all -i INV -m setup --forks N` (connect, gather Ansible's facts; output to /dev/null),
 *    with Ansible's defaults otherwise (SSH ControlPersist 60 s: after its first, untimed run Ansible
 *    reuses its master connections, which only favours Ansible), and again with ControlMaster off
 *    (a fresh connection per host per run, as kernelfile makes);
 *  - the floors: bench/ssh-floor.mjs (Node and ssh2 connect to every host, run `true`, disconnect:
 *    what any Node tool on ssh2 as it comes pays) and OpenSSH (`ssh HOST true` to every host at
 *    once). kernelfile leaves out two exchanges of ssh2's login (src/host/ssh.ts, streamlineLogin:
 *    the public key query and the host key proofs), so it can go below the ssh2 floor.
 *
 * Goal (issue 15): ≥ 10× faster than Ansible at 10 and at 50 hosts. Where the time goes: each run's
 * CPU, the controller's (GNU time: the command and every child it waited for, plus Ansible's
 * ControlPersist masters, which outlive it) and the hosts' (every process inside the hosts: sshd,
 * shells, what they ran; from /proc/PID/stat), because the hosts run on this machine and compete with
 * the controller for its 2 CPUs; then the phases of one host, timed in this process, and how many
 * processes the facts script starts on a host.
 *
 * Then the controller's peak memory at 200 hosts (BENCH_FLEET_MEM_HOSTS; 0 skips it): `kernelfile plan
 * --inventory` with `--parallel 50` and with the default (20), under GNU time (`%M`, the peak RSS);
 * goal ≤ 150 MB.
 *
 * `-m setup` runs Python on the target, and the Debian test root has none: the hosts of this section
 * overlay a copy of the test root with python3 added (`apt-get install python3` in a chroot, built
 * once and kept beside the test root in the tests' cache dir, ~10 s; the shared test root is not
 * changed). Every tool works on the very same hosts. Ansible and GNU time come from
 * `scripts/install-deps.sh --bench` (ansible-core 2.14 on Debian 12); without Ansible only kernelfile
 * and the floors are measured, without GNU time the section is skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { factsScript, newNonce } from '../src/facts/gather.js';
import type { ScriptOptions } from '../src/facts/protocol.js';
import { keeperSocket, keeperStats, stopKeeper } from '../src/host/kept.js';
import { EXAMPLE, TEST_BUILD_CACHE } from '../test/helpers/kernel-artifacts.js';
import { isolated, note, PATH_ENV, runOk, secs, sweepStale, withFileLock } from '../test/helpers/proc.js';
import { ensureDebianRoot, MOUNT_DEV_SH, testCacheDir } from '../test/helpers/rootfs.js';
import { type SshHost, startSshHost } from '../test/helpers/sshd.js';
import { floorHosts, goal, line, median, record } from './lib.js';

/** What the bench's hosts add to the test root: the Python that Ansible's modules run on. */
const PYTHON_PACKAGES = ['python3'];

/** In a build namespace (args: ROOT PKG...): mounts for the chroot, then the packages. */
const PYTHON_SH = [
  'set -eu',
  'm=$1; shift',
  'mount -t proc -o nosuid,nodev,noexec kf-proc "$m/proc"',
  'mount -t sysfs -o ro,nosuid,nodev,noexec kf-sys "$m/sys"',
  MOUNT_DEV_SH,
  `in_root() { chroot "$m" /usr/bin/env -i PATH=${PATH_ENV} HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"; }`,
  'in_root apt-get -q -o Acquire::Check-Valid-Until=false update',
  'in_root apt-get install -y -q --no-install-recommends "$@"',
  'in_root apt-get clean',
  'rm -rf "$m"/var/lib/apt/lists/*',
].join('\n');

/**
 * The test root plus python3, as a directory beside it in the tests' cache (named after the test
 * root, whose name is its recipe's hash, and this recipe's hash): built once, read-only after, used
 * as the hosts' overlay lower layer.
 */
async function ensurePythonRoot(): Promise<string> {
  const base = await ensureDebianRoot();
  const hash = createHash('sha256')
    .update(JSON.stringify({ v: 1, packages: PYTHON_PACKAGES, script: PYTHON_SH }))
    .digest('hex')
    .slice(0, 8);
  const cache = testCacheDir();
  const name = `${basename(base)}-bench-python-${hash}`;
  const dir = join(cache, name);
  if (existsSync(join(dir, 'usr/bin/python3'))) return dir;
  return withFileLock(join(cache, `${name}.lock`), async () => {
    if (existsSync(join(dir, 'usr/bin/python3'))) return dir;
    await sweepStale('.tmp', cache);
    const tmp = await mkdtemp(join(cache, `.tmp-${process.pid}-`));
    try {
      const t0 = Date.now();
      await runOk(['cp', '-a', '--reflink=auto', base, join(tmp, 'root')]);
      await runOk([...isolated(), 'sh', '-c', PYTHON_SH, 'kf-python', join(tmp, 'root'), ...PYTHON_PACKAGES]);
      await rename(join(tmp, 'root'), dir);
      note(
        `bench hosts' root: the test root + ${PYTHON_PACKAGES.join(' ')} in ${secs(Date.now() - t0)} (${dir})`,
      );
      return dir;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

/** Ansible YAML inventory that both tools read: one host per SSH host, same keys, same known_hosts. */
function inventory(hosts: SshHost[], kh: string): string {
  const lines = [
    '# kernelfile bench/fleet.ts: read by `kernelfile plan --inventory` and by `ansible -i`',
    'all:',
    '  vars:',
    '    ansible_user: root',
    '    ansible_python_interpreter: /usr/bin/python3',
    `    ansible_ssh_common_args: "-o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes"`,
    `    kernelfile: ${EXAMPLE}`,
    '  hosts:',
  ];
  for (const h of hosts)
    lines.push(
      `    ${h.hostname}:`,
      `      ansible_host: ${h.address}`,
      `      ansible_port: ${h.port}`,
      `      ansible_ssh_private_key_file: ${h.keys.root.privateKeyPath}`,
    );
  return `${lines.join('\n')}\n`;
}

interface Run {
  code: number | null;
  out: string;
  err: string;
  /** Wall time of the command, ms. */
  wall: number;
  /** User + system CPU of the command and the children it waited for, ms (GNU time). */
  cpu: number;
  /** Peak RSS of the command or of its largest child, KB (GNU time %M). */
  rssKb: number;
}

const TIME = '/usr/bin/time';
let timeFiles = 0;

/** Run a command under GNU time; stdout is collected only when asked for (else /dev/null). */
function runTimed(argv: string[], env: NodeJS.ProcessEnv, dir: string, keepOut = false): Promise<Run> {
  const tf = join(dir, `time-${++timeFiles}`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(TIME, ['-o', tf, '-f', '%U %S %M', ...argv], {
      env,
      stdio: ['ignore', keepOut ? 'pipe' : 'ignore', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    p.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      const [u, s, m] = readFileSync(tf, 'utf8').trim().split('\n').pop()?.split(/\s+/).map(Number) ?? [];
      rmSync(tf, { force: true });
      resolve({ code, out, err, wall, cpu: ((u ?? 0) + (s ?? 0)) * 1000, rssKb: m ?? 0 });
    });
  });
}

/** USER_HZ: the unit of /proc/PID/stat's times (100 on every Linux architecture that matters). */
const TICK_MS = 10;

/**
 * CPU time (ms) of the processes that `pick` selects, from /proc/PID/stat: utime + stime + the
 * cutime + cstime of the children each has reaped. Summed before and after a run, the difference is
 * what the run cost them, whether the processes still live or have exited and been reaped (their
 * time then sits in a parent's cutime).
 */
function cpuOf(pick: (pid: string) => boolean): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!pick(pid)) continue;
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * TICK_MS;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Tool {
  name: string;
  run: () => Promise<Run>;
  /** CPU of the tool's processes that outlive a run (Ansible's ControlPersist masters). */
  lingering?: () => number;
  wall: number[];
  controller: number[];
  hosts: number[];
}

/**
 * Rounds of every tool in turn (the subject last, as sideBySide does); per run: wall time, the
 * controller's CPU (the command and its children, plus any lingering processes of it), and the CPU
 * that the hosts' processes (sshd, the shells and what they ran) spent meanwhile.
 */
async function rounds(tools: Tool[], hosts: SshHost[], runs: number): Promise<void> {
  const roots = new Set(hosts.map((h) => readlinkSync(h.root)));
  const hostsCpu = () =>
    cpuOf((pid) => {
      try {
        return roots.has(readlinkSync(`/proc/${pid}/root`));
      } catch {
        return false;
      }
    });
  for (let i = 0; i < runs; i++)
    for (const t of tools) {
      const h0 = hostsCpu();
      const l0 = t.lingering?.() ?? 0;
      const r = await t.run();
      await sleep(250); // sshd reaps the sessions' processes
      t.wall.push(r.wall);
      t.controller.push(r.cpu + (t.lingering?.() ?? 0) - l0);
      t.hosts.push(hostsCpu() - h0);
    }
}

/**
 * `kernelfile plan --inventory` in this process, phase by phase per host (as the engine's
 * PlanningSession runs them: a pool of N, each host connected, gathered and planned in turn): medians over
 * the hosts of the last of 3 rounds (the first pays for loading modules and the Kconfig cache).
 */
async function phases(
  root: string,
  inv: string,
  kh: string,
  dir: string,
  kfEnv: NodeJS.ProcessEnv,
  parallel: number,
) {
  const { PlanningSession, selectTargets } = await import('../src/engine/index.js');
  const { openHost } = await import('../src/host/open.js');
  const { gather } = await import('../src/facts/gather.js');
  const { pool } = await import('../src/fleet/rollout.js');
  const io = {
    out: () => {},
    err: () => {},
    color: false,
    cwd: root,
    env: { ...kfEnv, HOME: dir },
    readStdin: async () => Buffer.alloc(0),
  };
  let last = { total: 0, connect: 0, gather: 0, plan: 0 };
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
    const list = selectTargets(
      { inventory: inv, hostOptions: { sshConfig: 'none', knownHosts: [kh], env: io.env } },
      io,
    );
    const session = new PlanningSession(io);
    const rows: Array<{ connect: number; gather: number; plan: number }> = [];
    const loaded = await session.load(EXAMPLE); // every host's kernelfile (the session loads each file once)
    const settled = await pool(list, parallel, async (t) => {
      const a = process.hrtime.bigint();
      const tr = await openHost(t.address, t.hostOptions);
      const b = process.hrtime.bigint();
      try {
        const facts = await gather(tr);
        const c = process.hrtime.bigint();
        await session.planGathered(t, loaded, { transport: tr, facts });
        rows.push({ connect: ms(a, b), gather: ms(b, c), plan: ms(c, process.hrtime.bigint()) });
      } finally {
        await tr.close();
      }
    });
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    last = {
      total: ms(t0, process.hrtime.bigint()),
      connect: median(rows.map((r) => r.connect)),
      gather: median(rows.map((r) => r.gather)),
      plan: median(rows.map((r) => r.plan)),
    };
  }
  return last;
}

/** The facts script's options once the host's boot is known (what a second plan sends it). */
async function keptOptions(host: SshHost): Promise<ScriptOptions> {
  const bootId = (await host.exec(['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
  const probe = (
    await host.exec(['sh', '-c', 'command -v grub-probe || command -v grub2-probe'])
  ).stdout.trim();
  return { knownBoot: bootId, ...(probe ? { keptProbe: { bootId, tool: probe, uid: '0' } } : {}) };
}

/** OpenSSH's floor: `ssh HOST true` to every host at once (a fresh connection each, no multiplexing). */
function opensshFloor(hosts: SshHost[], kh: string): string {
  const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
  return [
    ...hosts.map(
      (h) =>
        `ssh -F none -o BatchMode=yes -o ControlMaster=no -o UserKnownHostsFile=${q(kh)} -o StrictHostKeyChecking=yes -i ${q(h.keys.root.privateKeyPath)} -p ${h.port} root@${h.address} true </dev/null >/dev/null &`,
    ),
    'wait',
  ].join('\n');
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Side by side on the same N hosts (BENCH_FLEET_HOSTS, default 10 and 50), alternating, N at a
 * time everywhere (`--parallel N`, `--forks N`):
 *   kernelfile plan --inventory              the subject
 *   ansible all -m setup                     the goal's baseline (≥ 10× faster), with ControlPersist
 *   … ControlMaster=no                       and with a fresh connection per host per run
 *   ssh2 floor (bench/ssh-floor.mjs)         Node + ssh2: connect, `true`, disconnect; nothing else
 *   OpenSSH floor                            `ssh HOST true` to every host at once
 * The two floors are what a login and a command cost on this machine (the hosts' sshd work
 * included: they run on the same 2 CPUs); kernelfile's distance to the ssh2 floor with the facts
 * script is what it adds, less what its leaner login saves (see above).
 */
export async function benchFleet(root: string): Promise<void> {
  const env = process.env;
  const runs = Number(env.BENCH_FLEET_RUNS ?? 5);
  const counts = (env.BENCH_FLEET_HOSTS ?? '10,50')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const memCount = Number(env.BENCH_FLEET_MEM_HOSTS ?? 200);
  if (!existsSync(TIME)) {
    console.log(
      `${'fleet'.padEnd(48)} skipped: ${TIME} (GNU time) is missing: scripts/install-deps.sh --bench`,
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kf-bench-fleet-'));
  const bin = join(root, 'bin/kernelfile.cjs');
  const floorScript = join(root, 'bench/ssh-floor.mjs');
  const kfEnv = { ...env, XDG_CACHE_HOME: TEST_BUILD_CACHE, NO_COLOR: '1' };
  // Ansible's own state (~/.ansible: temp files, ControlPath sockets) in the bench's directory.
  const ansibleEnv = { ...env, HOME: dir, ANSIBLE_NOCOLOR: '1' };
  const base = await ensurePythonRoot();
  const hosts: SshHost[] = [];
  const start = async (n: number) => {
    const t0 = Date.now();
    const before = hosts.length;
    // In batches: 200 namespaces with an sshd each start faster 25 at a time than all at once.
    while (hosts.length < n) {
      const more = await Promise.allSettled(
        Array.from({ length: Math.min(25, n - hosts.length) }, (_, i) =>
          startSshHost({ base, hostname: `kf-fleet-${String(hosts.length + i + 1).padStart(3, '0')}` }),
        ),
      );
      for (const r of more) if (r.status === 'fulfilled') hosts.push(r.value);
      const failed = more.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    const load = loadavg()[0] as number;
    console.log(
      `${`fleet: ${n} sshd hosts on 127.0.0.1`.padEnd(48)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(8)} s    (${n - before} started; this machine: ${cpus().length} CPUs, load ${load.toFixed(1)}, the hosts run on it too)`,
    );
  };
  const kh = join(dir, 'known_hosts');
  const inv = join(dir, 'inventory.yml');
  const floorFile = join(dir, 'hosts.json');
  const opensshFile = join(dir, 'openssh-floor.sh');
  const write = (n: number) => {
    const some = hosts.slice(0, n);
    writeFileSync(kh, `${some.map((h) => h.knownHostsLine()).join('\n')}\n`);
    writeFileSync(inv, inventory(some, kh));
    writeFileSync(floorFile, floorHosts(some));
    writeFileSync(opensshFile, opensshFloor(some, kh));
  };
  const planArgv = (parallel?: number) => [
    process.execPath,
    bin,
    'plan',
    '--inventory',
    inv,
    '--ssh-config',
    'none',
    '--known-hosts',
    kh,
    ...(parallel ? ['--parallel', String(parallel)] : []),
  ];
  /** Untimed: every host must plan (state "changes pending": the example is not installed). */
  const checkPlan = async (n: number) => {
    const r = await runTimed([...planArgv(Math.min(n, 20)), '--json'], kfEnv, dir, true);
    let states: string[] = [];
    try {
      states = (JSON.parse(r.out) as { hosts: Array<{ state: string }> }).hosts.map((h) => h.state);
    } catch {}
    const ok = states.filter((x) => x === 'changes pending').length;
    if (r.code !== 0 || ok !== n)
      throw new Error(
        `kernelfile plan --inventory: exit ${r.code}, ${ok} of ${n} hosts planned (${[...new Set(states)].join('; ')})\n${r.err}${r.out.slice(0, 4000)}`,
      );
    return r;
  };
  const ok = (what: string, r: Run) => {
    if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.err}${r.out.slice(0, 4000)}`);
    return r;
  };
  try {
    for (const [index, count] of counts.entries()) {
      await start(count);
      write(count);
      const warm = await checkPlan(count); // warms the config cache and the page cache
      console.log(
        `${'kernelfile plan --inventory, first run (warm-up)'.padEnd(48)} ${warm.wall.toFixed(1).padStart(8)} ms   (not compared; ${count} of ${count} hosts planned)`,
      );
      const tools: Tool[] = [];
      const tool = (name: string, run: () => Promise<Run>, lingering?: () => number): Tool => {
        const t: Tool = {
          name,
          run,
          wall: [],
          controller: [],
          hosts: [],
          ...(lingering ? { lingering } : {}),
        };
        tools.push(t);
        return t;
      };
      let ansible: Tool | undefined;
      let fresh: Tool | undefined;
      if (!has('ansible')) {
        console.log(
          `${'ansible all -m setup'.padEnd(48)} skipped: ansible is not installed (scripts/install-deps.sh --bench)`,
        );
      } else {
        const ansibleArgv = ['ansible', 'all', '-i', inv, '-m', 'setup', '--forks', String(count)];
        const ansibleRun =
          (e: NodeJS.ProcessEnv, keepOut = false) =>
          async () =>
            ok('ansible -m setup', await runTimed(ansibleArgv, e, dir, keepOut));
        // Untimed: Ansible must gather on every host (and starts its ControlPersist masters).
        const first = await ansibleRun(ansibleEnv, true)();
        const success = (first.out.match(/^\S+ \| SUCCESS => /gm) ?? []).length;
        if (success !== count)
          throw new Error(
            `ansible -m setup: ${success} of ${count} hosts SUCCESS\n${first.out.slice(0, 4000)}`,
          );
        console.log(
          `${`ansible all -m setup --forks ${count}, first run`.padEnd(48)} ${first.wall.toFixed(1).padStart(8)} ms   (not compared; ${success} of ${count} hosts SUCCESS)`,
        );
        // The ssh masters Ansible leaves behind (ControlPersist 60 s) do part of its work.
        const cp = join(dir, '.ansible', 'cp');
        const masters = () =>
          cpuOf((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cp);
            } catch {
              return false;
            }
          });
        ansible = tool(`ansible all -m setup --forks ${count}`, ansibleRun(ansibleEnv), masters);
        // Without the persistent masters: a fresh SSH connection per host per run, as kernelfile makes.
        fresh = tool(
          '… ControlMaster=no (fresh conns)',
          ansibleRun({ ...ansibleEnv, ANSIBLE_SSH_ARGS: '-o ControlMaster=no -o ControlPersist=no' }),
        );
      }
      const floor = tool('ssh2 floor (connect, true)', async () =>
        ok(
          'bench/ssh-floor.mjs',
          await runTimed([process.execPath, floorScript, floorFile, String(count)], env, dir),
        ),
      );
      // The facts script as kernelfile sends it once a host's boot is known (the running config
      // and grub-probe's answer kept on the controller; every host here shares this machine's boot).
      const factsFile = join(dir, 'facts-floor.sh');
      const kept = await keptOptions(hosts[0] as SshHost);
      writeFileSync(factsFile, factsScript(newNonce(), kept));
      const floorFacts = tool('ssh2 floor + facts script (sh -s)', async () =>
        ok(
          'bench/ssh-floor.mjs with the facts script',
          await runTimed([process.execPath, floorScript, floorFile, String(count), factsFile], env, dir),
        ),
      );
      const openssh = tool('OpenSSH floor (ssh HOST true)', async () =>
        ok('ssh HOST true', await runTimed(['sh', opensshFile], env, dir)),
      );
      const kf = tool('kernelfile plan --inventory', async () =>
        ok('kernelfile plan --inventory', await runTimed(planArgv(count), kfEnv, dir)),
      );
      // Connections kept between runs by kernelfile's keeper, as Ansible's ControlPersist keeps its
      // masters: the keeper's CPU counts as the controller's. Its socket is in the bench's directory.
      const keptEnv = { ...kfEnv, XDG_RUNTIME_DIR: dir };
      const persistArgv = [...planArgv(count), '--control-persist', '60'];
      ok('kernelfile plan --control-persist (warm-up)', await runTimed(persistArgv, keptEnv, dir));
      // Known by the pid it reports: its command line is its title (`kernelfile-keeper`), which
      // names neither its bundle nor its socket.
      const keeperPid = (await keeperStats(keeperSocket(keptEnv)))?.pid;
      if (keeperPid === undefined)
        throw new Error('kernelfile plan --control-persist left no keeper answering');
      const keeper = () => cpuOf((pid) => pid === String(keeperPid));
      const kfKept = tool(
        '… --control-persist 60 (kept conns)',
        async () => ok('kernelfile plan --control-persist', await runTimed(persistArgv, keptEnv, dir)),
        keeper,
      );
      try {
        await rounds(tools, hosts.slice(0, count), runs);
        const after = (await keeperStats(keeperSocket(keptEnv)))?.pid;
        if (after !== keeperPid)
          throw new Error(
            `the keeper was replaced during the rounds (pid ${keeperPid}, now ${after}): its CPU is unknown`,
          );
      } finally {
        await stopKeeper(keeperSocket(keptEnv));
      }
      // Where the controller's CPU goes: one more plan under V8's sampling profiler, kept.
      const prof = process.env.BENCH_FLEET_CPU_PROF;
      if (prof) {
        const [node, ...rest] = planArgv(count);
        const r = await runTimed(
          [node as string, '--cpu-prof', `--cpu-prof-dir=${join(prof, String(count))}`, ...rest],
          kfEnv,
          dir,
        );
        ok('kernelfile plan --inventory under --cpu-prof', r);
        console.log(`${''.padEnd(48)} CPU profile of one plan: ${join(prof, String(count))}`);
      }
      const subject = median(kf.wall);
      const name = `kernelfile plan --inventory, ${count} hosts`;
      const fl = median(floor.wall);
      const os = median(openssh.wall);
      const ff = median(floorFacts.wall);
      const keptWall = median(kfKept.wall);
      console.log(line(name, subject, floor.name, fl));
      console.log(line('', subject, floorFacts.name, ff));
      console.log(line('', subject, openssh.name, os));
      if (ansible && fresh) {
        const a = median(ansible.wall);
        const f = median(fresh.wall);
        console.log(line('', subject, ansible.name, a));
        console.log(line('', subject, fresh.name, f));
        console.log(line('', keptWall, ansible.name, a));
        console.log(
          `${''.padEnd(48)} kernelfile ${s(subject)}, ansible ${s(a)} (${s(f)} without ControlPersist): ${(a / subject).toFixed(1)}× faster (${(f / subject).toFixed(1)}×); ansible is ${(a / fl).toFixed(1)}× the ssh2 floor`,
        );
        console.log(
          `${''.padEnd(48)} both keeping connections: kernelfile --control-persist ${s(keptWall)}, ansible (ControlPersist) ${s(a)}: ${(a / keptWall).toFixed(1)}× faster`,
        );
        record({
          name: `plan --inventory, ${count} hosts vs ansible -m setup`,
          value: s(subject),
          detail: `ansible ${s(a)}: ${(a / subject).toFixed(1)}× faster (${(f / subject).toFixed(1)}× vs fresh conns); goal ≥ 10×: ${a / subject >= 10 ? 'met' : 'MISSED'}; floor: ansible is ${(a / fl).toFixed(1)}× ssh2's floor`,
        });
        record({
          name: `plan --control-persist, ${count} hosts vs ansible -m setup (both keep connections)`,
          value: s(keptWall),
          detail: `ansible ${s(a)}: ${(a / keptWall).toFixed(1)}× faster; goal ≥ 10×: ${a / keptWall >= 10 ? 'met' : 'MISSED'}`,
        });
      }
      record({
        name: `plan --inventory, ${count} hosts vs the ssh2 floor`,
        value: s(subject),
        detail: `ssh2 floor ${s(fl)}: ${(subject / fl).toFixed(2)}×; with the facts script ${s(ff)}: ${(subject / ff).toFixed(2)}×; OpenSSH floor ${s(os)}`,
      });
      // Where the time goes: on this machine the hosts' work competes with the controller's.
      const cpuText = (t: Tool) => `${s(median(t.controller))} + ${s(median(t.hosts))}`;
      console.log(
        `${'  CPU per run: controller + hosts'.padEnd(48)} kernelfile ${cpuText(kf)}, with kept conns ${cpuText(kfKept)}; ssh2 floor ${cpuText(floor)}, with the facts script ${cpuText(floorFacts)}; OpenSSH floor ${cpuText(openssh)}${ansible && fresh ? `; ansible ${cpuText(ansible)}; fresh conns ${cpuText(fresh)}` : ''}`,
      );
      record({
        name: `CPU per run (controller + hosts), ${count} hosts`,
        value: cpuText(kf),
        detail: `ssh2 floor ${cpuText(floor)}, with the facts script ${cpuText(floorFacts)}${ansible ? `; ansible ${cpuText(ansible)}` : ''}`,
      });
      if (index === 0) {
        const ph = await phases(root, inv, kh, dir, kfEnv, count);
        // Processes the facts script starts on a host: at its first gather, and once what does not
        // change in a boot (the running config, grub-probe's answer) is kept on the controller.
        const forks = async (opts: ScriptOptions) =>
          (
            await hosts[0]?.exec(
              [
                'sh',
                '-c',
                'a=$(cat /proc/sys/kernel/ns_last_pid); sh -s >/dev/null; b=$(cat /proc/sys/kernel/ns_last_pid); echo $((b - a - 2))',
              ],
              { stdin: factsScript(newNonce(), opts) },
            )
          )?.stdout.trim();
        const first = await forks({});
        const later = await forks(kept);
        console.log(
          `${'  in process, per host (medians)'.padEnd(48)} connect ${ph.connect.toFixed(0)} ms, gather ${ph.gather.toFixed(0)} ms, plan ${ph.plan.toFixed(0)} ms; ${count} hosts ${ph.total.toFixed(0)} ms; the facts script starts ${later} processes on a host (${first} at its first gather in a boot)`,
        );
      }
    }

    // ── controller memory (BENCH_FLEET_MEM_HOSTS=0: skipped) ──────────────────────────────────
    if (memCount > 0) {
      await start(memCount);
      write(memCount);
      await checkPlan(memCount);
    }
    for (const parallel of memCount > 0 ? [50, undefined] : []) {
      const rss: number[] = [];
      const wall: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = ok(
          `kernelfile plan --inventory (${memCount} hosts)`,
          await runTimed(planArgv(parallel), kfEnv, dir),
        );
        rss.push(r.rssKb / 1024);
        wall.push(r.wall);
      }
      const peak = Math.max(...rss);
      const label = parallel ? `--parallel ${parallel}` : 'no --parallel (20)';
      console.log(
        `${`plan --inventory, ${memCount} hosts, ${label}`.padEnd(48)} ${median(wall).toFixed(1).padStart(8)} ms   peak RSS ${median(rss).toFixed(1)} MB (max ${peak.toFixed(1)} MB of ${rss.length} runs)`,
      );
      record({
        name: `controller peak RSS, ${memCount} hosts, ${label}`,
        value: `${peak.toFixed(1)} MB`,
        detail: `wall ${s(median(wall))}; ${goal(peak, 150, 'MB')}`,
      });
    }
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
