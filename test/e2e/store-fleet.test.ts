/**
 * A store-backed fleet, end to end: eleven real Debian hosts, each in a network namespace of its own
 * (startSshHost({ netns: true })), a real registry (docker-registry) listening where the namespaces
 * reach it, and the built CLI.
 *
 * The store's address is this machine's end of the first host's veth pair (an address of this
 * machine, so the controller reaches it too); ten hosts get a route to it, the eleventh (`far`) does
 * not: it cannot reach the store.
 *
 *  - `build` pushes the build to the store (the controller's one upload of the artifacts);
 *  - `plan --inventory`: the ten hosts will fetch the build from the store with curl, `far` is
 *    shipped to, and the plan says why;
 *  - `apply --inventory`: the registry's log shows each of the ten hosts fetching the five files
 *    from its own address; the controller sent them nothing (its ship steps say 0 bytes) but to
 *    `far`, which got the files from the controller; every host has the build's kernel, byte for
 *    byte;
 *  - a second apply changes nothing and nobody asks the registry anything (no probe on a converged
 *    host): one connection and one command per host, no file changed.
 *
 * The kernelfile is the example's build (the same build id: kernel, config, patch) without its
 * DKMS module and initramfs, so that eleven hosts install quickly; the build comes from the tests'
 * cache, copied to a cache of this test's own (`build` never runs on the shared one).
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, kernelfile } from '../helpers/cli.js';
import { countSshdSessions, filesChangedSince, sshdLogSince } from '../helpers/host-state.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, secs } from '../helpers/proc.js';
import { type Registry, startRegistry } from '../helpers/registry.js';
import { ensureDebianRoot } from '../helpers/rootfs.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';
import { lightExampleKernelfile, rootInventory, routeToStore } from '../helpers/store-builds.js';

const NEAR = Array.from({ length: 10 }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const NAMES = [...NEAR, 'far'];
const LAYERS = ['vmlinuz', 'System.map', 'config', 'modules.tar', 'headers.tar'];

let dir: string;
let reg: Registry;
let storeAddress: string;
let inventory: string;
let knownHosts: string;
let kf: string;
let shared: string;
let manifest: { buildId: string; release: string };
const hosts: Record<string, SshHost> = {};
const env = () => ({ XDG_CACHE_HOME: join(dir, 'cache') });
const common = () => ['--inventory', inventory, '--ssh-config', 'none', '--known-hosts', knownHosts];
const show = (r: Cli) => `exit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;

async function cli(what: string, args: string[]): Promise<Cli> {
  const t0 = Date.now();
  const r = await kernelfile(args, { env: env() });
  note(`${what}: ${secs(Date.now() - t0)} (exit ${r.code})`);
  return r;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-store-fleet-'));
  const [artifacts] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  shared = artifacts;
  manifest = JSON.parse(readFileSync(join(artifacts, 'manifest.json'), 'utf8'));
  cpSync(artifacts, join(dir, 'cache/kernelfile/artifacts', manifest.buildId), {
    recursive: true,
    verbatimSymlinks: true,
  });
  const t0 = Date.now();
  const started = await Promise.all(
    NAMES.map((n) => startSshHost({ netns: true, hostname: n, sshdConfig: ['LogLevel VERBOSE'] })),
  );
  for (const [i, n] of NAMES.entries()) hosts[n] = started[i] as SshHost;
  note(`${NAMES.length} netns hosts up in ${secs(Date.now() - t0)}`);
  // The store listens on every address of this machine; it is named by the first host's gateway.
  storeAddress = await routeToStore(
    hosts.h01 as SshHost,
    NEAR.map((n) => hosts[n] as SshHost),
  );
  reg = await startRegistry({ listen: '0.0.0.0', hostname: storeAddress });
  kf = join(dir, 'kernelfile.yaml');
  writeFileSync(kf, lightExampleKernelfile(reg.url('kernels')));
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${NAMES.map((n) => hosts[n]?.knownHostsLine()).join('\n')}\n`);
  inventory = join(dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    rootInventory(
      kf,
      NAMES.map((n) => [n, hosts[n] as SshHost]),
    ),
  );
}, 900_000);

afterAll(async () => {
  await Promise.all(Object.values(hosts).map((h) => h.stop()));
  await reg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a fleet fetching its build from the store', () => {
  it('build pushes the build to the store once', async () => {
    const r = await cli('build (push)', ['build', kf, '--json']);
    expect(r.code, show(r)).toBe(0);
    const doc = jsonOutput(r.out, 'build');
    expect(doc.buildId).toBe(manifest.buildId);
    expect(doc.artifacts?.store?.pushed?.uploaded).toBe(7);
  }, 600_000);

  it('plan: ten hosts fetch from the store with curl, `far` is shipped to and the plan says why', async () => {
    const r = await cli('plan --inventory', ['plan', ...common()]);
    expect(r.code, show(r)).toBe(0);
    const fetchTitle = `fetch the build from the store ${reg.url('kernels')} into /var/lib/kernelfile/staging/${manifest.buildId}`;
    const json = await cli('plan --inventory --json', ['plan', ...common(), '--format', 'json']);
    const doc = jsonOutput(json.out, 'fleet-plan') as unknown as {
      hosts: { name: string; plan?: { changes: { steps: { kind: string; title: string }[] }[] } }[];
    };
    const ship = (name: string) =>
      doc.hosts
        .find((h) => h.name === name)
        ?.plan?.changes.flatMap((c) => c.steps)
        .find((s) => s.kind === 'ship')?.title;
    for (const n of NEAR)
      expect(ship(n), n).toBe(`${fetchTitle} (curl on the host; shipped from here if that fails)`);
    expect(ship('far')).toBe(
      `ship the build to /var/lib/kernelfile/staging/${manifest.buildId} (not from the store: the host cannot reach the store with curl: cannot connect to it)`,
    );
    // The text view says it in each host's kernel change.
    expect(r.out).toContain(
      `not installed (build cached); the host fetches the files from the store ${reg.url('kernels')}`,
    );
    expect(r.out).toContain(
      'not installed (build cached); shipped from the controller (not from the store: the host cannot reach the store with curl: cannot connect to it)',
    );
  }, 600_000);

  it('apply: the hosts fetch the files from the registry themselves; only `far` gets bytes from the controller', async () => {
    const before = reg.requests().length;
    const logs = Object.fromEntries(NAMES.map((n) => [n, hosts[n]?.log() ?? '']));
    const r = await cli(`apply --inventory (${NAMES.length} hosts)`, ['apply', ...common(), '--yes']);
    await new Promise((res) => setTimeout(res, 300)); // sshd's last lines
    // The controller opened no SFTP session to a host that fetched (only commands: names, URLs,
    // digests); `far` got the files over SFTP.
    for (const n of NEAR)
      expect(countSshdSessions(sshdLogSince(hosts[n] as SshHost, logs[n] as string)).sftp, n).toBe(0);
    expect(
      countSshdSessions(sshdLogSince(hosts.far as SshHost, logs.far as string)).sftp,
    ).toBeGreaterThanOrEqual(1);
    expect(r.code, show(r)).toBe(0);
    const served = reg.requests().slice(before);
    const blobGets = served.filter(
      (q) => q.method === 'GET' && q.uri.includes('/blobs/') && q.status === 200,
    );
    const byHost = new Map<string, number>();
    for (const q of blobGets) byHost.set(q.remote, (byHost.get(q.remote) ?? 0) + 1);
    for (const n of NEAR) expect(byHost.get(hosts[n]?.address as string), n).toBe(LAYERS.length);
    expect(byHost.has(hosts.far?.address as string)).toBe(false);
    // Nothing else fetched blobs (the controller pulled nothing: it has the build).
    expect([...byHost.keys()].sort()).toEqual(NEAR.map((n) => hosts[n]?.address as string).sort());
    for (const n of NEAR)
      expect(r.err).toMatch(
        new RegExp(
          `${n}:   ✓ fetch the build from the store .*: 5 fetched by the host from the store .*, 0 already there; 0 bytes sent from here`,
        ),
      );
    expect(r.err).toMatch(/far: {3}✓ ship the build to .*: 5 sent \([\d.]+ MiB\), 0 already there/);
    const vmlinuz = sha(readFileSync(join(shared, 'vmlinuz')));
    for (const n of NAMES) {
      const got = await hosts[n]?.exec(['sha256sum', `/boot/vmlinuz-${manifest.release}`]);
      expect(got?.stdout.slice(0, 64), n).toBe(vmlinuz);
    }
    note(
      `controller → hosts: ${NEAR.length} hosts fetched ${blobGets.reduce((s, q) => s + q.bytes, 0)} bytes from the registry; far was shipped to`,
    );
  }, 900_000);

  it('a second apply changes nothing, asks the registry nothing: one connection and one command per host', async () => {
    const before = reg.requests().length;
    const mark = '/run/kf-e2e-mark';
    await Promise.all(NAMES.map((n) => hosts[n]?.exec(['touch', mark])));
    await new Promise((res) => setTimeout(res, 20));
    const logs = Object.fromEntries(NAMES.map((n) => [n, hosts[n]?.log() ?? '']));
    const r = await cli('apply again', ['apply', ...common(), '--yes']);
    expect(r.code, show(r)).toBe(0);
    await new Promise((res) => setTimeout(res, 300));
    for (const n of NAMES) {
      expect(countSshdSessions(sshdLogSince(hosts[n] as SshHost, logs[n] as string)), n).toEqual({
        connections: 1,
        commands: 1,
        sftp: 0,
      });
      expect(await filesChangedSince(hosts[n] as SshHost, mark), n).toEqual([]);
    }
    expect(r.out).toMatch(/no changes|converged|unchanged/i);
    expect(
      reg
        .requests()
        .slice(before)
        .filter((q) => q.remote !== '127.0.0.1' && q.remote !== storeAddress),
    ).toEqual([]);
  }, 600_000);
});
