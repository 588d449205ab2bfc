/**
 * Compiling through distcc (`build.distcc`), run so that a distcc build is the local build: the same
 * build id (distcc is not in it) and the same bytes.
 *
 *  - A private DISTCC_DIR per build (under the cache's tmp/): the user's ~/.distcc (hosts file,
 *    backoff state) is not read, and its log is this build's.
 *  - `CC=distcc gcc` on make's command line, never a masquerading `gcc` first on PATH: HOSTCC must
 *    stay local. The host tools (objtool, fixdep, modpost… shipped in headers/) are compiled with
 *    -g, and an object compiled with -g from distcc's preprocessed output differs from a local one
 *    (DWARF column numbers of macro-expanded code: gcc tracks them through its own preprocessor
 *    only). For the same reason a kernel with debug information (CONFIG_DEBUG_INFO) is refused:
 *    its objects could not be the local build's. A different CC changes every Kbuild command line,
 *    so a distcc build seeds only from distcc builds' object trees (seed.ts compat), never from a
 *    local one (it would recompile everything anyway) and the other way round.
 *  - DISTCC_NO_REWRITE_CROSS=1: distcc would otherwise run `x86_64-linux-gnu-gcc` remotely, which
 *    changes CONFIG_CC_VERSION_TEXT and the banner.
 *  - Preflight, before anything is compiled: every daemon answers a TCP connect (3 s), then a probe
 *    compiled on each host alone (no local fallback) must be byte-identical with the same probe
 *    compiled here. In distcc's normal mode preprocessing is local and cc1 and as run remotely, so
 *    this compares the remote compiler and assembler with the local ones; cc1's `.comment`
 *    ("GCC: (Debian 12.2.0-14) 12.2.0") names what differs. The build id covers the local
 *    toolchain, so a host with another one is refused, by name.
 *  - Where compiles went: distcc's own client log (DISTCC_LOG, its default level), read while make
 *    runs: per distcc host (returned, and sent but failed: a daemon that died), here, and how many
 *    were retried elsewhere. distccd's own logs are on the daemons' machines: not ours to read.
 *  - The preflight runs once a compile is certain (build(): not for a cache hit, so a build that is
 *    already cached never needs its distcc hosts); `build --check-reproducible`'s second build
 *    compiles here, so it compares the distcc build with a local one.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { onPath, runLocal } from '../host/local.js';
import { type DistccHost, distccAddress, distccHosts, distccJobs } from '../spec/distcc.js';
import type { Spec } from '../spec/schema.js';
import { ElfError, elfReader } from './elf-needs.js';
import { BuildError } from './errors.js';

/** What make needs to compile through distcc; made by distccSetup, removed by its cleanup(). */
export interface DistccRun {
  hosts: DistccHost[];
  /** The private DISTCC_DIR. */
  dir: string;
  /** distcc's client log. */
  log: string;
  /** The environment for make (DISTCC_*). */
  env: Record<string, string>;
  /** make's CC: `distcc gcc`. */
  cc: string;
  /** make -j from the slots. */
  jobs: number;
}

/** Where compiles went, from distcc's log. */
export interface DistccCounts {
  /**
   * Each listed distcc daemon, in the kernelfile's order: the compiles it returned, and the ones it
   * was sent and failed (refused, reset, timed out: a daemon that died), which went elsewhere.
   */
  hosts: { host: string; compiles: number; failed: number }[];
  /** Compiles run on this machine (in a localhost slot, or after distcc hosts failed). */
  local: number;
  /** Compiles a distcc host failed that were then made by another distcc host or here. */
  retried: number;
}

const CONNECT_TIMEOUT_MS = 3000;
const PROBE_SOURCE = `/* kernelfile: is this distcc host's compiler the local one? */
struct kf_probe { long a; int b[4]; };
static int kf_mix(const struct kf_probe *p, int n) {
\tint s = 0;
\tfor (int i = 0; i < n; i++) s += (int)(p->a >> (i & 7)) ^ p->b[i & 3];
\treturn s;
}
int kf_probe(const struct kf_probe *p, int n) { return kf_mix(p, n) * 31 + n; }
`;

function distccEnv(dir: string, log: string, hosts: string): Record<string, string> {
  return {
    DISTCC_DIR: dir,
    DISTCC_HOSTS: hosts,
    DISTCC_LOG: log,
    DISTCC_NO_REWRITE_CROSS: '1',
  };
}

/**
 * The private DISTCC_DIR (cache root's tmp/) and the environment and CC make runs with;
 * undefined when the kernelfile lists no distcc host. `distccBin`: distcc's path (tests).
 */
export function distccSetup(spec: Spec, cacheRoot: string, distccBin = 'distcc'): DistccRun | undefined {
  const written = spec.build?.distcc ?? [];
  if (written.length === 0) return undefined;
  const hosts = distccHosts(written);
  const bin = onPath(distccBin);
  if (!bin)
    throw new BuildError(
      '`distcc` is not installed on this machine (build.distcc compiles through it)',
      'install it (Debian: apt-get install distcc), or remove build.distcc',
    );
  sweepStale(join(cacheRoot, 'tmp'));
  const dir = join(cacheRoot, 'tmp', `distcc-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const cc = spec.build?.makeVars?.CC ?? 'gcc';
  const env = distccEnv(dir, join(dir, 'distcc.log'), hosts.map((h) => h.written).join(' '));
  return {
    hosts,
    dir,
    log: env.DISTCC_LOG as string,
    env,
    cc: `${distccBin} ${cc}`,
    jobs: spec.build?.jobs ?? distccJobs(hosts, availableParallelism()),
  };
}

/** DISTCC_DIRs of builds whose process is gone (killed): removed. */
function sweepStale(tmp: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(tmp);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(/^distcc-(\d+)-[0-9a-f]+$/.exec(n)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(join(tmp, n), { recursive: true, force: true });
    }
  }
}

/**
 * Why this build cannot go through distcc and stay the local build, or null: debug information
 * (DWARF column numbers of macro-expanded code differ when gcc compiles distcc's preprocessed output).
 */
export function distccConfigProblem(effective: Record<string, string>): string | null {
  return effective.CONFIG_DEBUG_INFO === 'y'
    ? 'the kernel is configured with debug information (CONFIG_DEBUG_INFO=y): compiled through distcc its objects differ from a local build’s (DWARF column numbers of macro-expanded code), so the artifacts would not be this build id’s'
    : null;
}

export function distccCleanup(run: DistccRun | undefined): void {
  if (run) rmSync(run.dir, { recursive: true, force: true });
}

/** One TCP connect: null when it was accepted, else why not. */
export function tcpReach(host: string, port: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (why: string | null) => {
      clearTimeout(timer);
      s.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    s.once('connect', () => done(null));
    s.once('error', (e: NodeJS.ErrnoException) =>
      done(
        e.code === 'ECONNREFUSED'
          ? 'connection refused (is distccd running and listening on that address?)'
          : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
            ? 'the name does not resolve'
            : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH'
              ? 'no route to it'
              : e.message,
      ),
    );
  });
}

/** The strings of an ELF object's `.comment` section (cc1's "GCC: (…) 12.2.0"); null when not ELF. */
export function elfComment(bytes: Uint8Array): string[] | null {
  try {
    const elf = elfReader(bytes);
    if (!elf) return null;
    const { is64, has, u16, u32, word, cstr } = elf;
    const shoff = word(is64 ? 0x28 : 0x20);
    const shentsize = u16(is64 ? 0x3a : 0x2e);
    const shnum = u16(is64 ? 0x3c : 0x30);
    const shstrndx = u16(is64 ? 0x3e : 0x32);
    if (shoff <= 0 || shentsize <= 0 || shnum <= 0 || shnum > 4096 || shstrndx >= shnum) return null;
    const section = (i: number) => {
      const h = shoff + i * shentsize;
      return { name: u32(h), offset: word(h + (is64 ? 0x18 : 0x10)), size: word(h + (is64 ? 0x20 : 0x14)) };
    };
    const names = section(shstrndx);
    for (let i = 0; i < shnum; i++) {
      const s = section(i);
      if (!has(names.offset + s.name, 1) || cstr(names.offset + s.name) !== '.comment') continue;
      if (!has(s.offset, s.size)) return null;
      return new TextDecoder('latin1')
        .decode(bytes.subarray(s.offset, s.offset + s.size))
        .split('\0')
        .filter(Boolean);
    }
    return [];
  } catch (e) {
    if (e instanceof ElfError) return null;
    throw e;
  }
}

/** How a probe object compiled on a distcc host compares with the local one: null when identical. */
export function probeDifference(local: Uint8Array, remote: Uint8Array): string | null {
  if (Buffer.compare(Buffer.from(local), Buffer.from(remote)) === 0) return null;
  const [l, r] = [elfComment(local), elfComment(remote)];
  const show = (c: string[] | null) =>
    c === null ? 'not an ELF object' : c.length ? c.join('; ') : 'no .comment';
  if (JSON.stringify(l) !== JSON.stringify(r)) return `its compiler is ${show(r)}; here it is ${show(l)}`;
  return `its compiler says ${show(r)} as here, but the object code differs (another assembler or another build of the compiler)`;
}

/**
 * Every distcc daemon reachable, and compiling exactly as this machine does; else a BuildError
 * naming each host that is not, and what to do. Before anything is compiled.
 */
export async function distccPreflight(
  run: DistccRun,
  cc: string,
  progress?: (message: string) => void,
): Promise<{ seconds: number }> {
  const started = Date.now();
  const remote = run.hosts.filter((h): h is Extract<DistccHost, { kind: 'tcp' }> => h.kind === 'tcp');
  progress?.(`distcc: connecting to ${remote.length} host${remote.length === 1 ? '' : 's'}`);
  const reach = await Promise.all(remote.map((h) => tcpReach(h.host, h.port)));
  const down = remote.flatMap((h, i) =>
    reach[i] ? [`${h.written} (${distccAddress(h)}): ${reach[i]}`] : [],
  );
  if (down.length)
    throw new BuildError(
      `${down.length === 1 ? 'a distcc host is' : `${down.length} distcc hosts are`} not reachable; nothing was compiled`,
      'start distccd there (`distccd --daemon --allow THIS-MACHINE --listen ADDRESS`), or remove the host from build.distcc',
      down,
    );
  progress?.(`distcc: checking the compiler on ${remote.length} host${remote.length === 1 ? '' : 's'}`);
  const probe = join(run.dir, 'probe');
  mkdirSync(probe, { recursive: true });
  writeFileSync(join(probe, 'kf-probe.c'), PROBE_SOURCE);
  const ccWords = cc.split(/\s+/).filter(Boolean);
  const flags = ['-O2', '-c', join(probe, 'kf-probe.c')];
  const local = await runLocal([...ccWords, ...flags, '-o', join(probe, 'local.o')]);
  if (local.code !== 0)
    throw new BuildError(
      `the C compiler \`${cc}\` cannot compile here: ${local.stderr.trim().split('\n')[0]}`,
      'install gcc (build-essential), or set build.makeVars.CC',
    );
  const localObj = readFileSync(join(probe, 'local.o'));
  for (let i = 0; i < remote.length; i++) mkdirSync(join(probe, `dir-${i}`));
  const wrong: string[] = [];
  await Promise.all(
    remote.map(async (h, i) => {
      const out = join(probe, `remote-${i}.o`);
      const log = join(probe, `remote-${i}.log`);
      const r = await runLocal(['distcc', ...ccWords, ...flags, '-o', out], {
        env: {
          // Its own DISTCC_DIR: a failure here leaves no backoff state for the build.
          ...distccEnv(join(probe, `dir-${i}`), log, h.written),
          // This host or nothing: no local compile in its place (a host that fails is backed off,
          // so distcc does not retry it either).
          DISTCC_FALLBACK: '0',
          DISTCC_SKIP_LOCAL_RETRY: '1',
          // A daemon that takes the job and never answers (it denies us late, it hangs) is not waited for.
          DISTCC_IO_TIMEOUT: '20',
        },
        timeoutMs: 30_000,
      });
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        // no log: the exit code says it
      }
      const counts = distccCounts(text, [h]);
      if (r.code !== 0 || counts.hosts[0]?.compiles !== 1) {
        const why = text
          .split('\n')
          .filter((l) => /ERROR|failed|warning/i.test(l))
          .map((l) => l.replace(/^distcc\[\d+\] (\([a-z_]+\) )?/, ''))
          .slice(-2)
          .join('; ');
        wrong.push(
          `${h.written}: the probe did not compile there (${why || r.stderr.trim().split('\n').pop() || `exit ${r.code}`}); is this machine in its --allow list, and \`${ccWords[ccWords.length - 1]}\` installed there?`,
        );
        return;
      }
      const diff = probeDifference(localObj, readFileSync(out));
      if (diff) wrong.push(`${h.written}: ${diff}`);
    }),
  );
  rmSync(probe, { recursive: true, force: true });
  if (wrong.length)
    throw new BuildError(
      `${wrong.length === 1 ? 'a distcc host does' : `${wrong.length} distcc hosts do`} not compile as this machine does; nothing was compiled`,
      'install the same compiler and binutils there as here (the build id covers this machine’s toolchain), or remove the host from build.distcc',
      wrong.sort(),
    );
  return { seconds: (Date.now() - started) / 1000 };
}

/**
 * distcc's client log, read as it grows: one outcome per distributable compile (a process that
 * logged `compile from SRC to OBJ`): `compile SRC on HOST completed ok` names where it ran. Lines of concurrent
 * processes interleave (each is one write); a process id is forgotten at its `elapsed compilation
 * time` line, so a reused pid starts afresh. A compile first sent (`exec on HOST`) to a host that
 * failed is sent to another host or made here: that host's `failed`, and `retried`.
 */
export class DistccTally {
  private partial = '';
  /** Per running distcc process: a distributable compile, and the distcc hosts it was sent to. */
  private readonly state = new Map<number, { compile: boolean; tried: string[] }>();
  private readonly remote = new Map<string, { compiles: number; failed: number }>();
  private local = 0;
  private retried = 0;

  constructor(hosts: readonly DistccHost[]) {
    for (const h of hosts) if (h.kind === 'tcp') this.remote.set(h.written, { compiles: 0, failed: 0 });
  }

  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  private host(name: string): { compiles: number; failed: number } {
    let h = this.remote.get(name);
    if (!h) {
      h = { compiles: 0, failed: 0 };
      this.remote.set(name, h);
    }
    return h;
  }

  private line(line: string): void {
    const m = /^distcc\[(\d+)\] (.*)$/.exec(line);
    if (!m) return;
    const pid = Number(m[1]);
    const msg = m[2] as string;
    if (msg.startsWith('compile from ')) {
      this.state.set(pid, { compile: true, tried: [] });
      return;
    }
    let s = this.state.get(pid);
    if (!s) {
      s = { compile: false, tried: [] };
      this.state.set(pid, s);
    }
    const exec = /^exec on (\S+?): /.exec(msg);
    if (exec && exec[1] !== 'localhost') s.tried.push(exec[1] as string);
    const done = /^compile .* on (\S+) completed ok$/.exec(msg);
    if (done && s.compile) {
      const where = done[1] as string;
      const failed = s.tried.filter((h) => h !== where);
      for (const h of failed) this.host(h).failed++;
      if (failed.length) this.retried++;
      if (where === 'localhost') this.local++;
      else this.host(where).compiles++;
    }
    if (msg.startsWith('elapsed compilation time')) this.state.delete(pid);
  }

  counts(): DistccCounts {
    return {
      hosts: [...this.remote].map(([host, c]) => ({ host, ...c })),
      local: this.local,
      retried: this.retried,
    };
  }
}

/** A whole log's counts (see DistccTally). */
export function distccCounts(text: string, hosts: readonly DistccHost[]): DistccCounts {
  const t = new DistccTally(hosts);
  t.feed(text.endsWith('\n') ? text : `${text}\n`);
  return t.counts();
}

/** "10.0.0.2/2 612, 10.0.0.6/2 540 (3 failed); here 320; 3 retried after a distcc host failed" */
export function distccSummary(c: DistccCounts): string {
  const remote = c.hosts
    .map((h) => `${h.host} ${h.compiles}${h.failed ? ` (${h.failed} failed)` : ''}`)
    .join(', ');
  return `${remote}; here ${c.local}${c.retried ? `; ${c.retried} retried after a distcc host failed` : ''}`;
}
