/** The OCI manifest of a build: written deterministically, read back with every field checked. */
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT_TYPE,
  buildManifest,
  checkBuildManifest,
  LAYERS,
  type Layer,
  MAX_MANIFEST_BYTES,
  OCI_MANIFEST,
  readStoreManifest,
} from '../../../src/store/manifest.js';

const ID = 'a'.repeat(64);
interface M {
  schemaVersion: number;
  mediaType: string;
  artifactType: string;
  annotations: Record<string, string>;
  layers: L[];
}
interface L {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}
const at = (m: M, i: number) => m.layers[i] as L;
const layers: Layer[] = LAYERS.map((k, i) => ({
  title: k.title,
  mediaType: k.mediaType,
  digest: `sha256:${String(i).repeat(64)}`,
  size: 100 + i,
}));

describe('buildManifest', () => {
  it('an OCI 1.1 artifact: the empty config, one titled layer per file in a fixed order', () => {
    const bytes = buildManifest(ID, '6.1.0-kfaaaa', [...layers].reverse());
    const m = JSON.parse(bytes.toString());
    expect(m).toMatchObject({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: ARTIFACT_TYPE });
    expect(m.config).toEqual({
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
      size: 2,
    });
    expect(
      m.layers.map(
        (l: { annotations: Record<string, string> }) => l.annotations['org.opencontainers.image.title'],
      ),
    ).toEqual([
      'manifest.json',
      'vmlinuz',
      'System.map',
      'config',
      'modules.tar',
      'headers.tar',
      'provenance.json',
    ]);
    expect(m.annotations).toEqual({
      'org.kernelfile.build-id': ID,
      'org.kernelfile.release': '6.1.0-kfaaaa',
    });
    expect(buildManifest(ID, '6.1.0-kfaaaa', layers).equals(bytes)).toBe(true);
  });
});

describe('readStoreManifest', () => {
  const good = (): M => JSON.parse(buildManifest(ID, 'r', layers).toString());
  const read = (v: unknown) => readStoreManifest(Buffer.from(JSON.stringify(v)), ID);

  it('reads back what was written; provenance.json may be absent', () => {
    const r = read(good());
    expect('layers' in r && [...r.layers.keys()]).toHaveLength(7);
    const m = good();
    m.layers.pop();
    expect('layers' in read(m)).toBe(true);
  });

  it.each([
    [
      'another build',
      (m: M) => (m.annotations['org.kernelfile.build-id'] = 'b'.repeat(64)),
      /for another build/,
    ],
    [
      'not an artifact of ours',
      (m: M) => (m.artifactType = 'application/vnd.docker.container.image.v1+json'),
      /not a kernelfile build/,
    ],
    ['schema 1', (m: M) => (m.schemaVersion = 1), /schemaVersion 2/],
    [
      'an index',
      (m: M) => (m.mediaType = 'application/vnd.oci.image.index.v1+json'),
      /not an OCI image manifest/,
    ],
    ['a bad digest', (m: M) => (at(m, 1).digest = 'sha512:00'), /vmlinuz layer has no sha256 digest/],
    ['a huge size', (m: M) => (at(m, 3).size = 9e15), /config layer's size/],
    ['a negative size', (m: M) => (at(m, 1).size = -1), /vmlinuz layer's size/],
    [
      'an unknown layer',
      (m: M) => (at(m, 0).annotations['org.opencontainers.image.title'] = '../x'),
      /does not know/,
    ],
    ['a layer twice', (m: M) => (m.layers[1] = at(m, 2)), /System.map twice/],
    ['a missing layer', (m: M) => m.layers.splice(4, 1), /no modules.tar/],
    ['a wrong media type', (m: M) => (at(m, 2).mediaType = 'text/plain'), /media type text\/plain/],
  ])('%s is refused', (_, change, message) => {
    const m = good();
    change(m);
    const r = read(m);
    expect('problem' in r && r.problem).toMatch(message);
  });

  it('not JSON, or too large', () => {
    expect(readStoreManifest(Buffer.from('{'), ID)).toEqual({ problem: 'its manifest is not JSON' });
    expect(readStoreManifest(Buffer.alloc(MAX_MANIFEST_BYTES + 1, 32), ID)).toHaveProperty('problem');
  });
});

describe('checkBuildManifest', () => {
  const want = { buildId: ID, release: '6.1.0-kfaaaa' };
  const base = {
    formatVersion: 1,
    buildId: ID,
    release: '6.1.0-kfaaaa',
    image: 'vmlinuz',
    modules: true,
    files: [{ path: 'headers/Makefile', sha256: 'c'.repeat(64), size: 3 }],
  };
  const check = (v: object) => checkBuildManifest(JSON.stringify({ ...base, ...v }), want);

  it('the build and release asked for', () => {
    expect(check({})).toEqual({
      manifest: { buildId: ID, release: '6.1.0-kfaaaa', modules: true, files: base.files },
    });
    expect(check({ buildId: 'b'.repeat(64) })).toEqual({
      problem: `its manifest.json is for build ${'b'.repeat(64)}, not ${ID}`,
    });
    expect(check({ release: '6.1.0-other' })).toHaveProperty('problem');
    expect(check({ release: '../../etc' })).toHaveProperty('problem');
  });

  it.each(['/etc/passwd', '../x', 'a/../../x', 'a/./b', ''])('a listed path %j is refused', (path) => {
    expect(check({ files: [{ path, sha256: 'c'.repeat(64), size: 1 }] })).toHaveProperty('problem');
  });
});
