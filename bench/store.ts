/**
 * The artifact store on a fleet (issue 18): installing one build on 1, 10 and 20 hosts in network
 * namespaces (BENCH_STORE_HOSTS), shipped from the controller (no store) against fetched by the
 * hosts from a registry (`cache.store`, Debian's docker-registry on this machine, where the
 * namespaces reach it). Each run starts fresh hosts and times `kernelfile apply --inventory --yes`
 * (plan and apply, the build in the controller's cache: for the store runs it was pushed before,
 * untimed). The kernelfile is examples/qemu-tiny's build without its DKMS module and initramfs
 * (test/helpers/store-builds.ts), so that the figures are the delivery's, not DKMS compiles'.
 *
 * Bytes: what this machine sent to the hosts, from each host's veth counters (tx_bytes on this
 * machine's side: TCP/IP and SSH overhead included), split into what the registry served (the
 * bodies of its answers to the hosts' addresses, from its log) and the rest: the controller's
 * (SSH: commands, their input, and the files it shipped). The hosts run on this machine (2 cores):
 * wall times are the contention of ten or twenty hosts writing 50 MB each on one disk, not a
 * network's. BENCH_STORE_LOG=DIR keeps each apply's output there.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernelfile } from '../test/helpers/cli.js';
import { ensureKernelArtifacts } from '../test/helpers/kernel-artifacts.js';
import { note, secs } from '../test/helpers/proc.js';
import { type Registry, startRegistry } from '../test/helpers/registry.js';
import { ensureDebianRoot } from '../test/helpers/rootfs.js';
import { type SshHost, startSshHost } from '../test/helpers/sshd.js';
import { lightExampleKernelfile, rootInventory, routeToStore } from '../test/helpers/store-builds.js';
import { record } from './lib.js';

const MiB = 1024 * 1024;

function txBytes(h: SshHost): number {
  const veth = h.netns?.veth;
  if (!veth) throw new Error('not a netns host');
  return Number(readFileSync(`/sys/class/net/${veth}/statistics/tx_bytes`, 'utf8').trim());
}

interface Run {
  hosts: number;
  mode: 'shipped' | 'store';
  seconds: number;
  totalBytes: number;
  registryBytes: number;
  controllerBytes: number;
}

async function oneRun(dir: string, reg: Registry, n: number, mode: Run['mode']): Promise<Run> {
  const names = Array.from({ length: n }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
  const hosts = await Promise.all(names.map((name) => startSshHost({ netns: true, hostname: name })));
  try {
    const address = await routeToStore(hosts[0] as SshHost, hosts);
    const url = `oci+http://${address}:${reg.port}/kernels`;
    const kf = join(dir, `kernelfile-${mode}-${n}.yaml`);
    writeFileSync(kf, lightExampleKernelfile(mode === 'store' ? url : undefined));
    const knownHosts = join(dir, `known_hosts-${mode}-${n}`);
    writeFileSync(knownHosts, `${hosts.map((h) => h.knownHostsLine()).join('\n')}\n`);
    const inventory = join(dir, `inventory-${mode}-${n}.yaml`);
    writeFileSync(
      inventory,
      rootInventory(
        kf,
        hosts.map((h, i) => [names[i] as string, h]),
      ),
    );
    const env = { XDG_CACHE_HOME: join(dir, 'cache') };
    if (mode === 'store') {
      // The build in the store (pushed once; a HEAD after): untimed.
      const b = await kernelfile(['build', kf], { env });
      if (b.code !== 0) throw new Error(`build failed: ${b.err}`);
    }
    const addresses = new Set(hosts.map((h) => h.address));
    const served = reg.requests().length;
    const before = hosts.map(txBytes);
    const t0 = Date.now();
    const r = await kernelfile(
      ['apply', '--inventory', inventory, '--ssh-config', 'none', '--known-hosts', knownHosts, '--yes'],
      { env },
    );
    const seconds = (Date.now() - t0) / 1000;
    if (process.env.BENCH_STORE_LOG)
      writeFileSync(
        join(process.env.BENCH_STORE_LOG, `apply-${mode}-${n}.txt`),
        `${r.out}\n--- stderr\n${r.err}`,
      );
    if (r.code !== 0) throw new Error(`apply (${mode}, ${n} hosts) failed:\n${r.err.slice(-3000)}`);
    const totalBytes = hosts.map(txBytes).reduce((s, b, i) => s + b - (before[i] as number), 0);
    const registryBytes = reg
      .requests()
      .slice(served)
      .filter((q) => addresses.has(q.remote))
      .reduce((s, q) => s + q.bytes, 0);
    if (mode === 'store' && registryBytes === 0) throw new Error('the hosts fetched nothing from the store');
    return {
      hosts: n,
      mode,
      seconds,
      totalBytes,
      registryBytes,
      controllerBytes: totalBytes - registryBytes,
    };
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
}

export async function benchStore(): Promise<void> {
  const sizes = (process.env.BENCH_STORE_HOSTS ?? '1,10,20').split(',').map(Number);
  console.log(
    `\n== store: install one build on ${sizes.join(', ')} namespace hosts, shipped from the controller vs fetched from the store`,
  );
  const [artifacts] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  const { buildId } = JSON.parse(readFileSync(join(artifacts, 'manifest.json'), 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'kf-bench-store-'));
  cpSync(artifacts, join(dir, 'cache/kernelfile/artifacts', buildId), {
    recursive: true,
    verbatimSymlinks: true,
  });
  // Warm the controller's cache (source, patches, Kconfig) once, untimed: every run finds it warm.
  writeFileSync(join(dir, 'warm.yaml'), lightExampleKernelfile());
  const warm = await kernelfile(['build', '--config-only', join(dir, 'warm.yaml')], {
    env: { XDG_CACHE_HOME: join(dir, 'cache') },
  });
  if (warm.code !== 0) throw new Error(`build --config-only failed: ${warm.err}`);
  const reg = await startRegistry({ listen: '0.0.0.0' });
  const rows: Run[] = [];
  try {
    for (const n of sizes)
      for (const mode of ['shipped', 'store'] as const) {
        const r = await oneRun(dir, reg, n, mode);
        rows.push(r);
        note(
          `${String(n).padStart(2)} hosts, ${mode.padEnd(7)}: ${secs(r.seconds * 1000).padStart(7)}; from the controller ${(r.controllerBytes / MiB).toFixed(1)} MiB, from the registry ${(r.registryBytes / MiB).toFixed(1)} MiB`,
        );
      }
  } finally {
    await reg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('\nhosts  delivery  apply (wall)  from the controller  from the registry');
  for (const r of rows) {
    console.log(
      `${String(r.hosts).padStart(5)}  ${r.mode.padEnd(8)}  ${`${r.seconds.toFixed(1)} s`.padStart(12)}  ${`${(r.controllerBytes / MiB).toFixed(1)} MiB`.padStart(19)}  ${`${(r.registryBytes / MiB).toFixed(1)} MiB`.padStart(17)}`,
    );
    record({
      name: `store: ${r.hosts} host${r.hosts === 1 ? '' : 's'}, ${r.mode}`,
      value: `${r.seconds.toFixed(1)} s`,
      detail: `controller sent ${(r.controllerBytes / MiB).toFixed(1)} MiB, registry ${(r.registryBytes / MiB).toFixed(1)} MiB`,
    });
  }
}
