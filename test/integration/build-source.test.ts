/**
 * Getting sources, against real peers on this machine: an HTTP server on 127.0.0.1 (retries,
 * checksums), gpg-signed tarballs checked with gpgv, and a git repository fetched by commit id.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packSource } from '../../src/apply/pack-source.js';
import { cacheDirs } from '../../src/compile/cache.js';
import { sha256Text } from '../../src/compile/hash.js';
import {
  checkSignature,
  download,
  fetchFile,
  fetchSource,
  GIT_CONFIG,
  GIT_ENV,
  unpack,
} from '../../src/compile/source.js';
import { UNPACK_MODULE } from '../../src/resources/scripts.js';
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
    // `make kernelversion` runs once per tree of the cache: its answer is kept beside the tree.
    expect(JSON.parse(readFileSync(`${tree.dir}.kernelversion`, 'utf8'))).toEqual({
      tree: tree.dir,
      version: '6.1.0',
    });
    writeFileSync(join(tree.dir, 'Makefile'), 'kernelversion:\n\t@exit 1\n');
    await expect(unpack(src, '6.1.0', dirs)).resolves.toEqual(tree);
  });

  it('a local repository written relative to the kernelfile is fetched from there, not from the working directory', async () => {
    const dirs = cacheDirs(join(dir, 'git-cache-relative'));
    const first = execFileSync('git', ['-C', join(dir, 'linux.git'), 'rev-list', '--max-parents=0', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const spec = {
      kernel: { version: '6.1.0', source: { git: 'linux.git', ref: first } },
    } as unknown as Spec;
    const src = await fetchSource(spec, dirs, (p) => join(dir, p));
    expect(src).toMatchObject({ kind: 'git', commit: first });
    expect(readFileSync(join((await unpack(src, '6.1.0', dirs)).dir, 'Kconfig'), 'utf8')).toBe(
      'mainmenu "test"\n',
    );
  });
});

describe('hostile git sources never run anything (issue 12, defect 2)', () => {
  const corpus = JSON.parse(
    readFileSync(new URL('../fixtures/hostile/source/git-urls.json', import.meta.url), 'utf8'),
  ) as { refused: { git: string }[] };
  const COMMIT = 'c'.repeat(40);

  // The corpus writes its markers under /tmp/; here they go to this run's directory instead.
  it.each(corpus.refused.map((c) => c.git))('refuses %j before git runs', async (written) => {
    const markers = join(dir, 'markers');
    rmSync(markers, { recursive: true, force: true });
    mkdirSync(markers);
    const git = written.replaceAll('/tmp/', `${markers}/`);
    const dirs = cacheDirs(join(dir, 'hostile-git-cache'));
    const spec = { kernel: { version: '6.1.0', source: { git, ref: COMMIT } } } as unknown as Spec;
    await expect(fetchSource(spec, dirs, (p) => join(dir, p))).rejects.toThrow(
      /kernel\.source\.git [\s\S]* is refused/,
    );
    expect(readdirSync(markers)).toEqual([]);
  });

  it('refuses a ref that is not a commit id before git runs', async () => {
    const dirs = cacheDirs(join(dir, 'hostile-git-cache'));
    const spec = {
      kernel: {
        version: '6.1.0',
        source: { git: 'https://example.invalid/linux.git', ref: '--upload-pack=x' },
      },
    } as unknown as Spec;
    await expect(fetchSource(spec, dirs, (p) => p)).rejects.toThrow(
      /kernel\.source\.ref .* is not a full commit id/,
    );
  });

  it('git itself refuses ext:: even where the value came from elsewhere (protocol.allow)', () => {
    const marker = join(dir, 'ext-marker');
    const bare = join(dir, 'ext-probe.git');
    execFileSync('git', ['init', '-q', '--bare', bare]);
    const r = spawnSync(
      'git',
      [...GIT_CONFIG, '-C', bare, 'fetch', '-q', '--', `ext::sh -c touch% ${marker}`, COMMIT],
      { env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/transport 'ext' not allowed/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('unpacking as root keeps no device nodes, setuid bits, owners or loose modes (issue 12, defect 10)', () => {
  /** A tree holding what a hostile archive would carry; `special` adds a device node and a FIFO. */
  function hostileTree(name: string, special: boolean): string {
    const top = join(dir, name, 'linux-6.1.0');
    mkdirSync(join(top, 'open'), { recursive: true });
    writeFileSync(
      join(top, 'Makefile'),
      'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 0\nkernelversion:\n\t@echo $(VERSION).$(PATCHLEVEL).$(SUBLEVEL)\n',
    );
    writeFileSync(join(top, 'Kconfig'), 'mainmenu "test"\n');
    writeFileSync(join(top, 'suid'), '#!/bin/sh\n');
    chmodSync(join(top, 'suid'), 0o4755);
    writeFileSync(join(top, 'foreign'), 'x\n');
    chownSync(join(top, 'foreign'), 4321, 4321);
    chmodSync(join(top, 'open'), 0o777);
    if (special) {
      execFileSync('mknod', [join(top, 'open', 'sda'), 'b', '8', '0']);
      execFileSync('mkfifo', [join(top, 'fifo')]);
    }
    return join(dir, name);
  }
  const tarOf = (from: string, out: string, member = '.') => {
    execFileSync('tar', ['-cf', out, '-C', from, member]);
    return out;
  };

  it('a kernel source tarball: owned by root, no setuid, no 0777 directory', async () => {
    const file = tarOf(hostileTree('plain-src', false), join(dir, 'plain-src.tar'), 'linux-6.1.0');
    const dirs = cacheDirs(join(dir, 'unpack-cache'));
    const tree = await unpack({ kind: 'tarball', file, sha256: sha256Text(file) }, '6.1.0', dirs);
    const st = (p: string) => statSync(join(tree.dir, p));
    expect(st('foreign').uid).toBe(0);
    expect(st('suid').mode & 0o7777).toBe(0o755);
    expect(st('open').mode & 0o7777).toBe(0o755);
    expect(st('.').mode & 0o7777).toBe(0o755);
  });

  it('a kernel source tarball with a device node and a FIFO is refused, naming the archive and member', async () => {
    const file = tarOf(hostileTree('dev-src', true), join(dir, 'dev-src.tar'), 'linux-6.1.0');
    const dirs = cacheDirs(join(dir, 'unpack-cache'));
    await expect(
      unpack({ kind: 'tarball', file, sha256: sha256Text(`${file}-dev`) }, '6.1.0', dirs),
    ).rejects.toThrow(
      new RegExp(
        `the kernel source ${file} holds a (block device node, "open/sda"|FIFO, "fifo"): kernelfile does not unpack device nodes`,
      ),
    );
    // Nothing kept: neither the tree nor its staging directory.
    expect(readdirSync(dirs.trees).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect(execFileSync('find', [dirs.trees, '-type', 'b'], { encoding: 'utf8' })).toBe('');
  });

  it('a kernel tree given by path is copied the same way', async () => {
    const from = join(hostileTree('dev-tree', true), 'linux-6.1.0');
    const dirs = cacheDirs(join(dir, 'unpack-cache'));
    await expect(unpack({ kind: 'tree', dir: from, key: 'hostile-tree' }, '6.1.0', dirs)).rejects.toThrow(
      /the kernel tree .*dev-tree\/linux-6\.1\.0 holds a (block device node|FIFO)/,
    );
    const ok = join(hostileTree('plain-tree', false), 'linux-6.1.0');
    const tree = await unpack({ kind: 'tree', dir: ok, key: 'plain-tree' }, '6.1.0', dirs);
    expect(statSync(join(tree.dir, 'foreign')).uid).toBe(0);
    expect(statSync(join(tree.dir, 'suid')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(tree.dir, 'open')).mode & 0o7777).toBe(0o755);
  });

  it('a module source tarball packed for a host is refused with a device node, cleaned otherwise', async () => {
    const scratch = mkdtempSync(join(dir, 'scratch-'));
    const dev = hostileTree('dev-module', true);
    writeFileSync(join(dev, 'linux-6.1.0', 'dkms.conf'), 'PACKAGE_NAME=x\nPACKAGE_VERSION=1\n');
    const devTar = tarOf(dev, join(dir, 'dev-module.tar'));
    await expect(packSource(devTar, scratch)).rejects.toThrow(
      new RegExp(`the module source ${devTar} holds a (block device node|FIFO)`),
    );
    await expect(packSource(join(dev, 'linux-6.1.0'), scratch)).rejects.toThrow(
      /holds a (block device node|FIFO)/,
    );
    const plain = hostileTree('plain-module', false);
    writeFileSync(join(plain, 'linux-6.1.0', 'dkms.conf'), 'PACKAGE_NAME=x\nPACKAGE_VERSION=1\n');
    const packed = await packSource(tarOf(plain, join(dir, 'plain-module.tar')), scratch);
    const listing = execFileSync('tar', ['-tvf', packed], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rwxr-xr-x 0\/0 .* \.\/suid$/m);
    expect(listing).toMatch(/^drwxr-xr-x 0\/0 .* \.\/open\/$/m);
  });

  it('UNPACK_MODULE on a host: a device node is refused, modes and owners are cleaned', () => {
    const dev = tarOf(join(hostileTree('dev-host', true), 'linux-6.1.0'), join(dir, 'dev-host.tar'));
    const target = join(dir, 'usr-src', 'x-1');
    mkdirSync(dirname(target), { recursive: true });
    const bad = spawnSync('sh', ['-c', UNPACK_MODULE, 'kernelfile', dev, target], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      new RegExp(`the module source ${dev} holds a device node, FIFO or socket, (open/sda|fifo): refused`),
    );
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.kf-new`)).toBe(false);
    const plain = tarOf(join(hostileTree('plain-host', false), 'linux-6.1.0'), join(dir, 'plain-host.tar'));
    const good = spawnSync('sh', ['-c', UNPACK_MODULE, 'kernelfile', plain, target], { encoding: 'utf8' });
    expect(good.stderr).toBe('');
    expect(statSync(join(target, 'foreign')).uid).toBe(0);
    expect(statSync(join(target, 'suid')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(target, 'open')).mode & 0o7777).toBe(0o755);
    expect(statSync(target).mode & 0o7777).toBe(0o755);
  });
});
