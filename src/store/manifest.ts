/**
 * One build in the store: an OCI image manifest (image-spec 1.1 artifact) tagged with the build id.
 *
 *   artifactType  application/vnd.kernelfile.build.v1
 *   config        the empty descriptor (`{}`)
 *   layers        one blob per file, named by its org.opencontainers.image.title annotation:
 *                 manifest.json, vmlinuz, System.map, config, modules.tar, headers.tar (the
 *                 deterministic tarballs hosts receive), provenance.json when the build has one
 *
 * Everything read back is remote data: the manifest's size is bounded, every field checked, each
 * layer's size bounded per kind, and kernelfile's own manifest.json must name the requested build
 * id and release before anything else is fetched. Pure.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const ARTIFACT_TYPE = 'application/vnd.kernelfile.build.v1';
export const TITLE = 'org.opencontainers.image.title';
export const EMPTY_CONFIG = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
} as const;
/** A manifest is small (seven descriptors); the distribution spec lets registries refuse > 4 MiB. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface LayerKind {
  title: string;
  mediaType: string;
  /** The largest blob accepted on a pull. */
  max: number;
  required: boolean;
}

/** The layers, in the order they are pushed and listed (manifest.json first: a pull reads it first). */
export const LAYERS: readonly LayerKind[] = [
  {
    title: 'manifest.json',
    mediaType: 'application/vnd.kernelfile.manifest.v1+json',
    max: 64 * MiB,
    required: true,
  },
  { title: 'vmlinuz', mediaType: 'application/vnd.kernelfile.image.v1', max: 512 * MiB, required: true },
  {
    title: 'System.map',
    mediaType: 'application/vnd.kernelfile.system-map.v1',
    max: 512 * MiB,
    required: true,
  },
  { title: 'config', mediaType: 'application/vnd.kernelfile.kconfig.v1', max: 8 * MiB, required: true },
  {
    title: 'modules.tar',
    mediaType: 'application/vnd.kernelfile.modules.v1.tar',
    max: 16 * GiB,
    required: true,
  },
  {
    title: 'headers.tar',
    mediaType: 'application/vnd.kernelfile.headers.v1.tar',
    max: 8 * GiB,
    required: true,
  },
  { title: 'provenance.json', mediaType: 'application/vnd.in-toto+json', max: 64 * MiB, required: false },
];

export interface Layer {
  title: string;
  mediaType: string;
  digest: string;
  size: number;
}

export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The manifest's bytes for a build: the same files give the same bytes (so the same digest). */
export function buildManifest(buildId: string, release: string, layers: Layer[]): Buffer {
  const byTitle = new Map(layers.map((l) => [l.title, l]));
  const ordered = LAYERS.flatMap((k) => {
    const l = byTitle.get(k.title);
    return l ? [l] : [];
  });
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: ARTIFACT_TYPE,
    config: EMPTY_CONFIG,
    layers: ordered.map((l) => ({
      mediaType: l.mediaType,
      digest: l.digest,
      size: l.size,
      annotations: { [TITLE]: l.title },
    })),
    annotations: { 'org.kernelfile.build-id': buildId, 'org.kernelfile.release': release },
  };
  return Buffer.from(JSON.stringify(manifest));
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;

/** The layers of a manifest read from the store for `buildId`, by title, or what is wrong with it. */
export function readStoreManifest(
  bytes: Buffer,
  buildId: string,
): { layers: Map<string, Layer> } | { problem: string } {
  if (bytes.length > MAX_MANIFEST_BYTES)
    return { problem: `its manifest is larger than ${MAX_MANIFEST_BYTES} bytes` };
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { problem: 'its manifest is not JSON' };
  }
  const m = obj(v);
  if (m?.schemaVersion !== 2) return { problem: 'its manifest is not an OCI manifest (schemaVersion 2)' };
  if (m.mediaType !== undefined && m.mediaType !== OCI_MANIFEST)
    return { problem: `its manifest is ${String(m.mediaType).slice(0, 100)}, not an OCI image manifest` };
  if (m.artifactType !== ARTIFACT_TYPE)
    return {
      problem: `it is not a kernelfile build (artifactType ${JSON.stringify(String(m.artifactType ?? 'none').slice(0, 100))})`,
    };
  const id = obj(m.annotations)?.['org.kernelfile.build-id'];
  if (id !== buildId) return { problem: `its manifest is for another build (${String(id).slice(0, 80)})` };
  if (!Array.isArray(m.layers) || m.layers.length > LAYERS.length)
    return { problem: 'its manifest has no valid layer list' };
  const layers = new Map<string, Layer>();
  for (const raw of m.layers) {
    const d = obj(raw);
    const title = obj(d?.annotations)?.[TITLE];
    const kind = LAYERS.find((k) => k.title === title);
    if (!d || !kind)
      return {
        problem: `its manifest has a layer kernelfile does not know (${JSON.stringify(String(title).slice(0, 80))})`,
      };
    if (layers.has(kind.title)) return { problem: `its manifest lists ${kind.title} twice` };
    if (d.mediaType !== kind.mediaType)
      return { problem: `its ${kind.title} layer has media type ${String(d.mediaType).slice(0, 100)}` };
    if (typeof d.digest !== 'string' || !DIGEST.test(d.digest))
      return { problem: `its ${kind.title} layer has no sha256 digest` };
    if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0 || d.size > kind.max)
      return { problem: `its ${kind.title} layer's size is not a number of bytes up to ${kind.max}` };
    layers.set(kind.title, { title: kind.title, mediaType: kind.mediaType, digest: d.digest, size: d.size });
  }
  const missing = LAYERS.find((k) => k.required && !layers.has(k.title));
  if (missing) return { problem: `its manifest has no ${missing.title}` };
  return { layers };
}

/** A release string is a path component on the controller and the hosts (modules/lib/modules/RELEASE). */
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,199}$/;
const FILE_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[^\0]{1,4096}$/;

export interface PulledBuildManifest {
  buildId: string;
  release: string;
  modules: boolean;
  files: { path: string; sha256: string; size: number }[];
}

/**
 * kernelfile's manifest.json of a pulled build, checked: the build id and release asked for, and a
 * file list (what the unpacked artifacts must hold, byte for byte) of relative paths.
 */
export function checkBuildManifest(
  text: string,
  want: { buildId: string; release: string },
): { manifest: PulledBuildManifest } | { problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { problem: 'its manifest.json is not JSON' };
  }
  const m = obj(v);
  if (m?.formatVersion !== 1)
    return { problem: 'its manifest.json is not a kernelfile build manifest (formatVersion 1)' };
  if (m.buildId !== want.buildId)
    return {
      problem: `its manifest.json is for build ${String(m.buildId).slice(0, 80)}, not ${want.buildId}`,
    };
  if (typeof m.release !== 'string' || !RELEASE.test(m.release) || m.release !== want.release)
    return {
      problem: `its manifest.json names release ${JSON.stringify(String(m.release).slice(0, 80))}, not ${want.release}`,
    };
  if (m.image !== 'vmlinuz' || typeof m.modules !== 'boolean')
    return { problem: 'its manifest.json does not describe the image and modules as kernelfile writes them' };
  if (!Array.isArray(m.files) || m.files.length > 1_000_000)
    return { problem: 'its manifest.json has no file list' };
  const files: PulledBuildManifest['files'] = [];
  for (const f of m.files) {
    const o = obj(f);
    if (
      !o ||
      typeof o.path !== 'string' ||
      !FILE_PATH.test(o.path) ||
      typeof o.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(o.sha256) ||
      typeof o.size !== 'number' ||
      !Number.isSafeInteger(o.size) ||
      o.size < 0
    )
      return {
        problem: `its manifest.json lists a file kernelfile does not accept (${JSON.stringify(String(o?.path).slice(0, 80))})`,
      };
    files.push({ path: o.path, sha256: o.sha256, size: o.size });
  }
  return { manifest: { buildId: want.buildId, release: m.release, modules: m.modules, files } };
}
