/**
 * Network namespaces for test hosts (sshd.ts's `{ netns: true }`, distccd.ts): each its own address
 * on a veth pair with this machine, created, cleaned up and swept as described below.
 *
 * Per host: `ip netns add kernelfile-sshd-PID-N`, a veth pair `kfPIDnN` (this machine) / `eth0` (the
 * namespace, created there directly), a free 10.x.y.0/30 (this machine .1, the host .2), lo and eth0
 * up. The host's whole namespace tree is started under `nsenter --net=/run/netns/NAME`, so sshd
 * and exec() run in it.
 *
 * Routes the harness adds to THIS machine's table carry `proto 231` (KF_PROTO), so that they can be
 * told apart from anything else and swept: a reserve `unreachable 10.x.y.0/30 metric 4242` per host
 * (while the veth exists its connected route wins; once the veth is gone, packets for the host's old
 * address are refused here instead of leaving through the default route), and cutNetwork()'s
 * `unreachable 10.x.y.2/32`. Addresses are picked under a lock file shared by parallel workers,
 * among 10.231-254.*.* /30s that overlap no address or route this machine has.
 *
 * Cleanup: stop() kills what `ip netns pids` lists, deletes the veth (both ends go), the namespace
 * and the routes. Every process of a host already dies with the test process (setpriv --pdeathsig),
 * but a named namespace, its veth and its routes would outlive a killed run: the first netns host of
 * the next run sweeps namespaces `kernelfile-sshd-PID-*` and veths `kfPIDn*` whose PID is gone, then
 * `proto 231` routes whose /30 no interface of this machine holds any more. (The kernel may keep a
 * deleted namespace a little longer, unnamed and without links, e.g. while a socket of the killed
 * sshd retries its FIN; it frees it by itself.)
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive, requireCommands, run, runOk, sleep, withFileLock } from './proc.js';

export interface NetnsInfo {
  /** `kernelfile-sshd-PID-N` (the prefix of the first users, kept: the sweep finds older runs' namespaces), in /run/netns. */
  name: string;
  /** This machine's end of the veth pair (the host's end is `eth0` inside the namespace). */
  veth: string;
  /** This machine's address on the veth (10.x.y.1); the host is 10.x.y.2. */
  gateway: string;
  /** The /30, e.g. 10.231.0.4/30. */
  subnet: string;
}

export const NETNS_PREFIX = 'kernelfile-sshd';
export const KF_PROTO = '231';
const RESERVE_METRIC = '4242';
const NET_LOCK = join(tmpdir(), 'kernelfile-netns.lock');
/** A MAC no interface has (locally administered): frames to it are dropped by the host's eth0. */
export const NOWHERE_MAC = '02:00:00:00:00:00';

const ipv4 = (s: string): number => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const dotted = (n: number): string => [24, 16, 8, 0].map((b) => Math.floor(n / 2 ** b) % 256).join('.');

/** `[network, prefix length]` of every IPv4 address and route of this machine (main and other tables). */
async function ipv4InUse(): Promise<Array<[number, number]>> {
  const [addrs, routes] = await Promise.all([
    runOk(['ip', '-4', '-o', 'addr', 'show']),
    runOk(['ip', '-4', 'route', 'show', 'table', 'all']),
  ]);
  const out: Array<[number, number]> = [];
  const add = (cidr: string) => {
    const [a, l] = cidr.split('/');
    if (!a || !/^\d+\.\d+\.\d+\.\d+$/.test(a)) return;
    const len = l === undefined ? 32 : Number(l);
    const mask = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
    out.push([(ipv4(a) & mask) >>> 0, len]);
  };
  for (const m of addrs.stdout.matchAll(/\binet (\S+)/g)) add(m[1] as string);
  const types = new Set([
    'unicast',
    'local',
    'broadcast',
    'multicast',
    'unreachable',
    'prohibit',
    'blackhole',
  ]);
  for (const line of routes.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dst = types.has(f[0] ?? '') ? f[1] : f[0];
    if (dst && dst !== 'default') add(dst);
  }
  return out;
}

function overlaps(a: [number, number], b: [number, number]): boolean {
  const len = Math.min(a[1], b[1]);
  const mask = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
  return (a[0] & mask) >>> 0 === (b[0] & mask) >>> 0;
}

async function freeSubnet(): Promise<number> {
  const used = await ipv4InUse();
  for (let second = 231; second <= 254; second++)
    for (let n = 0; n < 65536; n += 4) {
      const net = ipv4(`10.${second}.0.0`) + n;
      if (!used.some((u) => overlaps([net, 30], u))) return net;
    }
  throw new Error('no free 10.x.y.0/30 left in 10.231.0.0-10.254.255.255 on this machine');
}

export const ip = (...args: string[]) => runOk(['ip', ...args]);
/** `ip …` where "it is not there" is fine (cleanup). */
export const ipQuiet = (...args: string[]) => run(['ip', ...args]);

/** Kill every process in the namespace and wait until they are gone (at most 5 s). */
export async function killNetnsPids(name: string): Promise<void> {
  const pids = (await ipQuiet('netns', 'pids', name)).stdout
    .split('\n')
    .map(Number)
    .filter((p) => p > 0 && p !== process.pid);
  for (const p of pids)
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  const until = Date.now() + 5000;
  while (pids.some(pidAlive) && Date.now() < until) await sleep(20);
}

export async function deleteNetns(n: NetnsInfo, address: string): Promise<void> {
  await killNetnsPids(n.name);
  await ipQuiet('link', 'del', n.veth);
  await ipQuiet('netns', 'del', n.name);
  await ipQuiet('route', 'del', 'unreachable', `${address}/32`, 'proto', KF_PROTO);
  await ipQuiet('route', 'del', 'unreachable', n.subnet, 'proto', KF_PROTO, 'metric', RESERVE_METRIC);
}

/**
 * Namespaces `kernelfile-sshd-PID-*` whose process is gone (a killed test run): kill what is left in
 * them and delete them (their veth pairs go with them); then `proto 231` routes whose /30 no
 * interface of this machine holds. Runs once per process, before its first netns host.
 */
export async function sweepStaleNetns(): Promise<string[]> {
  return withFileLock(NET_LOCK, async () => {
    const removed: string[] = [];
    const re = new RegExp(`^${NETNS_PREFIX}-(\\d+)-\\S+`);
    for (const line of (await ipQuiet('netns', 'list')).stdout.split('\n')) {
      const m = re.exec(line.trim());
      if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
      const name = m[0];
      await killNetnsPids(name);
      await ipQuiet('netns', 'del', name);
      removed.push(name);
    }
    // Their veth pairs, explicitly: a namespace outlives `ip netns del` while the kernel still holds
    // it (e.g. a socket of a killed sshd retrying its FIN), and its veth with it.
    for (const m of (await ipQuiet('-o', 'link', 'show')).stdout.matchAll(/^\d+: (kf(\d+)n\d+)@/gm))
      if (Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) {
        await ipQuiet('link', 'del', m[1] as string);
        removed.push(m[1] as string);
      }
    const held = new Set(
      [...(await runOk(['ip', '-4', '-o', 'addr', 'show'])).stdout.matchAll(/\binet ([\d.]+)\/30\b/g)].map(
        (m) => m[1],
      ),
    );
    const routes = (await ipQuiet('-4', 'route', 'show', 'proto', KF_PROTO)).stdout.split('\n');
    for (const line of routes) {
      const f = line.trim().split(/\s+/);
      if (f[0] !== 'unreachable' || !f[1]) continue;
      const base = (ipv4((f[1] as string).split('/')[0] as string) & ~3) >>> 0;
      if (held.has(dotted(base + 1))) continue;
      await ipQuiet('route', 'del', ...f, 'proto', KF_PROTO);
      removed.push(`route ${line.trim()}`);
    }
    return removed;
  });
}

let sweptNetns: Promise<unknown> | undefined;

let netnsCount = 0;

/** Create a namespace of this process (the next number), its veth pair and addresses. */
export async function createNetns(): Promise<{ info: NetnsInfo; address: string }> {
  netnsCount += 1;
  const n = netnsCount;
  requireCommands('a network namespace (test/helpers/netns.ts)', [
    ['ip', 'iproute2'],
    ['ss', 'iproute2'],
  ]);
  sweptNetns ??= sweepStaleNetns();
  await sweptNetns;
  return withFileLock(NET_LOCK, async () => {
    const net = await freeSubnet();
    const info: NetnsInfo = {
      name: `${NETNS_PREFIX}-${process.pid}-${n}`,
      veth: `kf${process.pid}n${n}`.slice(0, 15),
      gateway: dotted(net + 1),
      subnet: `${dotted(net)}/30`,
    };
    const address = dotted(net + 2);
    try {
      await ip('netns', 'add', info.name);
      await ip('link', 'add', info.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', info.name);
      await ip('addr', 'add', `${info.gateway}/30`, 'dev', info.veth);
      await ip('route', 'add', 'unreachable', info.subnet, 'proto', KF_PROTO, 'metric', RESERVE_METRIC);
      await ip('link', 'set', info.veth, 'up');
      await ip('-n', info.name, 'addr', 'add', `${address}/30`, 'dev', 'eth0');
      await ip('-n', info.name, 'link', 'set', 'lo', 'up');
      await ip('-n', info.name, 'link', 'set', 'eth0', 'up');
    } catch (e) {
      await deleteNetns(info, address);
      throw e;
    }
    return { info, address };
  });
}
