/**
 * The shared artifact store (`cache.store`, src/store/) around a build: before compiling, a build
 * id missing from the local cache is pulled from the store when it is there; after a compile, the
 * build is pushed once. The store is a cache: one that cannot be reached, refuses, or holds
 * something that does not check out costs a compile (a warning naming the store), never the build;
 * a push that fails is a warning too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { shipFiles } from '../apply/ship.js';
import {
  type BuildOptions,
  build,
  type Manifest,
  type Prepared,
  type StoreSettings,
} from '../compile/build.js';
import { PROVENANCE_FILE } from '../compile/provenance.js';
import type { Spec } from '../spec/schema.js';
// The store's client and its transfers are loaded when a kernelfile names a store (they load
// node:http and node:https, which a plan without one never needs).
import type { OciClient } from '../store/client.js';

/** What the store did for a build. */
export interface StoreReport {
  /** The store as kernelfile shows it (oci://…). */
  url: string;
  /** The build came from the store (not compiled here). */
  pulled: boolean;
  /** Pushed after this compile (or because the store did not have it): blobs sent and their bytes. */
  pushed?: { uploaded: number; bytes: number; skipped: number; digest: string };
  /** The store had the build already (nothing pushed). */
  present?: boolean;
  /** What went wrong with the store (the build went on without it). */
  warnings: string[];
}

export interface StoreBuilt {
  dir: string;
  manifest: Manifest;
  cached: boolean;
  store?: StoreReport;
}

/** cache.store and cache.storeCa of a kernelfile, resolved; undefined without a store. */
export function storeSettings(
  spec: Spec,
  resolve: (written: string) => string,
  vars: Record<string, string | undefined>,
): StoreSettings | undefined {
  const url = spec.cache?.store;
  if (!url) return undefined;
  return { url, ...(spec.cache?.storeCa ? { caFile: resolve(spec.cache.storeCa) } : {}), vars };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Why hosts are shipped to by a store that wants Basic credentials. */
export const BASIC_STAYS = 'the store takes Basic credentials, which never leave the controller';

/**
 * The stores of one session (a plan, a rollout): one client per store, its auth challenge and
 * tokens shared, and one HEAD per build and store.
 */
export class StoreSession {
  private readonly clients = new Map<string, OciClient>();
  private readonly builds = new Map<string, Promise<boolean>>();

  constructor(private readonly o: { timeoutMs?: number } = {}) {}

  /** The store's client (opening one reads its CA file, and can fail: nothing is kept then). */
  async client(s: StoreSettings): Promise<OciClient> {
    let c = this.clients.get(s.url);
    if (!c) {
      const { openStore } = await import('../store/open.js');
      c = this.clients.get(s.url) ?? openStore(s, this.o);
      this.clients.set(s.url, c);
    }
    return c;
  }

  /** Does the store have the build (its manifest, by the build id's tag): asked once. */
  has(s: StoreSettings, buildId: string): Promise<boolean> {
    const key = `${s.url}\0${buildId}`;
    let has = this.builds.get(key);
    if (!has) {
      has = this.client(s)
        .then((c) => c.manifestDigest(buildId))
        .then((d) => d !== undefined);
      this.builds.set(key, has);
    }
    return has;
  }
}

/** The files pushed for a build, by layer title. */
export async function storeFiles(dir: string, release: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {
    ...(await shipFiles(dir, release)),
    'manifest.json': join(dir, 'manifest.json'),
  };
  if (existsSync(join(dir, PROVENANCE_FILE))) files['provenance.json'] = join(dir, PROVENANCE_FILE);
  return files;
}

export interface StoreBuildOptions extends BuildOptions {
  /**
   * Push a build found in the local cache when the store does not have it (`kernelfile build`);
   * otherwise only a build compiled now is pushed.
   */
  pushCached?: boolean;
}

/**
 * Build `p` as compile/build.ts does, through the store when the kernelfile names one. Progress
 * stages name the store: "pulled from store oci://…", "pushing … to oci://…".
 */
export async function buildWithStore(
  p: Prepared,
  onEvent: (e: { stage: string; compiled: number }) => void = () => {},
  o: StoreBuildOptions = {},
): Promise<StoreBuilt> {
  if (!p.store) return build(p, onEvent, o);
  let client: OciClient | undefined;
  const report: StoreReport = { url: p.store.url, pulled: false, warnings: [] };
  const { pullBuild, pushBuild } = await import('../store/artifact.js');
  try {
    const { openStore } = await import('../store/open.js');
    client = openStore(p.store);
    report.url = client.display;
  } catch (e) {
    report.warnings.push(`the store ${p.store.url} cannot be used: ${message(e)}`);
  }
  const stage = (s: string) => onEvent({ stage: s, compiled: 0 });
  const pull = client
    ? async (final: string): Promise<Manifest | undefined> => {
        try {
          stage(`looking for build ${p.buildId.slice(0, 12)} in the store ${report.url}`);
          const got = await pullBuild(
            client as OciClient,
            { buildId: p.buildId, release: p.release },
            final,
            stage,
          );
          if (got) {
            report.pulled = true;
            report.present = true;
            stage(
              `pulled from store ${report.url}: ${(got.bytes / 1048576).toFixed(1)} MiB, every file checked`,
            );
          }
          return got?.manifest;
        } catch (e) {
          report.warnings.push(
            `could not pull build ${p.buildId.slice(0, 12)} from the store ${report.url}: ${message(e)}; compiling it here`,
          );
          stage(report.warnings.at(-1) as string);
          return undefined;
        }
      }
    : undefined;
  const built = await build(p, onEvent, { ...o, ...(pull ? { pull } : {}) });
  if (client && !report.pulled && (!built.cached || o.pushCached)) {
    try {
      if (built.cached && (await client.manifestDigest(p.buildId))) report.present = true;
      else {
        stage(`pushing build ${p.buildId.slice(0, 12)} to the store ${report.url}`);
        report.pushed = await pushBuild(
          client,
          built.manifest,
          await storeFiles(built.dir, built.manifest.release),
          stage,
        );
      }
    } catch (e) {
      report.warnings.push(
        `could not push build ${p.buildId.slice(0, 12)} to the store ${report.url}: ${message(e)}`,
      );
    }
  }
  return { ...built, store: report };
}

/** One line of what the store did for a build (apply's progress), or undefined without a store. */
export function storeSummary(buildId: string, r: StoreReport | undefined): string | undefined {
  if (!r) return undefined;
  const id = buildId.slice(0, 12);
  const did = r.pulled
    ? `build ${id} pulled from store ${r.url}`
    : r.pushed
      ? `build ${id} pushed to store ${r.url} (${r.pushed.uploaded} blobs, ${(r.pushed.bytes / 1048576).toFixed(1)} MiB)`
      : undefined;
  return [did, ...r.warnings.map((w) => `warning: ${w}`)].filter(Boolean).join('\n') || undefined;
}
