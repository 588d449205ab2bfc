/**
 * bin/kernelfile.cjs compiles the bundled CLI with V8's code cache, kept per command in the user's
 * cache: made after a command's first run, used (not written again) on the next, made again when V8
 * refuses it, never read from or written to a directory another user could write, and off with
 * KERNELFILE_CODE_CACHE=0. Runs the installed bin (`npm run build` made dist/bundle/).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { BIN } from '../helpers/cli.js';

const PKG = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'kf-code-cache-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Run the bin with XDG_CACHE_HOME under the test's home. */
function kf(cacheHome: string, args: string[], env: Record<string, string> = {}) {
  const { KERNELFILE_CODE_CACHE: _off, KERNELFILE_DEBUG: _debug, ...rest } = process.env;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...rest, HOME: home, XDG_CACHE_HOME: cacheHome, NO_COLOR: '1', ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dirOf = (cacheHome: string) => join(cacheHome, 'kernelfile', 'code-cache');
const cachesIn = (cacheHome: string) =>
  existsSync(dirOf(cacheHome)) ? readdirSync(dirOf(cacheHome)).sort() : [];

describe('the code cache', () => {
  it('is made by a command’s first run (0600 in a 0700 directory) and used, unchanged, by the next', () => {
    const c = join(home, 'a');
    mkdirSync(join(c, 'kernelfile', 'code-cache'), { recursive: true, mode: 0o700 });
    // A cache of another build of the bundle (or another Node) is removed when one is written.
    writeFileSync(join(dirOf(c), 'v0.0.0-x64-1-1-1.none.bin'), 'old');
    const first = kf(c, ['--version']);
    expect(first).toMatchObject({ code: 0, out: `${PKG.version}\n` });
    const files = cachesIn(c);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^${process.version}-${process.arch}-\\d+-\\d+-\\d+\\.none\\.bin$`));
    const file = join(dirOf(c), files[0] as string);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirOf(c)).mode & 0o777).toBe(0o700);
    const made = readFileSync(file);
    expect(made.length).toBeGreaterThan(10_000);
    const mtime = statSync(file).mtimeMs;

    const second = kf(c, ['--version']);
    expect(second).toEqual(first);
    expect(statSync(file).mtimeMs).toBe(mtime); // accepted by V8: not written again
    expect(readFileSync(file).equals(made)).toBe(true);
  });

  it('is kept per command: validate has its own, and runs from it as without one', () => {
    const c = join(home, 'b');
    const kernelfile = join(home, 'kernelfile.yaml');
    writeFileSync(kernelfile, 'name: t\nkernel:\n  version: "6.1"\n  path: ./linux\n');
    const without = kf(c, ['validate', kernelfile], { KERNELFILE_CODE_CACHE: '0' });
    expect(cachesIn(c)).toEqual([]); // off: no directory, no file
    const first = kf(c, ['validate', kernelfile]);
    const second = kf(c, ['validate', kernelfile]);
    expect(first).toEqual(without);
    expect(second).toEqual(without);
    expect(cachesIn(c).map((f) => f.split('.').slice(-2, -1)[0])).toEqual(['validate']);
  });

  it('is kept apart for a fleet run (--inventory, whose V8 flags differ), and used by the next one', () => {
    const c = join(home, 'e');
    const inventory = join(home, 'no-such-inventory.yml');
    const first = kf(c, ['plan', '--inventory', inventory]);
    expect(first.code).toBe(1);
    expect(first.err).toContain('no-such-inventory.yml');
    const suffixes = () =>
      cachesIn(c)
        .map((f) => f.split('.').slice(-2, -1)[0])
        .sort();
    expect(suffixes()).toEqual(['plan-fleet']);
    const file = join(dirOf(c), cachesIn(c)[0] as string);
    const mtime = statSync(file).mtimeMs;
    // Made under the fleet's flags, so V8 takes it under them: not written again.
    expect(kf(c, ['plan', `--inventory=${inventory}`])).toEqual(first);
    expect(statSync(file).mtimeMs).toBe(mtime);
    // A one-host plan has a cache of its own, and the fleet's stays as it was.
    expect(kf(c, ['plan', join(home, 'no-such-kernelfile.yaml')]).code).toBe(1);
    expect(suffixes()).toEqual(['plan', 'plan-fleet']);
    expect(statSync(file).mtimeMs).toBe(mtime);
  });

  it('refused by V8 (damaged, or made by another V8) is made again, and the command runs', () => {
    const c = join(home, 'c');
    kf(c, ['--version']);
    const [name] = cachesIn(c);
    const file = join(dirOf(c), name as string);
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad.fill(0x5a, 0, 64); // the header V8 checks: magic number, version and flag hashes
    writeFileSync(file, bad, { mode: 0o600 });
    expect(kf(c, ['--version'])).toMatchObject({ code: 0, out: `${PKG.version}\n` });
    expect(readFileSync(file).subarray(0, 64).equals(bad.subarray(0, 64))).toBe(false);
  });

  it('is never read from a directory or file others can write', () => {
    const c = join(home, 'd');
    mkdirSync(dirOf(c), { recursive: true });
    chmodSync(dirOf(c), 0o777);
    expect(kf(c, ['--version'])).toMatchObject({ code: 0, out: `${PKG.version}\n` });
    expect(cachesIn(c)).toEqual([]);
    // A cache file others can write is not read: it is replaced by one of this user's (0600).
    chmodSync(dirOf(c), 0o700);
    kf(c, ['--version']);
    const [name] = cachesIn(c);
    const file = join(dirOf(c), name as string);
    writeFileSync(file, 'planted');
    chmodSync(file, 0o666);
    expect(kf(c, ['--version'])).toMatchObject({ code: 0, out: `${PKG.version}\n` });
    expect(readFileSync(file).length).toBeGreaterThan(10_000);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('knows every command of the command line (a cache per command; other words share one)', () => {
    const src = readFileSync(BIN, 'utf8');
    const list = /const COMMANDS = \[([^\]]*)\]/.exec(src)?.[1] ?? '';
    const listed = [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]).sort();
    const program = buildProgram(
      {
        out: () => {},
        err: () => {},
        color: false,
        cwd: home,
        env: {},
        readStdin: async () => Buffer.alloc(0),
        stdinIsTTY: false,
        stderrIsTTY: false,
        ask: async () => '',
      },
      () => {},
    );
    const names = [...program.commands.map((c) => c.name()), 'help', '__complete'].sort();
    expect(listed).toEqual(names);
  });
});
