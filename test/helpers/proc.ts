/**
 * Small process helpers shared by the real-host test harness (rootfs.ts, sshd.ts): running a command
 * and collecting its output, prerequisites that fail with what to install, a lock file that parallel
 * vitest workers can share, and cleanup of what a killed test run left in the temp directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ProcResult {
  /** Exit code; 128+N when killed by signal N. */
  code: number;
  stdout: string;
  stderr: string;
}

export const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };

/** Run a command (argv, no shell) and collect its output; never rejects on a non-zero exit. */
export function run(
  argv: readonly string[],
  opts: { stdin?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (!cmd) throw new Error('run: empty argv');
    const child = spawn(cmd, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? { ...process.env, PATH: process.env.PATH || PATH_ENV },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // EPIPE when the command does not read its input
    child.stdin.end(opts.stdin ?? '');
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 128 + (SIGNALS[signal ?? ''] ?? 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

/** Run a command and insist on exit code 0; the error shows the command and the end of its output. */
export async function runOk(
  argv: readonly string[],
  opts: Parameters<typeof run>[1] = {},
): Promise<ProcResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const tail = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`\`${argv.join(' ')}\` exited with ${r.code}${tail ? `:\n${tail}` : ''}`);
  }
  return r;
}

/** The real-host harness needs root (mount namespaces, overlayfs, chroot, debootstrap). */
export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0)
    throw new Error(
      `${what} needs root (mount namespaces, overlayfs, chroot): run the tests as root, e.g. sudo npm test`,
    );
}

/** Fail with what to install when a command is missing: `[command, Debian package]`. */
export function requireCommands(what: string, commands: ReadonlyArray<readonly [string, string]>): void {
  const dirs = (process.env.PATH || PATH_ENV).split(':').concat(PATH_ENV.split(':'));
  const missing = commands.filter(([cmd]) =>
    cmd.startsWith('/') ? !existsSync(cmd) : !dirs.some((d) => existsSync(join(d, cmd))),
  );
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, p]) => p))].join(' ');
    throw new Error(
      `${what} needs ${missing.map(([c]) => c).join(', ')}: run scripts/install-deps.sh --tests (or apt-get install ${pkgs})`,
    );
  }
}

/** Whether a process exists (a zombie counts as gone). */
export function pidAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The PIDs whose parent is `pid` (read from /proc: kernels without CONFIG_PROC_CHILDREN lack .../children). */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(name));
    } catch {} // gone meanwhile
  }
  return found;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Run `fn` holding an exclusive lock file (created with O_EXCL, holding our pid). A lock whose
 * holder process is gone is taken over, so a killed test run never blocks the next one.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; onWait?: (holder: number) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  let told = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isFinite(holder) && holder > 0 && !pidAlive(holder)) {
      await unlink(path).catch(() => {});
      continue;
    }
    if (!told && Number.isFinite(holder)) {
      opts.onWait?.(holder);
      told = true;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${path} (held by pid ${holder})`);
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}

/**
 * Make a cache entry once, for every process that wants it: `ready()` returns the entry when it is
 * there (checked again once the lock `${cache}/${name}.lock` is held: another process may have made
 * it meanwhile); otherwise `make(tmp)` runs in a fresh `${cache}/.tmp-PID-XXXXXX`, builds there and
 * renames what it made into place as its last step. The temp directory is removed afterwards, also on
 * failure, and those of killed runs are swept first: an interrupted build leaves nothing that a
 * later run would mistake for a finished one.
 */
export async function makeCacheEntry<T>(o: {
  cache: string;
  name: string;
  ready: () => T | undefined;
  make: (tmp: string) => Promise<T>;
  /** Told once when another process holds the lock. */
  onWait?: (holder: number) => void;
  /** How long to wait for another process's build (default withFileLock's, 30 min). */
  timeoutMs?: number;
}): Promise<T> {
  const done = o.ready();
  if (done !== undefined) return done;
  await mkdir(o.cache, { recursive: true });
  return withFileLock(
    join(o.cache, `${o.name}.lock`),
    async () => {
      const made = o.ready();
      if (made !== undefined) return made;
      await sweepStale('.tmp', o.cache);
      const tmp = await mkdtemp(join(o.cache, `.tmp-${process.pid}-`));
      try {
        return await o.make(tmp);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
    { ...(o.onWait ? { onWait: o.onWait } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) },
  );
}

/**
 * Temp directories are named `${prefix}-${pid}-XXXXXX`; remove those whose process is gone (a test
 * run that was killed). Their mounts lived in mount namespaces that died with it: only files remain.
 */
export async function sweepStale(prefix: string, dir = tmpdir()): Promise<void> {
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-`);
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (n) => {
      const m = re.exec(n);
      if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1])))
        await rm(join(dir, n), { recursive: true, force: true }).catch(() => {});
    }),
  );
}

/** Seconds with one decimal, for timing lines. */
export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A line on stderr for the harness's timings (vitest shows it with the test's output). */
export function note(msg: string): void {
  console.log(`[kernelfile-tests] ${msg}`);
}

/**
 * A command prefix for new namespaces that die with this process: mount and pid namespaces (plus
 * `namespaces`), private mount propagation, killed with their first process, which is killed with us.
 */
export function isolated(opts: { namespaces?: string[]; dropCaps?: string } = {}): string[] {
  return [
    'setpriv',
    '--pdeathsig',
    'KILL',
    ...(opts.dropCaps ? ['--bounding-set', opts.dropCaps] : []),
    '--',
    'unshare',
    '--mount',
    ...(opts.namespaces ?? []),
    '--pid',
    '--fork',
    '--kill-child',
    '--propagation',
    'private',
    '--',
  ];
}
