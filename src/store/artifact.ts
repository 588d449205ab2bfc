/**
 * A build's artifacts directory to and from the store.
 *
 * Push: the files hosts receive (vmlinuz, System.map, config and the deterministic modules.tar and
 * headers.tar), manifest.json and provenance.json, each a blob by its sha256 (blobs the registry
 * has are not sent again), then the manifest tagged with the build id.
 *
 * Pull: into a staging directory that becomes artifacts/<buildId>/ only once everything holds:
 * the manifest checked (bounded, a kernelfile build, this build id), manifest.json first (the
 * build id and release asked for, a file list of relative paths), every blob's size and sha256
 * checked while it streams, each tarball's member list checked before it is unpacked (tar.ts) and
 * unpacked without owners, setuid bits or device nodes (compile/extract.ts), and at last every
 * file of the unpacked tree compared with manifest.json's list: the same paths, sizes and sha256,
 * nothing more. The result is what a local build leaves (the tarballs kept in ship/ as shipping
 * packs them), so shipping, verify and receipts work unchanged.
 */
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hashTree, type Manifest } from '../compile/build.js';
import { commit, staging } from '../compile/cache.js';
import { extractTar } from '../compile/extract.js';
import { sha256File } from '../compile/hash.js';
import { type OciClient, StoreError } from './client.js';
import {
  buildManifest,
  checkBuildManifest,
  EMPTY_CONFIG,
  LAYERS,
  type Layer,
  readStoreManifest,
} from './manifest.js';
import { TarFormatError, TarReader, tarProblem } from './tar.js';

export interface PushResult {
  /** The manifest's digest. */
  digest: string;
  /** Blobs sent, and their bytes; the others were in the store already. */
  uploaded: number;
  bytes: number;
  skipped: number;
}

/**
 * Push a build: `files` are its blobs by title (manifest.json, vmlinuz, System.map, config,
 * modules.tar, headers.tar, provenance.json when there is one).
 */
export async function pushBuild(
  client: OciClient,
  m: Pick<Manifest, 'buildId' | 'release'>,
  files: Record<string, string>,
  progress?: (message: string) => void,
): Promise<PushResult> {
  const layers: (Layer & { path: string })[] = [];
  for (const k of LAYERS) {
    const path = files[k.title];
    if (!path) {
      if (k.required) throw new StoreError(`the build ${m.buildId} has no ${k.title} to push`);
      continue;
    }
    layers.push({
      title: k.title,
      mediaType: k.mediaType,
      path,
      size: statSync(path).size,
      digest: `sha256:${await sha256File(path)}`,
    });
  }
  const result: PushResult = { digest: '', uploaded: 0, bytes: 0, skipped: 0 };
  if (!(await client.hasBlob(EMPTY_CONFIG.digest, 'pull,push')))
    await client.pushBlob(EMPTY_CONFIG.digest, EMPTY_CONFIG.size, Buffer.from('{}'));
  for (const l of layers) {
    if (await client.hasBlob(l.digest, 'pull,push')) {
      result.skipped++;
      continue;
    }
    progress?.(`pushing ${l.title} (${l.size} bytes) to ${client.display}`);
    await client.pushBlob(l.digest, l.size, l.path);
    result.uploaded++;
    result.bytes += l.size;
  }
  result.digest = await client.putManifest(m.buildId, buildManifest(m.buildId, m.release, layers));
  return result;
}

/** Feed a tarball through the member check; the reason it must not be unpacked, or undefined. */
export async function tarballProblem(path: string): Promise<string | undefined> {
  const r = new TarReader();
  try {
    for await (const chunk of createReadStream(path)) r.push(chunk as Buffer);
    return tarProblem(r.end());
  } catch (e) {
    if (e instanceof TarFormatError) return e.message;
    throw e;
  }
}

/** Where each pulled file goes in the artifacts directory. */
const PLACE: Record<string, string> = {
  'manifest.json': 'manifest.json',
  vmlinuz: 'vmlinuz',
  'System.map': 'System.map',
  config: 'config',
  'modules.tar': 'ship/modules.tar',
  'headers.tar': 'ship/headers.tar',
  'provenance.json': 'provenance.json',
};

export interface Pulled {
  dir: string;
  manifest: Manifest;
  bytes: number;
}

/**
 * Pull build `want.buildId` into `final` (artifacts/<buildId>), or undefined when the store does
 * not have it. Throws StoreError when the store holds something that does not check out.
 */
export async function pullBuild(
  client: OciClient,
  want: { buildId: string; release: string },
  final: string,
  progress?: (message: string) => void,
): Promise<Pulled | undefined> {
  const got = await client.getManifest(want.buildId);
  if (!got) return undefined;
  const refuse = (why: string): never => {
    throw new StoreError(
      `the store ${client.display} holds build ${want.buildId}, but ${why}: refused`,
      'nothing of it was kept; kernelfile compiles the build itself. Whoever can push to the store can put anything there: check who did',
    );
  };
  const checked = readStoreManifest(got.bytes, want.buildId);
  if ('problem' in checked) return refuse(checked.problem);
  const tmp = staging(final);
  try {
    mkdirSync(join(tmp, 'ship'));
    let bytes = 0;
    const fetch = async (title: string) => {
      const l = checked.layers.get(title);
      if (!l) return false;
      progress?.(`pulling ${title} (${l.size} bytes) from ${client.display}`);
      await client.pullBlob(l.digest, l.size, join(tmp, PLACE[title] as string));
      bytes += l.size;
      return true;
    };
    await fetch('manifest.json');
    const text = readFileSync(join(tmp, 'manifest.json'), 'utf8');
    const bm = checkBuildManifest(text, want);
    if ('problem' in bm) return refuse(bm.problem);
    for (const title of ['vmlinuz', 'System.map', 'config', 'modules.tar', 'headers.tar']) await fetch(title);
    for (const [tar, into] of [
      ['modules.tar', bm.manifest.modules ? join('modules/lib/modules', bm.manifest.release) : 'ship/empty'],
      ['headers.tar', 'headers'],
    ] as const) {
      const file = join(tmp, PLACE[tar] as string);
      const problem = await tarballProblem(file);
      if (problem) return refuse(`its ${tar} is unsafe to unpack: ${problem}`);
      mkdirSync(join(tmp, into), { recursive: true });
      progress?.(`unpacking ${tar}`);
      await extractTar(file, join(tmp, into), { label: `${tar} from ${client.display}` });
    }
    const files = await hashTree(tmp, [
      'manifest.json',
      'provenance.json',
      'ship/modules.tar',
      'ship/headers.tar',
    ]);
    const expected = bm.manifest.files;
    const index = new Map(files.map((f) => [f.path, f]));
    for (const f of expected) {
      const have = index.get(f.path);
      if (!have) return refuse(`${f.path}, in its manifest.json, is not in what it holds`);
      if (have.sha256 !== f.sha256 || have.size !== f.size)
        return refuse(`${f.path} is not the file its manifest.json lists (sha256 or size differ)`);
      index.delete(f.path);
    }
    const extra = index.keys().next();
    if (!extra.done)
      return refuse(`it holds ${JSON.stringify(extra.value)}, which its manifest.json does not list`);
    await fetch('provenance.json');
    commit(tmp, final);
    const manifest = JSON.parse(text) as Manifest;
    return { dir: final, manifest, bytes };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}
