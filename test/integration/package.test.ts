/**
 * The npm package as a user installs it: `npm pack` (which runs `prepare`: the build) gives a
 * tarball with the bundled CLI, the library, the schemas and the man page, and nothing of the
 * sources or tests; `npm install -g --prefix DIR` of it installs the runtime dependencies only
 * (no devDependencies: the CLI is a bundle) and the man page, and the installed `kernelfile` runs
 * from a directory of its own.
 *
 * The install is offline (`--offline`) when npm's cache holds every dependency and its metadata:
 * after `npm ci` the cache has the tarballs but not the registry metadata a lockfile-free install
 * resolves versions from, so the first run on a machine may fetch that (`--prefer-offline`, once);
 * every later run is offline.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

let work: string;
let tarball: string;
let files: string[];
let prefix: string;
let offline = true;

function npm(args: string[], cwd: string) {
  return spawnSync('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error' },
    timeout: 300_000,
  });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kf-package-'));
  const pack = npm(['pack', '--pack-destination', work], ROOT);
  expect(pack.status, pack.stderr).toBe(0);
  tarball = join(work, `kernelfile-${PKG.version}.tgz`);
  files = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  prefix = join(work, 'prefix');
  let install = npm(['install', '-g', '--prefix', prefix, '--offline', tarball], work);
  if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
    offline = false;
    install = npm(['install', '-g', '--prefix', prefix, '--prefer-offline', tarball], work);
  }
  expect(install.status, install.stderr).toBe(0);
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('holds the bin, the bundled CLI, the library with its types, the schemas and the man page', () => {
    for (const f of [
      'package/package.json',
      'package/README.md',
      'package/bin/kernelfile.cjs',
      'package/dist/bundle/kernelfile.cjs',
      'package/dist/engine/index.js',
      'package/dist/engine/index.d.ts',
      'package/schemas/kernelfile.schema.json',
      'package/man/kernelfile.1',
    ])
      expect(files).toContain(f);
  });

  it('holds no sources, tests or scripts, no unbundled CLI, no source maps of files it does not ship', () => {
    const stray = files.filter((f) =>
      /^package\/(src|test|scripts|bench|examples|node_modules|\.cache)\/|^package\/dist\/cli\/|^package\/dist\/(?!bundle\/).*\.map$/.test(
        f,
      ),
    );
    expect(stray).toEqual([]);
  });
});

describe('npm install -g of the tarball', () => {
  it(`installs the runtime dependencies only (offline when the cache allows)`, () => {
    const installed = readdirSync(join(prefix, 'lib', 'node_modules', 'kernelfile', 'node_modules'));
    for (const d of Object.keys(PKG.dependencies)) expect(installed).toContain(d.split('/')[0]);
    const dev = Object.keys(PKG.devDependencies).map((d) => d.split('/')[0] as string);
    expect(installed.filter((d) => dev.includes(d) && !d.startsWith('@'))).toEqual([]);
    if (!offline)
      console.warn('package.test: the npm cache lacked registry metadata: installed with --prefer-offline');
  });

  it('installs the man page', () => {
    expect(readFileSync(join(prefix, 'share', 'man', 'man1', 'kernelfile.1'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'man', 'kernelfile.1'), 'utf8'),
    );
  });

  it('runs from a directory of its own: --version, validate, completion', () => {
    const clean = join(work, 'clean');
    mkdirSync(clean);
    writeFileSync(
      join(clean, 'kernelfile.yaml'),
      'apiVersion: kernelfile/v1\nname: packaged\nkernel:\n  version: "6.1.192"\n  source: {path: linux-6.1.192.tar.xz}\n',
    );
    writeFileSync(join(clean, 'linux-6.1.192.tar.xz'), '');
    const bin = join(prefix, 'bin', 'kernelfile');
    expect(existsSync(bin)).toBe(true);
    // Node itself, and nothing of this checkout: the package's own bin directory, the system's.
    const env = {
      PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`,
      HOME: clean,
      NO_COLOR: '1',
    };
    const run = (args: string[]) => spawnSync(bin, args, { cwd: clean, env, encoding: 'utf8' });
    const version = run(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`${PKG.version}\n`);
    const validate = run(['validate']);
    expect(validate.stdout + validate.stderr).toBe('kernelfile.yaml is valid.\n');
    expect(validate.status).toBe(0);
    const completion = run(['__complete', 'bash', 'kernelfile val']);
    expect(completion.stdout).toBe('none\n\nval\nvalidate\n');
  });
});
