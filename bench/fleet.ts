/**
 * A fleet against Ansible: 20 real sshd hosts on 127.0.0.1 (the test harness, test/helpers/sshd.ts),
 * ONE Ansible YAML inventory and ONE known_hosts file for both tools, then side by side, alternating:
 *
 *  - `kernelfile plan --inventory INV --parallel 20` (connect, gather facts, resolve the Kconfig from
 *    the warm config cache, plan each host; its own text output to /dev/null), against
 *  - `ansible all -i INV -m setup --forks 20` (connect, gather Ansible's facts; output to /dev/null),
 *    with Ansible's defaults otherwise (SSH ControlPersist 60 s: after the first round Ansible reuses
 *    its master connections, which only favours Ansible), plus a second baseline with ControlMaster
 *    off (every run opens fresh connections, as kernelfile does).
 *
 * Goal (issue "Fleets"): ≥ 10× faster than Ansible. Then the controller's peak memory: 50 hosts,
 * `kernelfile plan --inventory INV50` with `--parallel 50` and the default 20, under GNU time
 * (`/usr/bin/time -f %M`, the peak RSS of the process); goal ≤ 150 MB.
 *
 * `-m setup` runs Python on the target, and the Debian test root has none: the hosts of this section
 * overlay a copy of the test root with python3 added (`apt-get install python3` in a chroot, built
 * once and cached beside the test root in the tests' cache dir, ~30 s; the shared test root is not
 * changed). Both tools see the very same hosts. Ansible comes from `scripts/install-deps.sh --bench`
 * (ansible-core 2.14, Debian 12); without it the comparison is skipped and only the memory is measured.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EXAMPLE, TEST_BUILD_CACHE } from '../test/helpers/kernel-artifacts.js';
import { isolated, note, PATH_ENV, runOk, secs, sweepStale, withFileLock } from '../test/helpers/proc.js';
import { ensureDebianRoot, MOUNT_DEV_SH, testCacheDir } from '../test/helpers/rootfs.js';
import { type SshHost, startSshHost } from '../test/helpers/sshd.js';
import { goal, median, record, sideBySideMany } from './lib.js';

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

interface Exit {
  code: number | null;
  out: string;
  err: string;
}

/** Run a command; stdout is collected only when asked for (else /dev/null, like a user's redirect). */
function exec(argv: string[], env: NodeJS.ProcessEnv, keepOut = false): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0] as string, argv.slice(1), {
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
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

export async function benchFleet(root: string): Promise<void> {
  const env = process.env;
  const runs = Number(env.BENCH_FLEET_RUNS ?? 5);
  const count = 20;
  const memCount = Number(env.BENCH_FLEET_MEM_HOSTS ?? 50);
  const dir = mkdtempSync(join(tmpdir(), 'kf-bench-fleet-'));
  const bin = join(root, 'bin/kernelfile.js');
  const kfEnv = { ...env, XDG_CACHE_HOME: TEST_BUILD_CACHE, NO_COLOR: '1' };
  // Ansible's own state (~/.ansible: temp files, ControlPath sockets) in the bench's directory.
  const ansibleEnv = { ...env, HOME: dir, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' };
  const t0 = Date.now();
  const base = await ensurePythonRoot();
  const hosts: SshHost[] = [];
  const start = async (n: number) => {
    const more = await Promise.allSettled(
      Array.from({ length: n - hosts.length }, (_, i) =>
        startSshHost({ base, hostname: `kf-fleet-${String(hosts.length + i + 1).padStart(2, '0')}` }),
      ),
    );
    for (const r of more) if (r.status === 'fulfilled') hosts.push(r.value);
    const failed = more.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };
  try {
    await start(count);
    console.log(
      `${`fleet: ${count} sshd hosts (127.0.0.1), python3 root`.padEnd(48)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(8)} s    (setup, not compared)`,
    );
    const kh = join(dir, 'known_hosts');
    const inv = join(dir, 'inventory.yml');
    const write = () => {
      writeFileSync(kh, `${hosts.map((h) => h.knownHostsLine()).join('\n')}\n`);
      writeFileSync(inv, inventory(hosts, kh));
    };
    write();
    const planArgv = (parallel: number) => [
      process.execPath,
      bin,
      'plan',
      '--inventory',
      inv,
      '--ssh-config',
      'none',
      '--known-hosts',
      kh,
      '--parallel',
      String(parallel),
    ];

    /** Untimed: every host must plan (state "changes pending": the example is not installed). */
    const checkPlan = async (n: number) => {
      const r = await exec([...planArgv(20), '--json'], kfEnv, true);
      let states: string[] = [];
      try {
        states = (JSON.parse(r.out) as { hosts: Array<{ state: string }> }).hosts.map((h) => h.state);
      } catch {}
      const ok = states.filter((s) => s === 'changes pending').length;
      if (r.code !== 0 || ok !== n)
        throw new Error(
          `kernelfile plan --inventory: exit ${r.code}, ${ok} of ${n} hosts planned (${[...new Set(states)].join('; ')})\n${r.err}${r.out.slice(0, 4000)}`,
        );
    };
    const tw = Date.now();
    await checkPlan(count); // warms the config cache (a Kconfig resolution the first time) and the page cache
    console.log(
      `${'kernelfile plan --inventory, first run (warm-up)'.padEnd(48)} ${((Date.now() - tw) / 1000).toFixed(1).padStart(8)} s    (not compared; ${count} of ${count} hosts planned)`,
    );

    const kfPlan = async () => {
      const r = await exec(planArgv(20), kfEnv);
      if (r.code !== 0) throw new Error(`kernelfile plan --inventory: exit ${r.code}\n${r.err}`);
    };
    if (!has('ansible')) {
      console.log(
        `${'ansible all -m setup'.padEnd(48)} skipped: ansible is not installed (scripts/install-deps.sh --bench)`,
      );
    } else {
      const ansibleArgv = ['ansible', 'all', '-i', inv, '-m', 'setup', '--forks', '20'];
      const ansibleOnce = async (e: NodeJS.ProcessEnv, keepOut = false) => {
        const r = await exec(ansibleArgv, e, keepOut);
        if (r.code !== 0)
          throw new Error(`ansible -m setup: exit ${r.code}\n${r.err}${r.out.slice(0, 4000)}`);
        return r;
      };
      // Untimed: Ansible must gather on every host.
      const first = await ansibleOnce(ansibleEnv, true);
      const success = (first.out.match(/^\S+ \| SUCCESS => /gm) ?? []).length;
      if (success !== count)
        throw new Error(
          `ansible -m setup: ${success} of ${count} hosts SUCCESS\n${first.out.slice(0, 4000)}`,
        );
      console.log(`${''.padEnd(48)} (ansible -m setup: ${success} of ${count} hosts SUCCESS)`);
      // Ansible without its persistent master connections: a fresh SSH connection per host per run.
      const noPersist = {
        ...ansibleEnv,
        ANSIBLE_SSH_ARGS: '-o ControlMaster=no -o ControlPersist=no',
      };
      const r = await sideBySideMany(
        `kernelfile plan --inventory, ${count} hosts`,
        [
          ['ansible -m setup --forks 20', () => ansibleOnce(ansibleEnv)],
          ['… ControlMaster=no (fresh conns)', () => ansibleOnce(noPersist)],
        ],
        kfPlan,
        runs,
      );
      const [ans, fresh] = r.baselines as [number, number];
      const faster = ans / r.subject;
      console.log(
        `${''.padEnd(48)} kernelfile ${(r.subject / 1000).toFixed(2)} s, ansible ${(ans / 1000).toFixed(2)} s (${(fresh / 1000).toFixed(2)} s without ControlPersist): ${faster.toFixed(1)}× faster (${(fresh / r.subject).toFixed(1)}×)`,
      );
      record({
        name: `plan --inventory, ${count} hosts vs ansible -m setup`,
        value: `${(r.subject / 1000).toFixed(2)} s`,
        detail: `ansible ${(ans / 1000).toFixed(2)} s: ${faster.toFixed(1)}× faster (${(fresh / r.subject).toFixed(1)}× w/o ControlPersist); goal ≥ 10×: ${faster >= 10 ? 'met' : 'MISSED'}`,
      });
    }

    // ── controller memory, 50 hosts ─────────────────────────────────────────────────────────
    if (!existsSync('/usr/bin/time')) {
      console.log(
        `${'peak RSS'.padEnd(48)} skipped: /usr/bin/time is missing (scripts/install-deps.sh --bench)`,
      );
      return;
    }
    const tm = Date.now();
    await start(memCount);
    write();
    console.log(
      `${`fleet: ${memCount} sshd hosts`.padEnd(48)} ${((Date.now() - tm) / 1000).toFixed(1).padStart(8)} s    (${memCount - count} more started; not compared)`,
    );
    await checkPlan(memCount);
    for (const parallel of [memCount, 20]) {
      const rss: number[] = [];
      const wall: number[] = [];
      for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
        const tf = join(dir, 'time.out');
        const r = await exec(['/usr/bin/time', '-o', tf, '-f', '%M %e', ...planArgv(parallel)], kfEnv);
        if (r.code !== 0)
          throw new Error(`kernelfile plan --inventory (${memCount} hosts): exit ${r.code}\n${r.err}`);
        const [kb, s] = readFileSync(tf, 'utf8').trim().split(/\s+/).map(Number);
        rss.push((kb as number) / 1024);
        wall.push((s as number) * 1000);
      }
      const peak = Math.max(...rss);
      const name = `plan --inventory, ${memCount} hosts, --parallel ${parallel}`;
      console.log(
        `${name.padEnd(48)} ${median(wall).toFixed(1).padStart(8)} ms   peak RSS ${median(rss).toFixed(1)} MB (max ${peak.toFixed(1)} MB over ${rss.length} runs)`,
      );
      record({
        name: `controller peak RSS, ${memCount} hosts, --parallel ${parallel}`,
        value: `${median(rss).toFixed(1)} MB`,
        detail: `max ${peak.toFixed(1)} MB, wall ${(median(wall) / 1000).toFixed(2)} s; ${goal(peak, 150, 'MB')}`,
      });
    }
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
