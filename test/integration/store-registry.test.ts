/**
 * The store's OCI client and the build push/pull against a real registry (Debian's docker-registry
 * 2.8): a build pushed and pulled back byte for byte into another cache, blobs already there not
 * sent again, a blob whose bytes are not its digest refused, a manifest.json for another build
 * refused, hostile tarballs refused before anything is unpacked, Basic auth from docker's
 * config.json, the Bearer token flow, and TLS refused until the CA is named.
 */
import { createHash } from 'node:crypto';
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
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullBuild, pushBuild } from '../../src/store/artifact.js';
import { StoreError } from '../../src/store/client.js';
import { openStore } from '../../src/store/open.js';
import { runOk } from '../helpers/proc.js';
import { type Registry, startRegistry } from '../helpers/registry.js';
import { buildFiles, FAKE_RELEASE, makeBuildDir, treeDigests } from '../helpers/store-builds.js';

const id = (n: string) => createHash('sha256').update(n).digest('hex');
const work = mkdtempSync(join(tmpdir(), 'kf-store-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const noVars = { HOME: join(work, 'nohome') };

describe('plain HTTP registry: push, pull, refusals', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg?.stop());

  it('a build pushed is pulled into another cache byte for byte; a second push sends no blob', async () => {
    const buildId = id('roundtrip');
    const src = await makeBuildDir(join(work, 'a/artifacts'), buildId);
    const client = openStore({ url: reg.url(), vars: noVars });
    const pushed = await pushBuild(client, src.manifest, await buildFiles(src.dir, src.manifest.release));
    expect(pushed).toMatchObject({ uploaded: 7, skipped: 0 });
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const again = await pushBuild(client, src.manifest, await buildFiles(src.dir, src.manifest.release));
    expect(again).toMatchObject({ uploaded: 0, skipped: 7, bytes: 0, digest: pushed.digest });

    mkdirSync(join(work, 'b/artifacts'), { recursive: true });
    const final = join(work, 'b/artifacts', buildId);
    const pulled = await pullBuild(
      openStore({ url: reg.url(), vars: noVars }),
      { buildId, release: src.manifest.release },
      final,
    );
    expect(pulled?.dir).toBe(final);
    expect(pulled?.manifest.buildId).toBe(buildId);
    const a = treeDigests(src.dir);
    const b = treeDigests(final);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    expect(b).toEqual(a);
    // the in-tree link is a link again
    expect(readFileSync(join(final, 'headers/scripts/dtc/include-prefixes/dt-bindings/gpio.h'), 'utf8')).toBe(
      '#define GPIO 1\n',
    );
    expect(readdirSync(join(work, 'b/artifacts'))).toEqual([buildId]);
  });

  it('a build the store does not have: undefined, nothing left behind', async () => {
    mkdirSync(join(work, 'c/artifacts'), { recursive: true });
    const buildId = id('absent');
    const r = await pullBuild(
      openStore({ url: reg.url(), vars: noVars }),
      { buildId, release: FAKE_RELEASE(buildId) },
      join(work, 'c/artifacts', buildId),
    );
    expect(r).toBeUndefined();
    expect(readdirSync(join(work, 'c/artifacts'))).toEqual([]);
    expect(await openStore({ url: reg.url(), vars: noVars }).manifestDigest(buildId)).toBeUndefined();
  });

  it('a blob whose bytes are not its digest is refused and nothing is kept', async () => {
    const buildId = id('tampered');
    // A vmlinuz of its own: the blob changed below is no other build's.
    const src = await makeBuildDir(join(work, 'd/artifacts'), buildId, 't');
    const client = openStore({ url: reg.url(), vars: noVars });
    await pushBuild(client, src.manifest, await buildFiles(src.dir, src.manifest.release));
    // Change the stored vmlinuz blob's bytes (same size) behind the registry's back.
    const digest = createHash('sha256')
      .update(readFileSync(join(src.dir, 'vmlinuz')))
      .digest('hex');
    const data = join(reg.storage, 'docker/registry/v2/blobs/sha256', digest.slice(0, 2), digest, 'data');
    const bytes = readFileSync(data);
    bytes[100] = (bytes[100] as number) ^ 1;
    writeFileSync(data, bytes);
    mkdirSync(join(work, 'e/artifacts'), { recursive: true });
    const final = join(work, 'e/artifacts', buildId);
    const err = await pullBuild(client, { buildId, release: src.manifest.release }, final).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toMatch(new RegExp(`sent a blob whose sha256 is not sha256:${digest}.*refused`));
    expect(existsSync(final)).toBe(false);
    expect(readdirSync(join(work, 'e/artifacts'))).toEqual([]);
  });

  it('a manifest.json for another build is refused before the other blobs are fetched', async () => {
    const other = id('other');
    const src = await makeBuildDir(join(work, 'f/artifacts'), other);
    const wanted = id('wanted');
    const client = openStore({ url: reg.url(), vars: noVars });
    // Published under the wanted build id's tag, but its manifest.json says it is `other`.
    await pushBuild(
      client,
      { buildId: wanted, release: src.manifest.release },
      await buildFiles(src.dir, src.manifest.release),
    );
    mkdirSync(join(work, 'g/artifacts'), { recursive: true });
    const before = reg.requests().length;
    const err = await pullBuild(
      client,
      { buildId: wanted, release: FAKE_RELEASE(wanted) },
      join(work, 'g/artifacts', wanted),
    ).catch((e) => e);
    expect(err.message).toMatch(`its manifest.json is for build ${other}, not ${wanted}: refused`);
    const blobGets = reg
      .requests()
      .slice(before)
      .filter((r) => r.method === 'GET' && r.uri.includes('/blobs/'));
    expect(blobGets).toHaveLength(1); // manifest.json only
    expect(readdirSync(join(work, 'g/artifacts'))).toEqual([]);
  });

  describe('hostile tarballs: refused before anything is unpacked', () => {
    const cases: [string, string, RegExp][] = [
      ['dotdot', "t.addfile(tarfile.TarInfo('./../escaped'))", /a name outside the tree/],
      ['absolute', "t.addfile(tarfile.TarInfo('/tmp/kf-abs-escaped'))", /a name outside the tree/],
      [
        'symlink-out',
        "i = tarfile.TarInfo('./evil'); i.type = tarfile.SYMTYPE; i.linkname = '../../../../etc'; t.addfile(i)",
        /symbolic link "evil" to "\.\.\/\.\.\/\.\.\/\.\.\/etc", which leads outside/,
      ],
      [
        'through-link',
        "i = tarfile.TarInfo('./l'); i.type = tarfile.SYMTYPE; i.linkname = '.'; t.addfile(i); t.addfile(tarfile.TarInfo('./l/x'))",
        /writes "l\/x" through "l"/,
      ],
      [
        'device',
        "i = tarfile.TarInfo('./null'); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)",
        /character device/,
      ],
    ];
    for (const [name, add, message] of cases)
      it(name, async () => {
        const buildId = id(`hostile-${name}`);
        const src = await makeBuildDir(join(work, `h-${name}/artifacts`), buildId);
        const evil = join(work, `h-${name}/headers.tar`);
        await runOk([
          'python3',
          '-c',
          `import tarfile, sys\nt = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT)\nr = tarfile.TarInfo('./')\nr.type = tarfile.DIRTYPE\nt.addfile(r)\n${add}\nt.close()`,
          evil,
        ]);
        const files = { ...(await buildFiles(src.dir, src.manifest.release)), 'headers.tar': evil };
        const client = openStore({ url: reg.url(), vars: noVars });
        await pushBuild(client, src.manifest, files);
        const into = join(work, `h-${name}/pulled`);
        mkdirSync(into, { recursive: true });
        const err = await pullBuild(
          client,
          { buildId, release: src.manifest.release },
          join(into, buildId),
        ).catch((e) => e);
        expect(err).toBeInstanceOf(StoreError);
        expect(err.message).toMatch(
          /its headers\.tar is unsafe to unpack: it holds|its headers\.tar is unsafe to unpack: it writes/,
        );
        expect(err.message).toMatch(message);
        expect(readdirSync(into)).toEqual([]);
        expect(existsSync(join(work, `h-${name}`, 'escaped'))).toBe(false);
        expect(existsSync('/tmp/kf-abs-escaped')).toBe(false);
      });
  });
});

describe('Basic auth (htpasswd) with credentials from docker config.json', () => {
  let reg: Registry;
  const password = 'store-secret-4711';
  beforeAll(async () => {
    reg = await startRegistry({ basic: { user: 'kf', password } });
  });
  afterAll(() => reg?.stop());

  it('without credentials: a clear refusal naming the registry and how to log in', async () => {
    const err = await openStore({ url: reg.url(), vars: noVars })
      .ping()
      .catch((e) => e);
    expect(err.message).toBe(
      `the store ${reg.url()} asks for credentials and kernelfile has none for ${reg.authority}`,
    );
    expect(err.hint).toMatch(/docker login/);
  });

  it('with docker config.json: push and pull; a wrong password is refused without being shown', async () => {
    const cfg = join(work, 'docker-basic');
    mkdirSync(cfg, { recursive: true });
    const auth = (p: string) => Buffer.from(`kf:${p}`).toString('base64');
    writeFileSync(
      join(cfg, 'config.json'),
      JSON.stringify({ auths: { [`http://${reg.authority}`]: { auth: auth(password) } } }),
    );
    const vars = { HOME: join(work, 'nohome'), DOCKER_CONFIG: cfg };
    const buildId = id('basic');
    const src = await makeBuildDir(join(work, 'basic/artifacts'), buildId);
    await pushBuild(
      openStore({ url: reg.url(), vars }),
      src.manifest,
      await buildFiles(src.dir, src.manifest.release),
    );
    mkdirSync(join(work, 'basic/pulled'), { recursive: true });
    const pulled = await pullBuild(
      openStore({ url: reg.url(), vars }),
      { buildId, release: src.manifest.release },
      join(work, 'basic/pulled', buildId),
    );
    expect(pulled?.manifest.buildId).toBe(buildId);
    expect(await openStore({ url: reg.url(), vars }).hostAuth()).toEqual({ kind: 'basic' });

    writeFileSync(
      join(cfg, 'config.json'),
      JSON.stringify({ auths: { [reg.authority]: { auth: auth('wrong-pass-0815') } } }),
    );
    const err = await openStore({ url: reg.url(), vars })
      .ping()
      .catch((e) => e);
    expect(err.message).toMatch(
      /refused GET \/v2\/ \(401, with the credentials from \$DOCKER_CONFIG\/config\.json\)/,
    );
    expect(`${err.message} ${err.hint}`).not.toContain('wrong-pass-0815');
    // The environment's credentials win over the file.
    const env = { ...vars, KERNELFILE_STORE_USERNAME: 'kf', KERNELFILE_STORE_PASSWORD: password };
    await openStore({ url: reg.url(), vars: env }).ping();
  });
});

describe('Bearer token flow', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry({ token: { user: 'kf', password: 'tok-pass-1' } });
  });
  afterAll(() => reg?.stop());

  it('tokens per scope from the realm; hosts may be given the pull token', async () => {
    const vars = { ...noVars, KERNELFILE_STORE_USERNAME: 'kf', KERNELFILE_STORE_PASSWORD: 'tok-pass-1' };
    const buildId = id('bearer');
    const src = await makeBuildDir(join(work, 'bearer/artifacts'), buildId);
    await pushBuild(
      openStore({ url: reg.url(), vars }),
      src.manifest,
      await buildFiles(src.dir, src.manifest.release),
    );
    expect(reg.tokenRequests).toContainEqual({ scope: 'repository:kernels:pull,push', user: 'kf' });
    mkdirSync(join(work, 'bearer/pulled'), { recursive: true });
    const client = openStore({ url: reg.url(), vars });
    const pulled = await pullBuild(
      client,
      { buildId, release: src.manifest.release },
      join(work, 'bearer/pulled', buildId),
    );
    expect(pulled?.manifest.buildId).toBe(buildId);
    expect(reg.tokenRequests).toContainEqual({ scope: 'repository:kernels:pull', user: 'kf' });
    const auth = await client.hostAuth();
    expect(auth.kind).toBe('bearer');
    // The token alone fetches a blob (what a host does with curl).
    const l = JSON.parse(readFileSync(join(src.dir, 'manifest.json'), 'utf8'));
    expect(l.buildId).toBe(buildId);
    const res = await fetch(`http://${reg.authority}/v2/kernels/manifests/${buildId}`, {
      headers: {
        authorization: `Bearer ${(auth as { token: string }).token}`,
        accept: 'application/vnd.oci.image.manifest.v1+json',
      },
    });
    expect(res.status).toBe(200);
  });

  it('wrong credentials: refused by the token service, the password not shown', async () => {
    const vars = { ...noVars, KERNELFILE_STORE_USERNAME: 'kf', KERNELFILE_STORE_PASSWORD: 'nope-nope-9' };
    const err = await openStore({ url: reg.url(), vars })
      .ping()
      .catch((e) => e);
    expect(err.message).toBe(
      `the store ${reg.url()} refused the credentials from KERNELFILE_STORE_USERNAME (401 from its token service)`,
    );
    expect(JSON.stringify(err)).not.toContain('nope-nope-9');
  });
});

describe('TLS', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry({ tls: true });
  });
  afterAll(() => reg?.stop());

  it('a self-signed certificate is refused until cache.storeCa names it', async () => {
    const err = await openStore({ url: reg.url(), vars: noVars })
      .ping()
      .catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err.message).toMatch(
      new RegExp(`^cannot reach the store ${reg.url()} \\(${reg.authority}\\): .*certificate`),
    );
    expect(err.hint).toMatch(/cache\.storeCa/);
    await openStore({ url: reg.url(), caFile: reg.caFile, vars: noVars }).ping();
    const buildId = id('tls');
    const src = await makeBuildDir(join(work, 'tls/artifacts'), buildId);
    const client = openStore({ url: reg.url(), caFile: reg.caFile, vars: noVars });
    await pushBuild(client, src.manifest, await buildFiles(src.dir, src.manifest.release));
    expect(await client.manifestDigest(buildId)).toMatch(/^sha256:/);
  });

  it('plain HTTP to a TLS registry fails clearly', async () => {
    const err = await openStore({ url: reg.url().replace('oci://', 'oci+http://'), vars: noVars })
      .ping()
      .catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
  });
});
