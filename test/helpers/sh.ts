/** Run a facts script on this machine with a given shell, optionally as an unprivileged user. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const isRoot = process.getuid?.() === 0;
export const NOBODY = 65534;

/** A path to the program, or null when this machine lacks it. */
export function which(name: string): string | null {
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin'])
    if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  return null;
}

/** Can this test drop to an unprivileged user? (root with setpriv, or not root in the first place) */
export const canRunUnprivileged = !isRoot || which('setpriv') !== null;

export interface ShRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runSh(
  script: string,
  opts: { shell?: string; unprivileged?: boolean; env?: Record<string, string>; prefix?: string[] } = {},
): ShRun {
  const shell = opts.shell ?? which('dash') ?? 'sh';
  let argv = [...(opts.prefix ?? []), shell, '-s'];
  if (opts.unprivileged && isRoot)
    argv = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv];
  const r = spawnSync(argv[0] as string, argv.slice(1), {
    input: script,
    encoding: 'utf8',
    cwd: '/',
    env: opts.env ?? { PATH: '/usr/bin:/bin', LANG: 'C' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
