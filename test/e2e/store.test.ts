import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelfile } from '../helpers/cli.js';
import { sshTarget } from '../helpers/host-state.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, secs } from '../helpers/proc.js';
import { type Registry, startRegistry } from '../helpers/registry.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';
import { treeDigests } from '../helpers/store-builds.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

let work: string;
let reg: Registry;
let shared: string;
let buildId: string;
let kf: string;
const cacheA = () => join(work, 'cache-a');
const cacheB = () => join(work, 'cache-b');

beforeAll(async () => {
  shared = await ensureKernelArtifacts();
  buildId = JSON.parse(readFileSync(join(shared, 'manifest.json'), 'utf8')).buildId;
  work = mkdtempSync(join(tmpdir(), 'kf-store-e2e-'));
  reg = await startRegistry();
  // The example, copied with its fragments, patch and module, and a store.
  cpSync(join(REPO, 'examples/qemu-tiny'), join(work, 'qemu-tiny'), { recursive: true });
  kf = join(work, 'qemu-tiny/kernelfile.yaml');
  writeFileSync(kf, `${readFileSync(kf, 'utf8')}\ncache:\n  store: ${reg.url('kernels/qemu-tiny')}\n`);
  // Controller A has the build: a copy of the tests' cached one (links kept as links).
  cpSync(shared, join(cacheA(), 'kernelfile/artifacts', buildId), {
    recursive: true,
    verbatimSymlinks: true,
  });
}, 900_000);

afterAll(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('two controllers share a build through the store', () => {
  it('controller A pushes its build once', async () => {
    const t0 = Date.now();
    const r = await kernelfile(['build', kf, '--json'], { env: { XDG_CACHE_HOME: cacheA() } });
    note(`build on A (push): ${secs(Date.now() - t0)}`);
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'build') as unknown as {
      buildId: string;
      artifacts: {
        cached: boolean;
        store: { url: string; pulled: boolean; pushed?: { uploaded: number; bytes: number } };
      };
    };
    expect(doc.buildId).toBe(buildId);
    expect(doc.artifacts.cached).toBe(true);
    expect(doc.artifacts.store).toMatchObject({
      url: reg.url('kernels/qemu-tiny'),
      pulled: false,
      warnings: [],
    });
    expect(doc.artifacts.store.pushed?.uploaded).toBe(7);
    expect(readdirSync(join(cacheA(), 'kernelfile/objects')).filter((n) => !n.startsWith('.'))).toEqual([]);
    const puts = reg.requests().filter((q) => q.method === 'PUT' && q.uri.includes('/manifests/'));
    expect(puts.map((q) => [q.uri, q.status])).toEqual([[`/v2/kernels/qemu-tiny/manifests/${buildId}`, 201]]);

    const again = await kernelfile(['build', kf], { env: { XDG_CACHE_HOME: cacheA() } });
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`Store:     ${reg.url('kernels/qemu-tiny')} has this build`);
  }, 900_000);

  it('controller B, an empty cache, pulls it instead of compiling: byte-identical artifacts, no make', async () => {
    const t0 = Date.now();
    const r = await kernelfile(['build', kf, '--json'], { env: { XDG_CACHE_HOME: cacheB() } });
    note(`build on B (pull): ${secs(Date.now() - t0)}`);
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'build') as unknown as {
      buildId: string;
      artifacts: { dir: string; cached: boolean; store: { pulled: boolean; warnings: string[] } };
    };
    expect(doc.buildId).toBe(buildId);
    expect(doc.artifacts).toMatchObject({ cached: true, store: { pulled: true, warnings: [] } });
    const b = join(cacheB(), 'kernelfile/artifacts', buildId);
    expect(doc.artifacts.dir).toBe(b);
    // No make ran: no object tree, no build log, nothing compiled.
    expect(readdirSync(join(cacheB(), 'kernelfile/objects'))).toEqual([]);
    expect(existsSync(join(b, 'build.log'))).toBe(false);
    // Everything A has (but its build log) is in B, byte for byte; links are links.
    const a = treeDigests(join(cacheA(), 'kernelfile/artifacts', buildId));
    delete a['build.log'];
    delete a['headers-need.json'];
    const got = treeDigests(b);
    expect(Object.keys(got).sort()).toEqual(Object.keys(a).sort());
    expect(got).toEqual(a);
    // The text view says where it came from.
    const text = await kernelfile(['build', kf], { env: { XDG_CACHE_HOME: cacheB() } });
    expect(text.out).toContain('(cache hit)');
    // The registry served the blobs to B: one GET per layer.
    const gets = reg.requests().filter((q) => q.method === 'GET' && q.uri.includes('/blobs/'));
    expect(gets.length).toBe(7);
  }, 900_000);
});

describe('a store that cannot be reached', () => {
  it('a warning naming the store, and the build goes on from the cache', async () => {
    const down = `oci+http://127.0.0.1:9/kernels`;
    const kf2 = join(work, 'qemu-tiny/kernelfile-down.yaml');
    writeFileSync(kf2, readFileSync(kf, 'utf8').replace(/store: .*/, `store: ${down}`));
    // A has the build: the store is only asked whether it has it (to push), which fails: a warning.
    const r = await kernelfile(['build', kf2, '--json'], { env: { XDG_CACHE_HOME: cacheA() } });
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'build') as unknown as {
      artifacts: { store: { warnings: string[] } };
    };
    expect(doc.artifacts.store.warnings).toEqual([
      `could not push build ${buildId.slice(0, 12)} to the store ${down}: cannot reach the store ${down} (127.0.0.1:9): connect ECONNREFUSED 127.0.0.1:9`,
    ]);
    expect(r.err).toContain(`could not push build ${buildId.slice(0, 12)} to the store ${down}`);
  }, 900_000);
});

describe('plan asks the store about a build the cache lacks', () => {
  let h: SshHost;
  beforeAll(async () => {
    h = await startSshHost({ hostname: 'kf-store-plan' });
    // Controller B forgets the build (its prepare caches stay warm).
    rmSync(join(cacheB(), 'kernelfile/artifacts', buildId), { recursive: true, force: true });
  }, 900_000);
  afterAll(() => h?.stop());

  it('in the store: the kernel change and the build step say it will be pulled, not compiled', async () => {
    const r = await kernelfile(['plan', kf, ...sshTarget(h, work), '--format', 'json'], {
      env: { XDG_CACHE_HOME: cacheB() },
    });
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'plan') as unknown as {
      hosts: { changes: { id: string; reason: string; steps: { kind: string; title: string }[] }[] }[];
    };
    const kernel = doc.hosts[0]?.changes.find((c) => c.id.startsWith('kernel['));
    expect(kernel?.reason).toMatch(
      new RegExp(`^not installed; pulled once from the store ${esc(reg.url('kernels/qemu-tiny'))}`),
    );
    expect(kernel?.steps.find((s) => s.kind === 'build')?.title).toBe(
      `build ${buildId.slice(0, 12)} (pulled from store ${reg.url('kernels/qemu-tiny')})`,
    );
    // plan is read-only: nothing was pulled
    expect(existsSync(join(cacheB(), 'kernelfile/artifacts', buildId))).toBe(false);
  }, 900_000);

  it('a store that cannot be reached: a warning at cache.store, the build compiled at apply', async () => {
    const kf3 = join(work, 'qemu-tiny/kernelfile-down3.yaml');
    writeFileSync(
      kf3,
      readFileSync(kf, 'utf8').replace(/store: .*/, 'store: oci+http://127.0.0.1:9/kernels'),
    );
    const r = await kernelfile(['plan', kf3, ...sshTarget(h, work)], { env: { XDG_CACHE_HOME: cacheB() } });
    expect(r.code, r.err).toBe(0);
    expect(r.out + r.err).toContain(
      `the store oci+http://127.0.0.1:9/kernels was not asked whether it has build ${buildId.slice(0, 12)}: cannot reach the store`,
    );
    expect(r.out).toContain('not installed; built once on the controller');
  }, 900_000);
});
