/**
 * The lock file and reproducible builds, end to end with the CLI on a copy of examples/qemu-tiny
 * (its committed kernelfile.lock included):
 * - `build --check-reproducible`: the example built twice (the first from the tests' build cache, the
 *   second now, in another directory, with another umask, time zone and locale), every artifact equal;
 *   the build's provenance statement names the artifacts and the inputs with their digests;
 * - a changed patch makes `--locked` fail naming the patch, before anything is compiled, and leaves
 *   the lock as it was; without `--locked` it is a warning; `kernelfile lock` accepts it;
 * - a missing lock: `--locked` refuses; a plain build writes it, byte for byte what `lock` writes.
 * (The lock round-trips through a no-op plan of a converged host in converged.test.ts.)
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelfile } from '../helpers/cli.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { EXAMPLE, ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note } from '../helpers/proc.js';

const PATCH = 'patches/0001-init-announce-kernelfile-build.patch';
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

let dir: string;
let kf: string;
let lock: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-reproducible-'));
  cpSync(join(EXAMPLE, '..'), join(dir, 'tiny'), { recursive: true });
  kf = join(dir, 'tiny', 'kernelfile.yaml');
  lock = join(dir, 'tiny', 'kernelfile.lock');
  await ensureKernelArtifacts();
}, 1_800_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('build --check-reproducible', () => {
  it('builds the example a second time elsewhere: every artifact is identical', async () => {
    const r = await kernelfile(['build', kf, '--check-reproducible', '--json', '--locked']);
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'build');
    const rep = doc.reproducible;
    expect(rep?.identical, JSON.stringify(rep?.differences, null, 2)).toBe(true);
    expect(rep?.differences).toEqual([]);
    // vmlinuz, System.map, config, the modules and the headers tree (thousands of files).
    expect(rep?.compared).toBeGreaterThan(1000);
    expect(rep?.varied).toMatchObject({
      umask: expect.stringMatching(/^0[0-7]{3}$/),
      TZ: expect.any(String),
    });
    expect(rep?.varied.srctree).not.toBe(doc.artifacts?.dir);
    expect(existsSync(rep?.second.dir ?? '/')).toBe(false); // removed: identical
    expect(doc.lock?.state).toBe('unchanged');
    note(
      `check-reproducible: ${rep?.compared} files identical; first build ${rep?.first.seconds} s${rep?.first.cached ? ' (from the cache)' : ''}, second ${rep?.second.seconds} s`,
    );
  }, 1_800_000);

  it('the build keeps an in-toto statement with SLSA provenance: the artifacts and the inputs with their digests', async () => {
    const r = await kernelfile(['build', kf, '--json']);
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'build');
    const manifest = JSON.parse(
      readFileSync(join(doc.artifacts?.dir as string, 'manifest.json'), 'utf8'),
    ) as {
      files: { path: string; sha256: string }[];
    };
    const statement = JSON.parse(readFileSync(doc.artifacts?.provenance as string, 'utf8'));
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    const subject = new Map<string, string>(
      statement.subject.map((s: { name: string; digest: { sha256: string } }) => [s.name, s.digest.sha256]),
    );
    expect(subject.get('vmlinuz')).toBe(manifest.files.find((f) => f.path === 'vmlinuz')?.sha256);
    // Every in-tree module is a subject (the example's tinyconfig builds none: its module is DKMS).
    const modules = manifest.files.filter((f) => /^modules\/.*\.ko(\.[a-z]+)?$/.test(f.path));
    for (const m of modules) expect(subject.get(m.path)).toBe(m.sha256);
    expect(subject.size).toBe(4 + modules.length); // vmlinuz, System.map, config, manifest.json
    const digest = sha256(readFileSync(join(doc.artifacts?.dir as string, 'manifest.json')));
    expect(subject.get('manifest.json')).toBe(digest);
    const deps = statement.predicate.buildDefinition.resolvedDependencies as {
      name: string;
      uri?: string;
      digest?: Record<string, string>;
    }[];
    expect(deps).toContainEqual({
      name: 'patch',
      uri: PATCH,
      digest: { sha256: sha256(readFileSync(join(dir, 'tiny', PATCH))) },
    });
    expect(deps.find((d) => d.name === 'kernel source')?.digest?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(statement.predicate.runDetails.metadata.invocationId).toBe(doc.buildId);
  });
});

describe('the lock file', () => {
  it('a changed patch: --locked refuses naming it before compiling; the lock stays as it was', async () => {
    const before = readFileSync(lock);
    const patch = join(dir, 'tiny', PATCH);
    const original = readFileSync(patch);
    writeFileSync(patch, `${original}-- \nkernelfile test: a changed patch\n`);
    const r = await kernelfile(['build', kf, '--locked']);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toContain(
      `${PATCH} changed: sha256 ${sha256(original).slice(0, 12)}… → ${sha256(readFileSync(patch)).slice(0, 12)}…`,
    );
    expect(r.err).toContain('--locked: the lock does not hold; nothing was built or changed');
    expect(r.err).not.toMatch(/compiling/);
    expect(readFileSync(lock).equals(before)).toBe(true);

    // Without --locked: a warning, exit 0 (config only: nothing to compile), the lock untouched.
    const w = await kernelfile(['build', kf, '--config-only']);
    expect(w.code, w.err).toBe(0);
    expect(w.err).toMatch(
      /warning: .* no longer resolves to what .*kernelfile.lock records \(2 differences\)/,
    );
    expect(readFileSync(lock).equals(before)).toBe(true);

    // Accepted: `kernelfile lock` writes the new digests; --locked passes again.
    const l = await kernelfile(['lock', kf]);
    expect(l.code, l.err).toBe(0);
    expect(l.out).toMatch(/Updated .*kernelfile.lock \(2 differences accepted\)/);
    expect(readFileSync(lock, 'utf8')).toContain(`sha256: ${sha256(readFileSync(patch))}`);
    const ok = await kernelfile(['build', kf, '--config-only', '--locked']);
    expect(ok.code, ok.err).toBe(0);
    writeFileSync(patch, original);
    expect((await kernelfile(['lock', kf])).code).toBe(0);
    expect(readFileSync(lock).equals(before)).toBe(true);
  });

  it('a missing lock: --locked refuses; a build writes it, the same bytes `lock` writes', async () => {
    const committed = readFileSync(lock);
    rmSync(lock);
    const r = await kernelfile(['build', kf, '--config-only', '--locked']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/kernelfile.lock does not exist/);
    expect(existsSync(lock)).toBe(false);
    const w = await kernelfile(['build', kf, '--config-only']);
    expect(w.code, w.err).toBe(0);
    expect(w.err).toMatch(/Wrote .*kernelfile.lock/);
    expect(readFileSync(lock).equals(committed)).toBe(true);
  });

  it('an edited lock: the error names its line', async () => {
    const good = readFileSync(lock, 'utf8');
    writeFileSync(lock, good.replace(/^recipe: \d+$/m, 'recipe: two'));
    const r = await kernelfile(['build', kf, '--config-only', '--locked']);
    expect(r.code).toBe(1);
    const line = good.split('\n').findIndex((l) => l.startsWith('recipe:')) + 1;
    expect(r.err).toContain(`kernelfile.lock:${line}:9: \`recipe\` must be a whole number`);
    writeFileSync(lock, good);
  });
});
