/**
 * Getting sources, against real peers on this machine: an HTTP server on 127.0.0.1 (retries,
 * checksums), gpg-signed tarballs checked with gpgv, and a git repository fetched by commit id.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDirs } from '../../src/compile/cache.js';
import { sha256Text } from '../../src/compile/hash.js';
import { checkSignature, download, fetchFile, fetchSource, unpack } from '../../src/compile/source.js';
import type { Spec } from '../../src/spec/schema.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-source-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('download', () => {
  let server: Server;
  let port: number;
  const body = Buffer.alloc(200_000, 0x6b);
  let hits: Record<string, number> = {};
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? '';
      hits[url] = (hits[url] ?? 0) + 1;
      if (url === '/flaky' && (hits[url] ?? 0) < 2) {
        res.writeHead(503).end();
        return;
      }
      if (url === '/missing') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('hashes what it downloads', async () => {
    hits = {};
    expect(await download(`http://127.0.0.1:${port}/ok`, join(dir, 'ok.bin'))).toBe(sha256Text(body));
    expect(readFileSync(join(dir, 'ok.bin')).equals(body)).toBe(true);
  });

  it('retries a server error, and says so', async () => {
    hits = {};
    const said: string[] = [];
    expect(await download(`http://127.0.0.1:${port}/flaky`, join(dir, 'f.bin'), (m) => said.push(m))).toBe(
      sha256Text(body),
    );
    expect(hits['/flaky']).toBe(2);
    expect(said.join('\n')).toMatch(/HTTP 503.*retrying \(1\/2\)/);
  });

  it('does not retry a 404, and names the URL', async () => {
    hits = {};
    await expect(download(`http://127.0.0.1:${port}/missing`, join(dir, 'm.bin'))).rejects.toThrow(
      `download of http://127.0.0.1:${port}/missing failed: HTTP 404`,
    );
    expect(hits['/missing']).toBe(1);
    expect(existsSync(join(dir, 'm.bin'))).toBe(false);
  });

  it('a checksum mismatch keeps nothing in the cache', async () => {
    const dirs = cacheDirs(join(dir, 'cache'));
    // fetchFile downloads only https URLs from kernelfiles; the mechanism under it is the same for http.
    await expect(
      fetchFile({ url: `http://127.0.0.1:${port}/ok.patch`, sha256: 'f'.repeat(64) }, 'patch', dirs),
    ).rejects.toThrow(/sha256 mismatch: the kernelfile says f{64}, the file has [0-9a-f]{64}/);
    expect(existsSync(join(dirs.sources, `${'f'.repeat(64)}.patch`))).toBe(false);
  });
});

describe('signatures (gpgv over the uncompressed tar)', () => {
  let tarball: string;
  let signature: string;
  let keyring: string;
  beforeAll(() => {
    const gnupg = join(dir, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: gnupg };
    execFileSync(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        'kernelfile test <test@kernelfile.invalid>',
        'ed25519',
        'sign',
        '1d',
      ],
      { env, stdio: 'ignore' },
    );
    mkdirSync(join(dir, 'linux-9.9'));
    writeFileSync(join(dir, 'linux-9.9/Makefile'), 'VERSION = 9\n');
    execFileSync('tar', ['-cf', join(dir, 'linux-9.9.tar'), '-C', dir, 'linux-9.9']);
    signature = join(dir, 'linux-9.9.tar.sign');
    execFileSync('gpg', ['--batch', '--detach-sign', '-o', signature, join(dir, 'linux-9.9.tar')], {
      env,
      stdio: 'ignore',
    });
    execFileSync('xz', ['-k', join(dir, 'linux-9.9.tar')]);
    tarball = join(dir, 'linux-9.9.tar.xz');
    keyring = join(dir, 'keyring.gpg');
    writeFileSync(keyring, execFileSync('gpg', ['--export'], { env }));
  });

  it('accepts a tarball signed by a key in the keyring', async () => {
    await expect(checkSignature(tarball, signature, keyring)).resolves.toBeUndefined();
  });

  it('refuses a tarball that is not what was signed, before unpacking', async () => {
    const other = join(dir, 'other.tar.xz');
    execFileSync('sh', ['-c', `tar -cf - -C "${dir}" gnupg 2>/dev/null | xz > "${other}"`]);
    await expect(checkSignature(other, signature, keyring)).rejects.toThrow(
      /signature check of .*other\.tar\.xz failed: .*BAD signature/,
    );
  });
});

describe('a git commit as the source', () => {
  it('fetches exactly that commit and unpacks it', async () => {
    const repo = join(dir, 'linux.git');
    mkdirSync(repo);
    const git = (...a: string[]) =>
      execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], {
        encoding: 'utf8',
      }).trim();
    git('init', '-q');
    writeFileSync(
      join(repo, 'Makefile'),
      'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nkernelversion:\n\t@echo $(VERSION).$(PATCHLEVEL).$(SUBLEVEL)\n',
    );
    writeFileSync(join(repo, 'Kconfig'), 'mainmenu "test"\n');
    git('add', '.');
    git('commit', '-qm', 'first');
    const first = git('rev-parse', 'HEAD');
    writeFileSync(
      join(repo, 'Makefile'),
      readFileSync(join(repo, 'Makefile'), 'utf8')
        .replace('SUBLEVEL = 0', 'SUBLEVEL = 1')
        .replace('SUBLEVEL)\n', 'SUBLEVEL)\n'),
    );
    git('commit', '-qam', 'second');
    const dirs = cacheDirs(join(dir, 'git-cache'));
    const spec = {
      kernel: { version: '6.1.0', source: { git: `file://${repo}`, ref: first } },
    } as unknown as Spec;
    const src = await fetchSource(spec, dirs, (p) => p);
    expect(src).toMatchObject({ kind: 'git', commit: first });
    const tree = await unpack(src, '6.1.0', dirs);
    expect(readFileSync(join(tree.dir, 'Makefile'), 'utf8')).toMatch(/SUBLEVEL = 0/);
    await expect(unpack(src, '6.1.1', dirs)).rejects.toThrow(
      'the source is Linux 6.1.0, but kernel.version says 6.1.1',
    );
  });
});
