/**
 * `kernelfile cache prune` on a cache laid out as builds leave it (object trees with and without a
 * record, the recycled tree, a failed build's log, a killed run's staging directory, a tree a
 * running build holds):
 * what it names, what --dry-run leaves, and what a real prune removes and keeps. Runs the CLI from
 * the sources (main()), on real files.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { OBJTREE_RECORD, type ObjtreeRecord } from '../../src/compile/seed.js';
import type { PruneReport } from '../../src/engine/cache.js';

let root: string;
let cache: string;

const id = (c: string) => c.repeat(64);

function tree(buildId: string, completedAt?: string, source = 'sha256:src'): void {
  // The object tree: obj/ of the build's directory (build-dir.ts).
  const dir = join(cache, 'objects', buildId, 'obj');
  mkdirSync(join(dir, 'init'), { recursive: true });
  writeFileSync(join(dir, '.config'), 'CONFIG_64BIT=y\n');
  writeFileSync(join(dir, 'init', 'main.o'), Buffer.alloc(64 * 1024, 1));
  if (completedAt) {
    const r: ObjtreeRecord = {
      objtreeRecord: OBJTREE_RECORD,
      buildId,
      release: `6.1.192-kf${buildId.slice(0, 8)}`,
      recipe: 2,
      source,
      pristine: { key: 'p', dir: join(cache, 'trees', 'src-p') },
      tree: { key: 'p', dir: join(cache, 'trees', 'src-p') },
      objtree: dir,
      arch: 'x86_64',
      compat: 'c',
      completedAt,
    };
    writeFileSync(join(cache, 'objects', `${buildId}.json`), JSON.stringify(r));
  }
}

async function kf(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(['node', 'kernelfile', ...args], {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    color: false,
    cwd: root,
    env: { HOME: root },
    readStdin: async () => Buffer.alloc(0),
    stdinIsTTY: false,
    stderrIsTTY: false,
    ask: async () => '',
  });
  return { code, out, err };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kf-prune-'));
  cache = join(root, 'cache');
  for (const [c, t] of [
    ['1', '2026-12-01T01:00:00.000Z'],
    ['2', '2026-12-01T02:00:00.000Z'],
    ['3', '2026-12-01T03:00:00.000Z'],
    ['4', '2026-12-01T04:00:00.000Z'],
  ] as const)
    tree(id(c), t);
  tree(id('5'), '2026-11-01T00:00:00.000Z', 'sha256:other'); // another source: its own count
  tree(id('a')); // no record: a failed build, or one made before seeds were recorded
  tree(id('b')); // no record, but a build holds its lock right now
  // The last tree dropped, kept for the next seed copy to write into (recycle.ts).
  mkdirSync(join(cache, 'objects', 'recycled', 'init'), { recursive: true });
  writeFileSync(join(cache, 'objects', 'recycled', 'init', 'main.o'), Buffer.alloc(64 * 1024, 1));
  mkdirSync(join(cache, 'locks'), { recursive: true });
  writeFileSync(
    join(cache, 'locks', `build-${id('b')}.lock`),
    JSON.stringify({
      pid: process.pid,
      host: 'elsewhere',
      boot: '',
      start: '',
      token: 't',
      what: 'building',
    }),
  );
  mkdirSync(join(cache, 'failed'), { recursive: true });
  writeFileSync(join(cache, 'failed', `${id('9')}.log`), 'make: *** [Makefile] Error 2\n');
  const staging = join(cache, 'artifacts', `${id('8')}.tmp-4242-abcd1234`);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'vmlinuz'), 'half');
  utimesSync(staging, new Date('2026-01-01'), new Date('2026-01-01'));
  const fresh = join(cache, 'artifacts', `${id('7')}.tmp-4243-abcd1234`); // a build staging now
  mkdirSync(fresh, { recursive: true });
  mkdirSync(join(cache, 'artifacts', id('1')), { recursive: true });
  writeFileSync(join(cache, 'artifacts', id('1'), 'manifest.json'), '{}');
  // A spare copy of a source, as kernelfile made them before patched trees were shadows; the
  // source itself stays.
  mkdirSync(join(cache, 'trees', 'src-s.spare', 'init'), { recursive: true });
  writeFileSync(join(cache, 'trees', 'src-s.spare', 'init', 'main.c'), 'int x;\n');
  mkdirSync(join(cache, 'trees', 'src-s', 'init'), { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('kernelfile cache prune', () => {
  it('--dry-run names what would go and how much it frees, and removes nothing', async () => {
    const before = readdirSync(join(cache, 'objects')).sort();
    const r = await kf(['cache', 'prune', '--dry-run', '--cache-dir', cache, '--json']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out) as PruneReport;
    expect(report.dryRun).toBe(true);
    const paths = (what: RegExp) =>
      report.groups.find((g) => what.test(g.what))?.entries.map((e) => e.path.slice(cache.length + 1)) ?? [];
    expect(paths(/beyond the 3 most recent/)).toEqual([`objects/${id('1')}`]);
    expect(paths(/cannot seed/)).toEqual([`objects/${id('a')}`]);
    expect(paths(/failed builds/)).toEqual([`failed/${id('9')}.log`]);
    expect(paths(/dropped object tree/)).toEqual(['objects/recycled']);
    expect(paths(/leftovers/)).toEqual([`artifacts/${id('8')}.tmp-4242-abcd1234`]);
    expect(paths(/spare copies/)).toEqual(['trees/src-s.spare']);
    expect(report.bytes).toBeGreaterThan(3 * 64 * 1024);
    expect(report.kept.trees).toBe(4); // 2, 3, 4 of the source and 5 of the other
    expect(readdirSync(join(cache, 'objects')).sort()).toEqual(before);
    const text = await kf(['cache', 'prune', '--dry-run', '--cache-dir', cache]);
    expect(text.out).toMatch(/^Would free \d+(\.\d)? [KM]iB; 4 object trees kept to seed later builds/m);
  });

  it('removes them (an object tree with its record), and keeps sources, artifacts and what a build holds', async () => {
    const r = await kf(['cache', 'prune', '--cache-dir', cache, '--keep-object-trees', '1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^Freed \d+(\.\d)? [KM]iB; 2 object trees kept/m);
    const objects = readdirSync(join(cache, 'objects')).sort();
    expect(objects).toEqual([id('4'), `${id('4')}.json`, id('5'), `${id('5')}.json`, id('b')].sort());
    expect(existsSync(join(cache, 'failed', `${id('9')}.log`))).toBe(false);
    expect(existsSync(join(cache, 'artifacts', `${id('8')}.tmp-4242-abcd1234`))).toBe(false);
    expect(existsSync(join(cache, 'artifacts', `${id('7')}.tmp-4243-abcd1234`))).toBe(true);
    expect(existsSync(join(cache, 'artifacts', id('1'), 'manifest.json'))).toBe(true);
    expect(existsSync(join(cache, 'trees', 'src-s.spare'))).toBe(false);
    expect(existsSync(join(cache, 'trees', 'src-s'))).toBe(true);
    // Nothing left to do.
    const again = await kf(['cache', 'prune', '--cache-dir', cache, '--keep-object-trees', '1', '--json']);
    expect((JSON.parse(again.out) as PruneReport).groups).toEqual([]);
  });

  it('refuses a bad --keep-object-trees and an unknown action, naming them', async () => {
    const bad = await kf(['cache', 'prune', '--cache-dir', cache, '--keep-object-trees', 'all']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--keep-object-trees takes a number from 0 to 100, got `all`');
    const unknown = await kf(['cache', 'clear', '--cache-dir', cache]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/argument value 'clear' is invalid/);
  });
});
