/**
 * The real facts script on this machine: under dash (and busybox sh when present), as this user
 * and as an unprivileged one, checked against what Node itself sees; and proof that it only reads.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { factsScript, parseFacts } from '../../../src/facts/gather.js';
import { parseOsRelease } from '../../../src/facts/system.js';
import { TOOL_NAMES } from '../../../src/facts/types.js';
import { canRunUnprivileged, isRoot, NOBODY, runSh, which } from './sh.js';

const NONCE = 'kfSCRIPTTEST42';
const script = factsScript(NONCE);
const tmp = mkdtempSync(join(os.tmpdir(), 'kf-script-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function gatherHere(opts: Parameters<typeof runSh>[1] = {}) {
  const r = runSh(script, { env: { PATH: '/usr/bin:/bin', TMPDIR: tmp }, ...opts });
  expect(r.code).toBe(0);
  expect(r.stderr).toBe(''); // families run with 2>/dev/null; the prelude itself prints no errors
  return parseFacts(r.stdout, NONCE, 'local');
}

/** What Node sees of this machine, independently of the script. */
function expectThisMachine(f: ReturnType<typeof parseFacts>) {
  expect(f.system.running).toBe(os.release());
  expect(f.system.hostname).toBe(os.hostname());
  expect(f.system.arch).toBe(os.machine());
  const osRelease = ['/etc/os-release', '/usr/lib/os-release'].find(existsSync);
  if (osRelease) expect(f.system.distro).toEqual(parseOsRelease(readFileSync(osRelease, 'utf8')));
  const modules = existsSync('/lib/modules') ? readdirSync('/lib/modules') : [];
  expect(f.kernels.filter((k) => k.modules).map((k) => k.release)).toEqual(
    expect.arrayContaining(modules.filter((m) => statSync(`/lib/modules/${m}`).isDirectory())),
  );
  for (const name of TOOL_NAMES) {
    const path = f.tools[name];
    if (path) expect(statSync(path).mode & 0o111, `${name} at ${path} is executable`).not.toBe(0);
  }
  expect(f.space.boot?.totalBytes ?? 0).toBeGreaterThan(0);
  expect(f.digest).toMatch(/^[0-9a-f]{64}$/);
}

describe('the facts script on this machine', () => {
  it('runs under dash as this user and parses into facts that match the machine', () => {
    const f = gatherHere();
    expectThisMachine(f);
    expect(f.system.uid).toBe(process.getuid?.());
    if (existsSync('/proc/config.gz')) {
      expect(f.config.source).toBe('/proc/config.gz');
      expect(Object.keys(f.config.options).length).toBeGreaterThan(100);
    }
  });

  it.skipIf(!canRunUnprivileged)('runs as an unprivileged user without a sbin PATH', () => {
    const f = gatherHere({ unprivileged: true });
    expectThisMachine(f);
    expect(f.system.uid).toBe(isRoot ? NOBODY : process.getuid?.());
    const depmod = which('depmod');
    if (depmod) expect(f.tools.depmod).toBe(depmod); // found in sbin although PATH has no sbin
  });

  it.skipIf(!which('busybox'))('runs under busybox sh', () => {
    expectThisMachine(gatherHere({ prefix: [which('busybox') as string], shell: 'sh' }));
  });

  it.skipIf(!which('bash'))('gives the same facts under dash and bash', () => {
    const a = gatherHere();
    const b = gatherHere({ shell: which('bash') as string });
    expect({ ...b, space: null, digest: null }).toEqual({ ...a, space: null, digest: null });
  });
});

describe('gathering only reads', () => {
  it('the script redirects output to /dev/null only and runs no command that writes', () => {
    const code = script.replace(/^\s*#.*$/gm, ''); // comments
    const redirections = code.match(/[0-9]*>>?&?[^\s)]*/g) ?? [];
    expect(redirections.length).toBeGreaterThan(0);
    expect(redirections.filter((r) => !/^[0-9]*>\/dev\/null$/.test(r))).toEqual([]);
    expect(code).not.toMatch(/<</); // here-documents may be temp files
    const writers =
      /(^|[\s;|&(`])(mkdir|touch|rm|rmdir|mv|cp|ln|tee|dd|truncate|chmod|chown|mktemp|mknod|mkfifo|sed)(\s|$)/m;
    expect(code.match(writers)?.[0] ?? null).toBeNull();
    // Tools (update-grub, grubby, dracut, …) are only looked up; the commands run are these:
    const runs = [...code.matchAll(/kf_run\s+\S+\s+(.*?)(?=;|\|\||&&|$)/gm)].map((m) => m[1]?.trim());
    expect(new Set(runs)).toEqual(
      new Set([
        'uname -m',
        'uname -r',
        'uname -v',
        'uname -n',
        'id -u',
        'gzip -dc /proc/config.gz',
        'zcat /proc/config.gz',
        'dkms --version',
        'dkms status',
        'df -P -k /boot',
        'df -P -k /lib/modules',
      ]),
    );
  });

  // strace sees every file the script and its children open for writing. The one exception is
  // dkms itself: every dkms invocation (even --version) sources its config through a temp file
  // from mktemp in $TMPDIR and deletes it (dkms's safe_source). Nothing else may be written.
  function writesOf(text: string): string[] {
    const log = join(tmp, 'strace.log');
    const r = runSh(text, {
      env: { PATH: '/usr/bin:/bin', TMPDIR: tmp },
      prefix: ['strace', '-f', '-qq', '-o', log, '-e', 'trace=%file'],
    });
    expect(r.code).toBe(0);
    const calls = readFileSync(log, 'utf8').split('\n');
    rmSync(log);
    const writes = calls.filter(
      (l) =>
        /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(l) ||
        /\b(mkdir|mkdirat|unlink|unlinkat|rename|renameat2?|link|linkat|symlink|symlinkat|truncate|chmod|fchmodat|chown|fchownat|mknod|mknodat|utimensat)\(/.test(
          l,
        ),
    );
    return writes.filter((l) => {
      if (/"\/dev\/(null|tty)"/.test(l)) return false;
      const path = l.match(/"([^"]+)"/)?.[1] ?? '';
      return !(path.startsWith(`${tmp}/tmp.`) && calls.some((c) => c.includes('unlink') && c.includes(path)));
    });
  }

  it.skipIf(!which('strace'))(
    'opens no file for writing, except the temp files dkms makes and removes',
    () => {
      expect(writesOf(`touch ${tmp}/probe\n`).join('\n')).toContain(`${tmp}/probe`); // the check sees writes
      expect(writesOf(script)).toEqual([]);
      expect(readdirSync(tmp).filter((n) => n.startsWith('tmp.'))).toEqual([]); // dkms removed its temp files
    },
  );
});
