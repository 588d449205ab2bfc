/**
 * build.distcc against real daemons: Debian's distccd in network namespaces (test/helpers/distccd.ts).
 * The preflight (every daemon reachable, its compiler byte-for-byte this machine's) and compiles
 * through the CC and environment the build runs make with: objects identical to local ones, the
 * client log's counts equal to what the daemons logged, and a daemon killed between compiles costs
 * a retry elsewhere, not a failure. The whole kernel through two daemons is test/e2e/distcc.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DistccRun,
  distccCleanup,
  distccCounts,
  distccPreflight,
  distccSetup,
} from '../../src/compile/distcc.js';
import { BuildError } from '../../src/compile/errors.js';
import { runLocal } from '../../src/host/local.js';
import type { Spec } from '../../src/spec/schema.js';
import { type Distccd, startDistccd, stopAllDistccd } from '../helpers/distccd.js';
import { note, requireCommands } from '../helpers/proc.js';

let dir: string;
let a: Distccd;
let b: Distccd;
/** A host whose `gcc` is gcc 11 (this machine's is gcc 12). */
let older: Distccd;
/** A daemon that allows another address only. */
let closed: Distccd;
const runs: DistccRun[] = [];

const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  requireCommands('distcc.test.ts', [
    ['distcc', 'distcc'],
    ['gcc-11', 'gcc-11 (the other compiler a distcc host has in the mismatch test)'],
  ]);
  dir = mkdtempSync(join(tmpdir(), 'kf-distcc-'));
  chmodSync(dir, 0o755); // the daemons run as the user distccd: gcc 11's directory must be theirs to search
  const gcc11 = join(dir, 'gcc11-bin');
  mkdirSync(gcc11, { mode: 0o755 });
  symlinkSync('/usr/bin/gcc-11', join(gcc11, 'gcc'));
  [a, b, older, closed] = await Promise.all([
    startDistccd(),
    startDistccd(),
    startDistccd({ path: [gcc11] }),
    startDistccd({ allow: '192.0.2.1' }),
  ]);
}, 60_000);

afterAll(async () => {
  for (const r of runs) distccCleanup(r);
  await stopAllDistccd();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function setup(hosts: string[]): DistccRun {
  const spec = { build: { makeVars: {}, distcc: hosts } } as unknown as Spec;
  const run = distccSetup(spec, join(dir, 'cache')) as DistccRun;
  runs.push(run);
  return run;
}

async function refusal(run: DistccRun): Promise<BuildError> {
  const e = await distccPreflight(run, 'gcc').then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(BuildError);
  return e as BuildError;
}

describe('the distcc preflight', () => {
  it("passes on hosts that compile as this machine does (the probe's cost is in the notes)", async () => {
    const run = setup([`${a.address}/2`, `${b.address}/2`, 'localhost/1']);
    const before = [a.compiles(), b.compiles()];
    const r = await distccPreflight(run, 'gcc');
    // The probe really ran there: one compile on each daemon.
    expect([a.compiles(), b.compiles()]).toEqual([(before[0] ?? 0) + 1, (before[1] ?? 0) + 1]);
    expect(run.jobs).toBe(5);
    note(`distcc preflight (connect + probe) of 2 hosts: ${r.seconds.toFixed(3)} s`);
    expect(r.seconds).toBeLessThan(5);
  });

  it('refuses an unreachable daemon before compiling anything, naming it and what to do', async () => {
    const gone = await startDistccd();
    await gone.kill();
    const spec = `${gone.address}/2`;
    const e = await refusal(setup([`${a.address}/2`, spec]));
    expect(e.message).toBe('a distcc host is not reachable; nothing was compiled');
    expect(e.details).toEqual([
      `${spec} (${gone.address}:3632): connection refused (is distccd running and listening on that address?)`,
    ]);
    expect(e.hint).toMatch(/start distccd there .*or remove the host from build\.distcc/);
    await gone.stop();
  });

  it('refuses a host whose gcc is another compiler, naming the host and both compilers', async () => {
    const local = (await runLocal(['gcc', '--version'])).stdout.split('\n')[0] ?? '';
    const version = /\) (\S+)$/.exec(local)?.[1] ?? '?';
    const e = await refusal(setup([`${a.address}/2`, `${older.address}/2`]));
    expect(e.message).toBe('a distcc host does not compile as this machine does; nothing was compiled');
    expect(e.details).toHaveLength(1);
    expect(e.details?.[0]).toMatch(
      new RegExp(
        `^${re(older.address)}/2: its compiler is GCC: \\(Debian 11\\.[^)]*\\) 11\\.\\S+; here it is GCC: \\(Debian [^)]*\\) ${re(version)}$`,
      ),
    );
    expect(e.hint).toMatch(/same compiler and binutils/);
  });

  it('refuses a daemon that does not allow this machine, saying so', async () => {
    const started = Date.now();
    const e = await refusal(setup([`${closed.address}/2`]));
    expect(e.details?.[0]).toMatch(
      new RegExp(
        `^${re(closed.address)}/2: the probe did not compile there \\(.+\\); is this machine in its --allow list`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("compiling through the build's CC and environment", () => {
  const sources = Array.from({ length: 12 }, (_, i) => ({
    name: `f${i}.c`,
    text: `int f${i}(int x) { int s = 0; for (int k = 0; k < x; k++) s += (k * ${i + 3}) ^ x; return s; }\n`,
  }));

  /** Compile every source in `out` with `cc` and `env`, four at a time; the objects' bytes by name. */
  async function compileAll(
    out: string,
    cc: string,
    env: Record<string, string>,
  ): Promise<Map<string, Buffer>> {
    mkdirSync(out, { recursive: true });
    for (const s of sources) writeFileSync(join(out, s.name), s.text);
    const objects = new Map<string, Buffer>();
    for (let i = 0; i < sources.length; i += 4)
      await Promise.all(
        sources.slice(i, i + 4).map(async (s) => {
          const o = join(out, s.name.replace(/\.c$/, '.o'));
          // runLocal adds this process's environment (PATH, …) under `env`.
          const r = await runLocal([...cc.split(' '), '-O2', '-c', join(out, s.name), '-o', o], { env });
          expect(r.code, r.stderr).toBe(0);
          objects.set(s.name, readFileSync(o));
        }),
      );
    return objects;
  }

  it('with -g, an object of macro-expanded code is NOT the local one (why HOSTCC stays local and debug-info kernels are refused)', async () => {
    const src = join(dir, 'g', 'm.c');
    mkdirSync(join(dir, 'g'), { recursive: true });
    writeFileSync(src, 'int m(int x) { return x * FOO; }\n');
    const run = setup([`${a.address}/2`]);
    const flags = ['-g', '-O2', '-DFOO=3', '-c', src, '-o'];
    expect((await runLocal(['gcc', ...flags, join(dir, 'g', 'local.o')])).code).toBe(0);
    const r = await runLocal([...run.cc.split(' '), ...flags, join(dir, 'g', 'remote.o')], { env: run.env });
    expect(r.code, r.stderr).toBe(0);
    expect(distccCounts(readFileSync(run.log, 'utf8'), run.hosts).hosts[0]?.compiles).toBe(1);
    // The same code and compiler; only the DWARF line table's column of `x * FOO` differs.
    expect(readFileSync(join(dir, 'g', 'remote.o')).equals(readFileSync(join(dir, 'g', 'local.o')))).toBe(
      false,
    );
  });

  it('sends compiles to the daemons (their logs agree with the counts), objects identical to local ones; a killed daemon costs a retry', async () => {
    const local = await compileAll(join(dir, 'local'), 'gcc', {});
    const run = setup([`${a.address}/2`, `${b.address}/2`]);
    const before = [a.compiles(), b.compiles()];
    const remote = await compileAll(join(dir, 'remote'), run.cc, run.env);
    expect(remote).toEqual(local);
    const counts = distccCounts(readFileSync(run.log, 'utf8'), run.hosts);
    const ran = [a.compiles() - (before[0] ?? 0), b.compiles() - (before[1] ?? 0)];
    expect(counts).toEqual({
      hosts: [
        { host: `${a.address}/2`, compiles: ran[0], failed: 0 },
        { host: `${b.address}/2`, compiles: ran[1], failed: 0 },
      ],
      local: 0,
      retried: 0,
    });
    expect((ran[0] ?? 0) + (ran[1] ?? 0)).toBe(sources.length);
    expect(ran[1]).toBeGreaterThan(0); // four at a time on two slots each: both hosts work

    // b dies; it is first in the list, so the next compile is sent there, refused, and sent to a
    // (distcc backs off from b): everything is made, nothing fails.
    await b.kill();
    const after = setup([`${b.address}/2`, `${a.address}/2`]);
    const aBefore = a.compiles();
    const again = await compileAll(join(dir, 'after-kill'), after.cc, after.env);
    expect(again).toEqual(local);
    const log = readFileSync(after.log, 'utf8');
    const c = distccCounts(log, after.hosts);
    expect(c.retried, log).toBeGreaterThanOrEqual(1);
    expect(c.hosts[0], log).toEqual({ host: `${b.address}/2`, compiles: 0, failed: c.retried });
    expect(c.hosts[1]).toEqual({ host: `${a.address}/2`, compiles: a.compiles() - aBefore, failed: 0 });
    expect((c.hosts[1]?.compiles ?? 0) + c.local).toBe(sources.length);
  });
});
