/**
 * Looking at what an apply left on a real test host (sshd.ts): the CLI arguments to reach it, the
 * GRUB default, the files under a directory with their sha256, and waiting until the commands an
 * interrupted apply left running on the host have ended.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './proc.js';
import type { SshHost } from './sshd.js';

export const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** `--host ssh://root@127.0.0.1:PORT` and the options to reach a test host as root (known_hosts in `dir`). */
export function sshTarget(h: SshHost, dir: string): string[] {
  const kh = join(dir, `known_hosts-${h.port}`);
  writeFileSync(kh, `${h.knownHostsLine()}\n`);
  return [
    '--host',
    `ssh://root@127.0.0.1:${h.port}`,
    '--ssh-config',
    'none',
    '--known-hosts',
    kh,
    '-i',
    h.keys.root.privateKeyPath,
  ];
}

/** grubenv's variables on the host (`grub-editenv FILE list`), or null when there is no grubenv. */
export async function grubEnvVars(
  h: SshHost,
  file = '/boot/grub/grubenv',
): Promise<Record<string, string> | null> {
  const r = await h.exec(['grub-editenv', file, 'list']);
  if (r.code !== 0) return null;
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size?: number;
  sha256?: string;
  target?: string;
}

/**
 * Every entry under `dir` (a path on THIS machine, e.g. `${h.root}/boot`), relative path → type,
 * size and sha256 of files, target of symlinks (never followed). {} when `dir` does not exist.
 */
export function treeState(dir: string): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(dir, r);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(p);
      } catch {
        continue; // removed while we looked (a command still running on the host)
      }
      if (st.isSymbolicLink()) out[r] = { type: 'symlink', target: readlinkSync(p) };
      else if (st.isDirectory()) {
        out[r] = { type: 'dir' };
        walk(r);
      } else if (st.isFile()) {
        let sum: string | undefined;
        try {
          sum = sha256File(p);
        } catch {
          sum = undefined;
        }
        out[r] = { type: 'file', size: st.size, ...(sum ? { sha256: sum } : {}) };
      } else out[r] = { type: 'other' };
    }
  };
  walk('');
  return out;
}

/** A process running inside a host. */
export interface HostProcess {
  pid: number;
  ppid: number;
  args: string;
}

/** The host's processes other than its init (and the init's sleep) and the sshd listener. */
export async function strayProcesses(h: SshHost): Promise<HostProcess[]> {
  const r = await h.exec(['ps', '-e', '-o', 'pid=,ppid=,args=']);
  const procs = r.stdout
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] as string }));
  const self = procs.find((p) => p.args.startsWith('ps -e -o'));
  return procs.filter(
    (p) =>
      p.pid !== 1 &&
      !(p.ppid === 1 && /^sleep 2147483647$/.test(p.args)) &&
      !/^sshd: \/usr\/sbin\/sshd -D|^\/usr\/sbin\/sshd -D/.test(p.args) &&
      p.pid !== self?.pid,
  );
}

/**
 * Wait until nothing but the host's init and sshd listener runs on it (what a killed controller
 * left running there has ended). Returns what was running at the first look (for reports).
 */
export async function waitHostIdle(
  h: SshHost,
  timeoutMs = 120_000,
): Promise<{ first: HostProcess[]; waitedMs: number }> {
  const t0 = Date.now();
  const first = await strayProcesses(h);
  let now = first;
  while (now.length > 0) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `${h.hostname}: still running after ${timeoutMs / 1000} s:\n${now.map((p) => `${p.pid} ${p.args}`).join('\n')}`,
      );
    await sleep(200);
    now = await strayProcesses(h);
  }
  return { first, waitedMs: Date.now() - t0 };
}

/** What a test host's sshd logged (with `sshdConfig: ['LogLevel VERBOSE']`) about logins and sessions. */
export interface SshdSessions {
  /** Logins (`Accepted publickey for …`): one per SSH connection. */
  connections: number;
  /** Command sessions (`Starting session: command …`): one per command run over a connection. */
  commands: number;
  /** SFTP sessions. */
  sftp: number;
}

export function countSshdSessions(log: string): SshdSessions {
  const n = (re: RegExp) => (log.match(re) ?? []).length;
  return {
    connections: n(/^Accepted publickey for /gm),
    commands: n(/^Starting session: command /gm),
    sftp: n(/^Starting session: subsystem 'sftp' /gm),
  };
}

/** What sshd logged since `before` (an earlier h.log()): its log keeps the last 64 KiB of its output. */
export function sshdLogSince(h: SshHost, before: string): string {
  const now = h.log();
  if (!before) return now;
  const tail = before.slice(-400);
  const at = now.lastIndexOf(tail);
  return at < 0 ? now : now.slice(at + tail.length);
}

/**
 * The files changed on the host since `mark` was touched (`find / -xdev -newer MARK`), without the
 * mark and /tmp's own mtime (dkms creates and removes a temp file on every `dkms status`).
 */
export async function filesChangedSince(h: SshHost, mark: string): Promise<string[]> {
  const r = await h.exec(['find', '/', '-xdev', '-newer', mark, '-not', '-path', mark]);
  return r.stdout.split('\n').filter((f) => f && f !== '/tmp');
}
