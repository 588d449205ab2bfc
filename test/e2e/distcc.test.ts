/**
 * build.distcc end to end: examples/qemu-tiny built with the CLI through two real distccd (Debian's,
 * each in a network namespace: test/helpers/distccd.ts) in a fresh cache directory, one daemon
 * killed mid-build. The build succeeds with the build id of the tests' local build and every
 * artifact identical to it; the daemons' own logs show the compiles they ran, and the counts the CLI
 * prints (progress, summary, manifest and `build --json`) are the ones distcc's log gives. Before
 * that, an unreachable daemon is refused before anything is compiled. One full kernel compile
 * (about 3 to 5 minutes on 2 cores); the local build comes from the tests' cache.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/compile/build.js';
import { distccSummary } from '../../src/compile/distcc.js';
import { kernelfile } from '../helpers/cli.js';
import { type Distccd, startDistccd, stopAllDistccd } from '../helpers/distccd.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { EXAMPLE, ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, requireCommands, sleep } from '../helpers/proc.js';

let dir: string;
let local: Manifest;
let a: Distccd;
let b: Distccd;

/** A copy of the example building in this test's own cache through `hosts`. */
function copy(name: string, hosts: string[]): string {
  const to = join(dir, name);
  cpSync(join(EXAMPLE, '..'), to, { recursive: true });
  const kf = join(to, 'kernelfile.yaml');
  writeFileSync(
    kf,
    `${readFileSync(kf, 'utf8')}\nbuild:\n  cacheDir: ${join(dir, 'cache')}\n  distcc: [${hosts.join(', ')}]\n`,
  );
  return kf;
}

beforeAll(async () => {
  requireCommands('distcc e2e', [['distcc', 'distcc']]);
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-distcc-'));
  local = JSON.parse(readFileSync(join(await ensureKernelArtifacts(), 'manifest.json'), 'utf8')) as Manifest;
  [a, b] = await Promise.all([startDistccd({ jobs: 2 }), startDistccd({ jobs: 2 })]);
}, 1_800_000);

afterAll(async () => {
  await stopAllDistccd();
  // KF_KEEP_DISTCC=1 keeps the build (its cache, artifacts and object tree) to look into.
  if (dir && process.env.KF_KEEP_DISTCC !== '1') rmSync(dir, { recursive: true, force: true });
  else if (dir) note(`kept ${dir}`);
});

describe('a kernel built through distcc', () => {
  it('an unreachable distcc host is refused before anything is compiled, by name', async () => {
    const gone = await startDistccd();
    await gone.kill(); // its address refuses connections (stopped with the others after the tests)
    const kf = copy('unreachable', [`${a.address}/2`, `${gone.address}/2`]);
    const r = await kernelfile(['build', kf]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('a distcc host is not reachable; nothing was compiled');
    expect(r.err).toContain(`${gone.address}/2 (${gone.address}:3632):`);
    // Nothing compiled: no object tree holds a kernel, no artifacts.
    expect(existsSync(join(dir, 'cache', 'artifacts', local.buildId))).toBe(false);
    expect(existsSync(join(dir, 'cache', 'objects', local.buildId, 'obj', 'vmlinux'))).toBe(false);
  }, 600_000);

  it('two daemons, one killed mid-build: the same build id and artifacts as the local build, compiles counted as the daemons logged them', async () => {
    const hosts = [`${a.address}/2`, `${b.address}/2`, 'localhost/1'];
    const kf = copy('tiny', hosts);
    let killedAt = -1;
    const watch = (async () => {
      // b dies once it has compiled some of the kernel (the probe is its first compile).
      while (killedAt < 0) {
        if (b.compiles() >= 60) {
          killedAt = b.compiles();
          await b.kill();
        }
        await sleep(200);
      }
    })();
    const progress: string[] = [];
    const started = Date.now();
    const r = await kernelfile(['build', kf], {
      onErrLine: (l) => {
        if (l.includes('(distcc: ')) progress.push(l);
      },
    });
    const seconds = (Date.now() - started) / 1000;
    if (killedAt < 0) killedAt = 0; // stop the watcher; the assertion below says what happened
    await watch;
    expect(r.code, r.err).toBe(0);
    expect(killedAt, 'b was killed mid-build').toBeGreaterThan(0);

    const dirLine = /^Artifacts: +(\S+) \(built in/m.exec(r.out)?.[1];
    expect(dirLine, r.out).toBe(join(dir, 'cache', 'artifacts', local.buildId));
    const manifest = JSON.parse(readFileSync(join(dirLine as string, 'manifest.json'), 'utf8')) as Manifest;
    // The contract between machines: same build id, every artifact byte for byte.
    expect(manifest.buildId).toBe(local.buildId);
    expect(manifest.release).toBe(local.release);
    expect(manifest.files.length).toBeGreaterThan(1000);
    const theirs = new Map(local.files.map((f) => [f.path, f.sha256]));
    const differ = manifest.files.filter((f) => theirs.get(f.path) !== f.sha256).map((f) => f.path);
    expect(differ, `differ from the local build: ${differ.slice(0, 30).join(' ')}`).toEqual([]);
    expect(manifest.files.map((f) => f.path)).toEqual(local.files.map((f) => f.path));
    expect(manifest.seed).toBeUndefined(); // a fresh cache: a full compile

    // Where the compiles went: distcc's log as kernelfile read it, against the daemons' own logs.
    const d = manifest.distcc;
    expect(d).toBeDefined();
    if (!d) return;
    expect(d.hosts.map((h) => h.host)).toEqual(hosts.slice(0, 2));
    const [onA, onB] = d.hosts;
    // a: every compile it logged but the preflight's probe. b: those before its death (a job it
    // finished as it was killed may be logged there and never received here).
    expect(onA?.compiles).toBe(a.compiles() - 1);
    expect(onA?.compiles).toBeGreaterThan(100);
    expect(onB?.compiles).toBeGreaterThanOrEqual(killedAt - 1 - 2);
    expect(onB?.compiles).toBeLessThanOrEqual(b.compiles() - 1);
    // The jobs b had, and each later attempt on it, were made by a or here.
    expect(onB?.failed).toBeGreaterThanOrEqual(1);
    expect(d.retried).toBeGreaterThanOrEqual(1);
    expect(d.local).toBeGreaterThan(0);

    // The summary line and the last progress line say the same as the manifest.
    expect(r.out).toContain(`Distcc:    compiles: ${distccSummary(d)} (hosts checked in `);
    const last = progress[progress.length - 1];
    if (last) {
      const remoteSoFar = [...last.matchAll(/ (\d+)(?: \(\d+ failed\))?[,;]/g)].map((m) => Number(m[1]));
      expect(remoteSoFar.length).toBeGreaterThanOrEqual(2);
      expect(remoteSoFar[0]).toBeLessThanOrEqual(onA?.compiles ?? 0);
    }
    // `build --json`: the same counts, from the cache.
    const j = await kernelfile(['build', kf, '--json']);
    expect(j.code, j.err).toBe(0);
    const doc = jsonOutput(j.out, 'build');
    expect(doc.buildId).toBe(local.buildId);
    expect(doc.artifacts?.cached).toBe(true);
    expect(doc.artifacts?.manifest.distcc).toEqual(d);
    note(
      `distcc build (2 daemons of 2 jobs + localhost/1, b killed after ${killedAt} compiles): ${seconds.toFixed(0)} s wall, make ${manifest.compileSeconds} s (local build: make ${local.compileSeconds} s); ${distccSummary(d)}; preflight ${d.preflightSeconds} s`,
    );
  }, 1_800_000);
});
