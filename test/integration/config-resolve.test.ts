/**
 * Kconfig resolution with the kernel's own tools on Debian's linux-source-6.1 (the part Kconfig
 * uses: test/helpers/debian.ts), into a cache of the test's own: what the cache keeps between
 * configurations (the base target's .config, the kconfig host tools, the Kconfig database), that
 * reusing them never changes the result, that a damaged entry is detected and made again, and that
 * two processes resolving the same configuration at once both get it, resolved once.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheDirs, cacheDirs } from '../../src/compile/cache.js';
import { type ConfigInput, type ResolvedConfig, resolveConfig } from '../../src/compile/config.js';
import { seedTools } from '../../src/compile/kconfig-tools.js';
import { startTimeOf } from '../../src/compile/lock.js';
import type { Spec } from '../../src/spec/schema.js';
import { debianKconfigBuildTree } from '../helpers/debian.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const QEMU = readFileSync(join(root, 'examples/qemu-tiny/fragments/qemu.config'), 'utf8');
const TOOLCHAIN = 'gcc (test) | ld (test)';

let dir: string;
let tree: { dir: string; key: string };
beforeAll(() => {
  tree = { dir: debianKconfigBuildTree(), key: 'debian-6.1-kconfig-part' };
  dir = mkdtempSync(join(tmpdir(), 'kf-config-resolve-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function input(dirs: CacheDirs, set: Record<string, unknown>, messages: string[] = []): ConfigInput {
  return {
    tree,
    spec: {
      apiVersion: 'kernelfile/v1',
      name: 't',
      kernel: { version: '6.1.192', source: { path: '/x' }, localversion: '-t' },
      config: { base: 'tinyconfig', fragments: ['qemu.config'], set },
    } as unknown as Spec,
    arch: 'x86_64',
    fragments: [{ abs: '/k/qemu.config', written: 'qemu.config', text: QEMU }],
    setOrigin: () => ({ file: 'kernelfile.yaml', line: 1 }),
    toolchain: TOOLCHAIN,
    dirs,
    progress: (m) => messages.push(m),
  };
}

const entries = (d: CacheDirs, prefix: string) =>
  readdirSync(d.kconfig)
    .filter((n) => n.startsWith(prefix) && !n.includes('.tmp-'))
    .sort();

describe('resolving configurations one after another', { timeout: 10 * 60_000 }, () => {
  let dirs: CacheDirs;
  let first: ResolvedConfig;
  beforeAll(() => {
    dirs = cacheDirs(join(dir, 'cache'));
  });

  it('the first: make tinyconfig, merge_config.sh, olddefconfig; keeps the base and the tools, never reads the Kconfig database', async () => {
    const messages: string[] = [];
    first = await resolveConfig(input(dirs, { CONFIG_64BIT: 'y' }, messages));
    expect(first.cached).toBe(false);
    expect(first.dropped).toEqual([]);
    expect(first.effective).toMatchObject({
      CONFIG_64BIT: 'y',
      CONFIG_SERIAL_8250_CONSOLE: 'y',
      CONFIG_EXT4_FS: 'y',
      CONFIG_LOCALVERSION: '"-t"',
    });
    expect(messages).toContain('resolving the kernel configuration (make tinyconfig)');
    expect(entries(dirs, 'base-')).toHaveLength(1);
    expect(entries(dirs, 'tools-')).toHaveLength(1);
    expect(entries(dirs, 'db-')).toEqual([]);
    // Only the result is kept: the output directory (O=) is gone.
    expect(readdirSync(join(dirs.configs, first.key)).sort()).toEqual([
      'config',
      expect.stringMatching(/^dropped-[0-9a-f]{16}\.json$/),
      'fragment-0.config',
      'kernelfile.config',
      'seal.json',
    ]);
  });

  it('a new configuration on the same tree starts from the kept base and tools, and resolves exactly as a cold cache does', async () => {
    const tools = entries(dirs, 'tools-')[0] as string;
    const sealed = statSync(join(dirs.kconfig, tools, 'seal.json')).mtimeMs;
    const messages: string[] = [];
    const second = await resolveConfig(
      input(dirs, { CONFIG_64BIT: 'y', CONFIG_LOG_BUF_SHIFT: 14 }, messages),
    );
    expect(second.cached).toBe(false);
    expect(second.key).not.toBe(first.key);
    expect(second.effective.CONFIG_LOG_BUF_SHIFT).toBe('14');
    expect(messages).toEqual(['resolving the kernel configuration (merge_config.sh, olddefconfig)']);
    expect(statSync(join(dirs.kconfig, tools, 'seal.json')).mtimeMs).toBe(sealed);
    const cold = await resolveConfig(
      input(cacheDirs(join(dir, 'cold')), { CONFIG_64BIT: 'y', CONFIG_LOG_BUF_SHIFT: 14 }),
    );
    expect(cold.key).toBe(second.key);
    expect(cold.text).toBe(second.text);
  });

  it('make finds the seeded kconfig tools up to date: it compiles nothing before running conf', () => {
    const run = (seed: boolean) => {
      const out = mkdtempSync(join(dir, 'o-'));
      if (seed) expect(seedTools(join(dirs.kconfig, entries(dirs, 'tools-')[0] as string), out)).toBe(true);
      writeFileSync(join(out, '.config'), first.text);
      const r = spawnSync('make', ['-C', tree.dir, `O=${out}`, 'ARCH=x86_64', 'olddefconfig'], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      return r.stdout;
    };
    expect(run(false)).toMatch(/^\s+HOSTCC\s+scripts\/kconfig\/conf\.o$/m);
    const seeded = run(true);
    expect(seeded).not.toMatch(/^\s+(HOSTCC|HOSTLD|LEX|YACC)\s/m);
    expect(seeded).toMatch(/No change to \.config|configuration written to \.config/);
  });

  it('the same configuration again is a cache hit', async () => {
    const again = await resolveConfig(input(dirs, { CONFIG_64BIT: 'y' }));
    expect(again).toMatchObject({ cached: true, key: first.key, text: first.text });
  });

  it('a value Kconfig drops is explained from the Kconfig database, which is then kept for the tree', async () => {
    const r = await resolveConfig(
      input(dirs, { CONFIG_64BIT: 'y', CONFIG_INET: { value: 'y', onDropped: 'warn' } }),
    );
    expect(r.dropped.map((d) => [d.symbol, d.reason, d.onDropped])).toEqual([
      ['CONFIG_INET', 'depends on NET [=n]', 'warn'],
    ]);
    const [db] = entries(dirs, 'db-');
    expect(db).toMatch(/^db-[0-9a-f]{64}\.v8$/);
    const made = statSync(join(dirs.kconfig, db as string)).mtimeMs;
    const other = await resolveConfig(
      input(dirs, { CONFIG_64BIT: 'y', CONFIG_IPV6: { value: 'y', onDropped: 'warn' } }),
    );
    expect(other.dropped.map((d) => d.symbol)).toEqual(['CONFIG_IPV6']);
    expect(entries(dirs, 'db-')).toEqual([db]);
    expect(statSync(join(dirs.kconfig, db as string)).mtimeMs).toBe(made);
  });
});

describe('a damaged cache entry is detected and made again, never used', { timeout: 10 * 60_000 }, () => {
  let dirs: CacheDirs;
  let good: ResolvedConfig;
  const set = { CONFIG_64BIT: 'y', CONFIG_LOG_BUF_SHIFT: 15 };
  beforeAll(async () => {
    dirs = cacheDirs(join(dir, 'damage'));
    good = await resolveConfig(input(dirs, set));
  });

  it('the resolved .config', async () => {
    const damaged = good.text.replace('CONFIG_LOG_BUF_SHIFT=15', 'CONFIG_LOG_BUF_SHIFT=16');
    expect(damaged).not.toBe(good.text);
    writeFileSync(join(dirs.configs, good.key, 'config'), damaged);
    const r = await resolveConfig(input(dirs, set));
    expect(r.cached).toBe(false);
    expect(r.text).toBe(good.text);
  });

  it('a resolution without its seal (left half-made)', async () => {
    rmSync(join(dirs.configs, good.key, 'seal.json'));
    const r = await resolveConfig(input(dirs, set));
    expect(r.cached).toBe(false);
    expect(r.text).toBe(good.text);
  });

  it('the base target’s .config', async () => {
    const base = join(dirs.kconfig, entries(dirs, 'base-')[0] as string);
    writeFileSync(join(base, 'config'), '# CONFIG_64BIT is not set\n');
    rmSync(join(dirs.configs, good.key), { recursive: true });
    const messages: string[] = [];
    const r = await resolveConfig(input(dirs, set, messages));
    expect(messages).toContain('resolving the kernel configuration (make tinyconfig)');
    expect(r.text).toBe(good.text);
    expect(readFileSync(join(base, 'config'), 'utf8')).toMatch(/^CONFIG_64BIT=y$/m);
  });

  it('the kconfig tools (a truncated conf)', async () => {
    const tools = join(dirs.kconfig, entries(dirs, 'tools-')[0] as string);
    truncateSync(join(tools, 'scripts/kconfig/conf'), 100);
    rmSync(join(dirs.configs, good.key), { recursive: true });
    const r = await resolveConfig(input(dirs, set));
    expect(r.text).toBe(good.text);
    // Harvested again from this resolution: whole, with a conf that runs.
    expect(statSync(join(tools, 'scripts/kconfig/conf')).size).toBeGreaterThan(100);
    expect(seedTools(tools, mkdtempSync(join(dir, 'o-')))).toBe(true);
  });

  it('a dropped-value report', async () => {
    const [report] = readdirSync(join(dirs.configs, good.key)).filter((n) => n.startsWith('dropped-'));
    writeFileSync(
      join(dirs.configs, good.key, report as string),
      JSON.stringify({ sha256: 'x', dropped: [{ symbol: 'CONFIG_MADE_UP' }] }),
    );
    const r = await resolveConfig(input(dirs, set));
    expect(r.cached).toBe(true);
    expect(r.dropped).toEqual(good.dropped);
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    const self = startTimeOf(readFileSync('/proc/self/stat', 'utf8'));
    mkdirSync(dirs.locks, { recursive: true });
    writeFileSync(
      join(dirs.locks, `config-${good.key}.lock`),
      JSON.stringify({
        pid: Number(dead),
        host: hostname(),
        boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
        start: self,
        token: 'old',
        what: 'resolving',
      }),
    );
    rmSync(join(dirs.configs, good.key), { recursive: true });
    const messages: string[] = [];
    const r = await resolveConfig(input(dirs, set, messages));
    expect(r.text).toBe(good.text);
    expect(messages.some((m) => m.startsWith('waiting'))).toBe(false);
    expect(existsSync(join(dirs.locks, `config-${good.key}.lock`))).toBe(false);
  });
});

describe('two processes resolving the same new configuration at once', { timeout: 10 * 60_000 }, () => {
  it('both get it, and it is resolved once', async () => {
    const cacheRoot = join(dir, 'two');
    const script = join(dir, 'resolve.mts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { cacheDirs } from ${JSON.stringify(join(root, 'src/compile/cache.ts'))};
import { resolveConfig } from ${JSON.stringify(join(root, 'src/compile/config.ts'))};
const messages: string[] = [];
const r = await resolveConfig({
  tree: ${JSON.stringify(tree)},
  spec: { kernel: { version: '6.1.192', localversion: '-two' }, config: { base: 'tinyconfig', set: { CONFIG_64BIT: 'y' } } },
  arch: 'x86_64',
  fragments: [],
  setOrigin: () => ({ file: 'kernelfile.yaml', line: 1 }),
  toolchain: ${JSON.stringify(TOOLCHAIN)},
  dirs: cacheDirs(${JSON.stringify(cacheRoot)}),
  progress: (m) => messages.push(m),
} as never);
console.log(JSON.stringify({ cached: r.cached, key: r.key, text: r.text, messages }));
`,
    );
    const one = () =>
      new Promise<{ cached: boolean; key: string; text: string; messages: string[] }>((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root });
        let out = '';
        let err = '';
        c.stdout.on('data', (b) => {
          out += b;
        });
        c.stderr.on('data', (b) => {
          err += b;
        });
        c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
      });
    const [a, b] = await Promise.all([one(), one()]);
    expect(a.key).toBe(b.key);
    expect(a.text).toBe(b.text);
    expect(a.text).toMatch(/^CONFIG_LOCALVERSION="-two"$/m);
    expect([a.cached, b.cached].sort()).toEqual([false, true]);
    const waiter = a.cached ? a : b;
    expect(waiter.messages).toEqual([
      expect.stringMatching(
        /^waiting for another kernelfile \(pid \d+ on .+\) resolving the same configuration$/,
      ),
    ]);
    // Nothing half-made is left behind: no temporary directories, no lock.
    const d = cacheDirs(cacheRoot);
    expect(readdirSync(d.configs)).toEqual([a.key]);
    expect(readdirSync(d.locks)).toEqual([]);
  });
});
