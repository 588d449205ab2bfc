/**
 * Build provenance: an in-toto Statement (v1) whose predicate is SLSA Provenance v1, written beside
 * each build's artifacts (`provenance.json`). It says what was built (the subjects: the image,
 * System.map, config, every module and manifest.json, which lists every file with its sha256), from
 * what (the source, signature, patches and config files with their digests), how (kernelfile's
 * recipe, the toolchain, make variables, the architecture) and when. It is not signed: sign it with
 * the tool your supply chain uses (cosign attest, in-toto) if you publish it.
 */
import { join } from 'node:path';
import type { Manifest, Prepared } from './build.js';
import { sha256File } from './hash.js';
import { sourceKey } from './source.js';

export const PROVENANCE_FILE = 'provenance.json';
export const BUILD_TYPE = 'urn:kernelfile:build-type:kernel:1';

interface Descriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The kernelfile and the build's inputs, as the lock names them (paths as written). */
export function materialsOf(p: Prepared): Descriptor[] {
  const src = p.spec.kernel.source;
  const s = p.source;
  const out: Descriptor[] = [
    {
      name: 'kernel source',
      uri: 'url' in src ? src.url : 'git' in src ? src.git : src.path,
      digest:
        s.kind === 'tarball'
          ? { sha256: s.sha256 }
          : s.kind === 'git'
            ? { gitCommit: s.commit }
            : { 'kernelfile-tree': s.key },
    },
  ];
  const sig = p.spec.kernel.signature;
  if (sig && p.signatureSha256)
    out.push({
      name: 'source signature',
      uri: 'url' in sig ? sig.url : sig.path,
      digest: { sha256: p.signatureSha256 },
    });
  for (const x of p.patches) out.push({ name: 'patch', uri: x.name, digest: { sha256: x.sha256 } });
  if (p.configFiles.base)
    out.push({
      name: 'config base',
      uri: p.configFiles.base.path,
      digest: { sha256: p.configFiles.base.sha256 },
    });
  for (const f of p.configFiles.fragments)
    out.push({ name: 'config fragment', uri: f.path, digest: { sha256: f.sha256 } });
  out.push({ name: 'toolchain', annotations: { identity: p.toolchain } });
  return out;
}

const SUBJECT = /^(vmlinuz|System\.map|config|modules\/.*\.ko(\.[a-z]+)?)$/;

export interface ProvenanceInput {
  prepared: Prepared;
  manifest: Manifest;
  /** Where the artifacts are (manifest.json is read there for its digest). */
  dir: string;
  startedOn: Date;
  finishedOn: Date;
  /** kernelfile's version, for the builder. */
  builderVersion: string;
  /** kernelfile's build recipe (BUILD_RECIPE) and the effective config's digest. */
  recipe: number;
  configSha256: string;
}

/** The in-toto statement for a build just made. */
export async function provenanceStatement(i: ProvenanceInput): Promise<object> {
  const { prepared: p, manifest: m } = i;
  const subject = m.files
    .filter((f) => SUBJECT.test(f.path))
    .map((f) => ({ name: f.path, digest: { sha256: f.sha256 } }));
  subject.push({ name: 'manifest.json', digest: { sha256: await sha256File(join(i.dir, 'manifest.json')) } });
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject,
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          ...(p.origin ? { kernelfile: p.origin.kernelfile } : {}),
          name: p.spec.name,
          version: p.spec.kernel.version,
          arch: p.arch,
        },
        internalParameters: {
          recipe: i.recipe,
          source: sourceKey(p.source),
          makeVars: p.spec.build?.makeVars ?? {},
          toolchain: p.toolchain,
          configSha256: i.configSha256,
          ...(p.signing ? { signingCertificateSha256: p.signing.certificateSha256 } : {}),
        },
        resolvedDependencies: materialsOf(p),
      },
      runDetails: {
        builder: {
          id: `pkg:npm/kernelfile@${i.builderVersion}`,
          version: { kernelfile: i.builderVersion },
        },
        metadata: {
          invocationId: p.buildId,
          startedOn: i.startedOn.toISOString(),
          finishedOn: i.finishedOn.toISOString(),
        },
      },
    },
  };
}
