/**
 * The cache's own rules, without running anything: sealed entries (a damaged one is detected and
 * thrown away, never used), the keys of the Kconfig side of the cache (each keyed by what decides
 * it, and by nothing else), the Kconfig database kept on disk, and the per-build lock.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build, type Prepared } from '../../../src/compile/build.js';
import { cacheDirs, openSealed, SEAL_FILE, seal, sealProblem } from '../../../src/compile/cache.js';
import { baseKey, type ConfigInput, configKey } from '../../../src/compile/config.js';
import {
  decodeDb,
  encodeDb,
  kconfigDbKey,
  parserFingerprint,
  treeKconfigDb,
} from '../../../src/compile/kconfig-db-cache.js';
import { kconfigToolsKey } from '../../../src/compile/kconfig-tools.js';
import { withLock } from '../../../src/compile/lock.js';
import { configValues, parseConfig } from '../../../src/kconfig/config.js';
import { findDropped, requestedFromConfig } from '../../../src/kconfig/dropped.js';
import { loadKconfig } from '../../../src/kconfig/kconfig-db.js';
import type { Spec } from '../../../src/spec/schema.js';
import { dirReader, FIXTURES, fixture } from '../kconfig/trees.js';

const dir = mkdtempSync(join(tmpdir(), 'kf-cache-entries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sealed entries', () => {
  const files = (m: Record<string, string>) => (p: string) =>
    p in m ? Buffer.from(m[p] as string) : undefined;
  const sealOf = (m: Record<string, string>) => {
    const d = mkdtempSync(join(dir, 'seal-'));
    for (const [p, t] of Object.entries(m)) {
      mkdirSync(join(d, p, '..'), { recursive: true });
      writeFileSync(join(d, p), t);
    }
    seal(d);
    return readFileSync(join(d, SEAL_FILE), 'utf8');
  };

  it('lists every file under the entry, in subdirectories too', () => {
    const s = JSON.parse(sealOf({ config: 'CONFIG_A=y\n', 'scripts/kconfig/conf': 'ELF' }));
    expect(Object.keys(s.files)).toEqual(['config', 'scripts/kconfig/conf']);
    expect(s.files.config.size).toBe(11);
  });

  it('is whole when every file matches; names the first problem otherwise', () => {
    const m = { config: 'CONFIG_A=y\n', 'report.json': '[]' };
    const s = sealOf(m);
    expect(sealProblem(s, files(m), ['config'])).toBeUndefined();
    expect(sealProblem(s, files({ ...m, config: 'CONFIG_A=n\n' }))).toBe('config does not match its seal');
    expect(sealProblem(s, files({ ...m, config: 'CONFIG_A=y' }))).toBe('config does not match its seal');
    expect(sealProblem(s, files({ 'report.json': '[]' }))).toBe('config is missing');
    expect(sealProblem(s, files(m), ['other'])).toBe('other is not in the seal');
    expect(sealProblem(undefined, files(m))).toBe('no seal.json');
    expect(sealProblem('{"seal":', files(m))).toBe('seal.json is not JSON');
    expect(sealProblem('{"seal":2,"files":{}}', files(m))).toBe('seal.json is not a seal');
  });

  it('openSealed uses a whole entry and throws a damaged one away', () => {
    const parent = mkdtempSync(join(dir, 'open-'));
    const entry = join(parent, 'e');
    expect(openSealed(entry)).toBe(false); // none
    mkdirSync(entry);
    writeFileSync(join(entry, 'config'), 'CONFIG_A=y\n');
    seal(entry);
    expect(openSealed(entry, ['config'])).toBe(true);
    writeFileSync(join(entry, 'dropped-1.json'), '[]'); // added later, not sealed: fine
    expect(openSealed(entry, ['config'])).toBe(true);
    writeFileSync(join(entry, 'config'), 'CONFIG_A=');
    expect(openSealed(entry, ['config'])).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
    mkdirSync(entry);
    writeFileSync(join(entry, 'config'), 'CONFIG_A=y\n'); // an entry without a seal (partial)
    expect(openSealed(entry, ['config'])).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('the keys of the Kconfig side of the cache', () => {
  const input = (over: Partial<ConfigInput> = {}, spec: Record<string, unknown> = {}): ConfigInput => ({
    tree: { dir: '/c/trees/t1', key: 't1' },
    spec: {
      kernel: { version: '6.1.192', localversion: '-tiny' },
      config: { base: 'tinyconfig', set: { CONFIG_64BIT: 'y' } },
      ...spec,
    } as unknown as Spec,
    arch: 'x86_64',
    fragments: [{ abs: '/k/qemu.config', written: 'qemu.config', text: 'CONFIG_PRINTK=y\n' }],
    setOrigin: () => ({ file: 'kernelfile.yaml', line: 1 }),
    toolchain: 'gcc 12.2.0 | GNU ld 2.40',
    dirs: cacheDirs(join(dir, 'keys')),
    ...over,
  });
  const base = input();

  it('a configuration: every input that decides the .config changes it', () => {
    const variants = [
      input({ tree: { dir: '/c/trees/t1', key: 't2' } }),
      input({ arch: 'aarch64' }),
      input({ toolchain: 'gcc 13' }),
      input({ fragments: [] }),
      input({ fragments: [{ abs: '/k/qemu.config', written: 'qemu.config', text: 'CONFIG_PRINTK=n\n' }] }),
      input({}, { kernel: { version: '6.1.192', localversion: '-other' } }),
      input({}, { config: { base: 'tinyconfig', set: { CONFIG_64BIT: 'n' } } }),
      input({}, { config: { base: 'defconfig', set: { CONFIG_64BIT: 'y' } } }),
      input({}, { build: { makeVars: { CC: 'clang' } } }),
      input({ baseText: 'CONFIG_A=y\n' }, { config: { base: 'running', set: { CONFIG_64BIT: 'y' } } }),
    ].map(configKey);
    expect(new Set([configKey(base), ...variants]).size).toBe(variants.length + 1);
    // Where the fragment lives does not matter, only what it says; nor where the tree is.
    expect(
      configKey(
        input({ fragments: [{ abs: '/x/q.config', written: 'q.config', text: 'CONFIG_PRINTK=y\n' }] }),
      ),
    ).toBe(configKey(base));
    expect(configKey(input({ tree: { dir: '/elsewhere', key: 't1' } }))).toBe(configKey(base));
  });

  it('a base target’s result: shared by every configuration on it, changed by tree, arch, make variables, toolchain', () => {
    const k = baseKey(base, 'tinyconfig');
    expect(baseKey(input({ fragments: [] }, { config: { base: 'tinyconfig', set: {} } }), 'tinyconfig')).toBe(
      k,
    );
    expect(baseKey(input({}, { kernel: { version: '6.1.192', localversion: '-x' } }), 'tinyconfig')).toBe(k);
    const others = [
      baseKey(base, 'defconfig'),
      baseKey(input({ tree: { dir: '/c/trees/t1', key: 't2' } }), 'tinyconfig'),
      baseKey(input({ arch: 'aarch64' }), 'tinyconfig'),
      baseKey(input({ toolchain: 'gcc 13' }), 'tinyconfig'),
      baseKey(input({}, { build: { makeVars: { HOSTCC: 'clang' } } }), 'tinyconfig'),
    ];
    expect(new Set([k, ...others]).size).toBe(others.length + 1);
  });

  it('the kconfig tools: per tree (key and path), make variables and toolchain, whatever the arch', () => {
    const t = { tree: { dir: '/c/trees/t1', key: 't1' }, makeVars: {}, toolchain: 'gcc 12' };
    const k = kconfigToolsKey(t);
    const others = [
      kconfigToolsKey({ ...t, tree: { dir: '/c/trees/t1', key: 't2' } }),
      kconfigToolsKey({ ...t, tree: { dir: '/moved/trees/t1', key: 't1' } }),
      kconfigToolsKey({ ...t, makeVars: { HOSTCC: 'clang' } }),
      kconfigToolsKey({ ...t, toolchain: 'gcc 13' }),
    ];
    expect(new Set([k, ...others]).size).toBe(others.length + 1);
  });

  it('the Kconfig database: per tree and preprocessor variables, and the parser’s own code', () => {
    const x86 = { SRCARCH: 'x86', ARCH: 'x86_64' };
    const k = kconfigDbKey('t1', x86);
    expect(kconfigDbKey('t1', { ...x86 })).toBe(k);
    expect(kconfigDbKey('t2', x86)).not.toBe(k);
    expect(kconfigDbKey('t1', { SRCARCH: 'arm64', ARCH: 'arm64' })).not.toBe(k);
    expect(parserFingerprint()).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('the Kconfig database kept on disk', () => {
  const vars = { SRCARCH: 'x86', ARCH: 'x86_64' };
  const treeDir = join(FIXTURES, 'tree');
  const parsed = loadKconfig(dirReader(treeDir), vars);
  const requested = requestedFromConfig(
    'no-block.config',
    parseConfig(fixture('cases/no-block/requested.config')).entries,
  );
  const effective = configValues(fixture('cases/no-block/effective.config'));

  it('reads back as the parsed one: the same symbols, shared objects kept shared, the same reasons', () => {
    const db = decodeDb(encodeDb(parsed));
    expect(db).toBeDefined();
    if (!db) return;
    expect([...db.symbols.keys()]).toEqual([...parsed.symbols.keys()]);
    expect(db.files).toEqual(parsed.files);
    const member = [...db.symbols.values()].flat().find((d) => d.choice);
    expect(member?.choice && db.choices.includes(member.choice)).toBe(true);
    expect(findDropped(requested, effective, db)).toEqual(findDropped(requested, effective, parsed));
  });

  it('a damaged file is not read', () => {
    const bytes = encodeDb(parsed);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 1;
    expect(decodeDb(bytes)).toBeUndefined();
    expect(decodeDb(bytes.subarray(0, 100))).toBeUndefined();
    expect(decodeDb(Buffer.alloc(0))).toBeUndefined();
  });

  it('is parsed once per tree, read after; a damaged file is parsed and written again', () => {
    const kdir = mkdtempSync(join(dir, 'db-'));
    const tree = { dir: treeDir, key: 'fixture-tree' };
    expect(treeKconfigDb(tree, vars, kdir).cached).toBe(false);
    const again = treeKconfigDb(tree, vars, kdir);
    expect(again.cached).toBe(true);
    expect(findDropped(requested, effective, again.db)).toEqual(findDropped(requested, effective, parsed));
    const [file] = readdirSync(kdir);
    const path = join(kdir, file as string);
    writeFileSync(path, readFileSync(path).subarray(0, 1000));
    expect(treeKconfigDb(tree, vars, kdir).cached).toBe(false);
    expect(treeKconfigDb(tree, vars, kdir).cached).toBe(true);
  });

  it('is not read at all when every requested value is in the .config as written', () => {
    const kept = requestedFromConfig(
      'kept.config',
      parseConfig('CONFIG_BLOCK=y\n# CONFIG_X is not set\n').entries,
    );
    const never = () => {
      throw new Error('the database was read');
    };
    expect(findDropped(kept, { CONFIG_BLOCK: 'y' }, never)).toEqual([]);
    let reads = 0;
    const dropped = findDropped(kept, { CONFIG_BLOCK: 'n' }, () => {
      reads++;
      return parsed;
    });
    expect(reads).toBe(1);
    expect(dropped.map((d) => d.symbol)).toEqual(['CONFIG_BLOCK']);
  });
});

describe('one build per build id at a time', () => {
  it('a build that finds its build id locked waits, then uses what the holder made: nothing compiled', async () => {
    const dirs = cacheDirs(join(dir, 'build-lock'));
    const buildId = 'a'.repeat(64);
    const p = {
      buildId,
      release: '6.1.192-kfaaaaaaaa',
      dirs,
      spec: { build: {} },
      config: { dropped: [], effective: {} },
    } as unknown as Prepared;
    const manifest = { formatVersion: 1, buildId, release: p.release };
    let release: () => void = () => {};
    const holder = withLock(dirs.locks, `build-${buildId}`, 'test', async () => {
      await new Promise<void>((r) => {
        release = r;
      });
      mkdirSync(join(dirs.artifacts, buildId));
      writeFileSync(join(dirs.artifacts, buildId, 'manifest.json'), JSON.stringify(manifest));
    });
    await new Promise((r) => setTimeout(r, 20));
    const stages: string[] = [];
    const waiting = build(p, (e) => stages.push(e.stage));
    await new Promise((r) => setTimeout(r, 300));
    expect(stages).toEqual([
      expect.stringMatching(
        /^waiting for another kernelfile \(pid \d+ on .*\) building 6\.1\.192-kfaaaaaaaa$/,
      ),
    ]);
    release();
    await holder;
    const r = await waiting;
    expect(r).toMatchObject({ cached: true, manifest });
  });
});
