/**
 * Issue 12, defects 6, 7 and 13 on the real file system: a FIFO, /dev/zero, a sparse file of
 * gigabytes, a symbolic link to a key outside the project. Each is refused fast, reads at most its
 * limit, and no line of a secret is printed. Cache directories are created 0700.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { cacheDirs } from '../../src/compile/cache.js';
import { readRegular, readRegularSync, readRegularTextSync } from '../../src/compile/read-file.js';
import { fetchFile } from '../../src/compile/source.js';
import { readModuleConf } from '../../src/dkms/conf.js';
import { fakeIo } from '../helpers/io.js';

const CORPUS = join(import.meta.dirname, '../fixtures/hostile/controller-inputs');
const KEY = readFileSync(join(CORPUS, 'fake-openssh-key'), 'utf8');
const keyLines = KEY.split('\n').filter((l) => l && !l.startsWith('-----'));

let dir: string;
let project: string;
let outside: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-hostile-'));
  project = join(dir, 'project');
  outside = join(dir, 'home-of-someone');
  mkdirSync(join(project, '.git'), { recursive: true });
  mkdirSync(join(project, 'mod/hello'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(project, 'linux-6.1.192.tar.xz'), '');
  copyFileSync(join(CORPUS, 'fake-openssh-key'), join(outside, 'id_ed25519'));
  execFileSync('mkfifo', [join(project, 'pipe.config'), join(project, 'mod/hello/dkms.conf')]);
  symlinkSync(join(outside, 'id_ed25519'), join(project, 'innocent.config'));
  // 4 GiB that take no space: a reader that trusts the size, or reads to the end, is caught.
  const fd = openSync(join(dir, 'sparse.config'), 'w');
  ftruncateSync(fd, 4 * 1024 * 1024 * 1024);
  closeSync(fd);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = `apiVersion: kernelfile/v1
name: t
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;

async function validateCli(yaml: string) {
  writeFileSync(join(project, 'kernelfile.yaml'), yaml);
  const io = fakeIo(project, { env: { HOME: outside } });
  const t0 = Date.now();
  const rss0 = process.memoryUsage().rss;
  const code = await main(['node', 'kernelfile', 'validate', 'kernelfile.yaml'], io);
  return {
    code,
    text: io.stdout + io.stderr,
    ms: Date.now() - t0,
    grewMiB: (process.memoryUsage().rss - rss0) / 1024 / 1024,
  };
}

describe('kernelfile validate on hostile files', () => {
  it('a FIFO as a fragment: refused at its line, fast (no hang)', async () => {
    const r = await validateCli(`${HEAD}config:\n  fragments:\n    - pipe.config\n`);
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(3000);
    expect(r.text).toMatch(/kernelfile\.yaml:8:\d+.*pipe\.config is a FIFO \(named pipe\)/);
  }, 10_000);

  it('/dev/zero as a fragment: refused at once, without reading it', async () => {
    const r = await validateCli(`${HEAD}config:\n  fragments:\n    - /dev/zero\n`);
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(3000);
    expect(r.grewMiB).toBeLessThan(200);
    expect(r.text).toMatch(
      /kernelfile\.yaml:8:\d+.*\/dev\/zero is a character device; kernelfile reads only regular files/,
    );
  }, 10_000);

  it('a 4 GiB file as a fragment: read up to the limit only', async () => {
    const r = await validateCli(`${HEAD}config:\n  fragments:\n    - ${join(dir, 'sparse.config')}\n`);
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(5000);
    expect(r.grewMiB).toBeLessThan(200);
    expect(r.text).toMatch(/kernelfile\.yaml:8:\d+.*sparse\.config is larger than 8 MiB/);
  }, 15_000);

  it('a symbolic link to a key outside the project: said so, and not one line of the key is printed', async () => {
    const r = await validateCli(`${HEAD}config:\n  fragments:\n    - innocent.config\n`);
    expect(r.code).not.toBe(0);
    expect(r.text).toMatch(/innocent\.config does not look like a Kconfig fragment: it holds a private key/);
    expect(r.text).toMatch(/innocent\.config is a symbolic link to .*id_ed25519, outside the project/);
    for (const l of keyLines) expect(r.text).not.toContain(l.slice(0, 16));
  });

  it("a FIFO as a module's dkms.conf: refused, fast", async () => {
    const r = await validateCli(
      `${HEAD}modules:\n  - name: hello\n    version: "1.0"\n    path: mod/hello\n`,
    );
    expect(r.code).not.toBe(0);
    expect(r.ms).toBeLessThan(3000);
    expect(r.text).toMatch(/kernelfile\.yaml:9:\d+.*dkms\.conf of mod\/hello: .*dkms\.conf is a FIFO/);
  }, 10_000);
});

describe('controller-side reads outside validation', () => {
  it('readRegular*: FIFO, device, directory refused at once; a huge file read to the limit + 1', async () => {
    const t0 = Date.now();
    expect(readRegularSync(join(project, 'pipe.config'), 1024)).toMatchObject({
      ok: false,
      reason: 'not-regular',
    });
    expect(await readRegular('/dev/zero', 1024)).toMatchObject({ ok: false, reason: 'not-regular' });
    expect(readRegularSync(project, 1024)).toMatchObject({ ok: false, reason: 'not-regular' });
    expect(await readRegular(join(dir, 'sparse.config'), 1024 * 1024)).toMatchObject({
      ok: false,
      reason: 'too-large',
    });
    expect(readRegularSync(join(project, 'linux-6.1.192.tar.xz'), 10)).toMatchObject({ ok: true });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(() => readRegularTextSync('/dev/zero', 1024, 'config fragment /dev/zero')).toThrow(
      /^config fragment \/dev\/zero: \/dev\/zero is a character device/,
    );
  }, 10_000);

  it('readModuleConf: a module whose dkms.conf is a FIFO fails fast, naming it', async () => {
    const t0 = Date.now();
    await expect(readModuleConf(join(project, 'mod/hello'))).rejects.toThrow(/dkms\.conf is a FIFO/);
    expect(Date.now() - t0).toBeLessThan(2000);
  }, 10_000);

  it('fetchFile: a patch, signature or source that is a FIFO or a device is refused before hashing', async () => {
    const dirs = cacheDirs(join(dir, 'cache-fetch'));
    await expect(
      fetchFile({ path: join(project, 'pipe.config') }, 'patch pipe.config', dirs),
    ).rejects.toThrow(/^patch pipe\.config: .*pipe\.config is a FIFO/);
    await expect(fetchFile({ path: '/dev/zero' }, 'patch /dev/zero', dirs)).rejects.toThrow(
      /character device/,
    );
  }, 10_000);

  it('cache directories are created 0700', () => {
    const root = join(dir, 'fresh-cache', 'kernelfile');
    const d = cacheDirs(root);
    for (const p of [root, d.sources, d.trees, d.configs, d.kconfig, d.objects, d.artifacts, d.locks])
      expect((statSync(p).mode & 0o777).toString(8)).toBe('700');
  });
});
