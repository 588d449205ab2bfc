/**
 * What the kernelfile wants on a host, normalised: the spec with its defaults applied, plus what
 * only the controller knows (the build id and release from the Kconfig resolution, the effective
 * config, whether the artifacts are already built, the DKMS preflight). Built by the CLI; the
 * planner turns (Desired, HostFacts) into a plan without any I/O.
 */

import type { HeadersNeed } from '../compile/elf-needs.js';
import type { ModuleCheck } from '../dkms/module-check.js';
import type { Spec } from '../spec/schema.js';
import type { SigningFacts } from '../spec/signing.js';
import type { StoreFetch } from './change.js';

export type Generator = 'auto' | 'dracut' | 'initramfs-tools' | 'mkinitcpio' | 'none';
export type LoaderChoice = 'auto' | 'grub' | 'systemd-boot' | 'grubby' | 'none';

export interface DesiredEntry {
  /** As written: placeholders ({name}, {release}, {version}, {distro}) not yet filled in. */
  title: string;
  cmdline: string | null;
  root: string | null;
  default: boolean;
}

/** What the controller's cache says of the build (nothing yet when it is not built). */
export interface Artifacts {
  cached: boolean;
  bootBytes: number | null;
  /**
   * What the headers' host tools need to run (from the manifest); absent when the build is not
   * cached yet (apply checks it after the build, before it touches the host).
   */
  headersNeed?: HeadersNeed | null;
  /** Not cached here, and the store (`cache.store`) was asked: whether it has the build. */
  store?: { url: string; has: boolean };
}

export interface DesiredModule {
  name: string;
  version: string;
  /** `path`: the source on the controller (absolute), shipped to /usr/src/NAME-VERSION. */
  path: string | null;
  installed: boolean;
}

/** What the plan needs to know about a build's signing: defined with the `signing:` section. */
export type { SigningFacts };

export interface Desired {
  name: string;
  /** The kernelfile as the user named it, and the sha256 of its bytes. */
  kernelfile: { path: string; sha256: string };
  version: string;
  release: string;
  buildId: string;
  arch: string;
  /** `build.on`: where the kernel (and, without a compiler on the host, DKMS modules) is built. */
  buildOn: 'controller' | 'host';
  /** The build is in the controller's cache; its /boot files' total size when it is. */
  artifacts: Artifacts;
  /**
   * The artifact store (cache.store) for this host: it fetches the build's files from there
   * (`fetch`), or is shipped to from the controller (`shipped`: why). Absent without a store, or
   * before the host was probed (the plan only probes hosts that need the kernel).
   */
  hostStore?: { fetch: StoreFetch } | { url: string; shipped: string };
  config: {
    effective: Record<string, string>;
    /** Symbols the kernelfile asks for (fragments and `set`). */
    requested: string[];
  };
  modules: DesiredModule[];
  moduleChecks: ModuleCheck[];
  initramfs: { generator: Generator; modules: string[] };
  boot: {
    loader: LoaderChoice;
    entries: DesiredEntry[];
    trial: boolean;
    keep: number;
    /** Run on the host after a trial boot came up; failing it fails the trial. */
    healthCheck: { command: string; timeoutSeconds: number } | null;
    /** Arm a trial boot again although the last trial of this release and entry failed (`--retry-trial`). */
    retryTrial: boolean;
  };
  /** The build signs with a key on the controller (absent: no `signing:` section). */
  signing?: SigningFacts;
}

/** What the controller worked out for the kernelfile: the Kconfig resolution and the build cache. */
export interface BuildFacts {
  release: string;
  buildId: string;
  arch: string;
  effective: Record<string, string>;
  requested: string[];
  artifacts: Artifacts;
}

/** A validated spec plus the controller's results → Desired (defaults applied). */
export function desiredFrom(
  spec: Spec,
  kernelfile: { path: string; sha256: string },
  resolve: (written: string) => string,
  build: BuildFacts,
  moduleChecks: ModuleCheck[],
): Desired {
  return {
    name: spec.name,
    kernelfile,
    version: spec.kernel.version,
    release: build.release,
    buildId: build.buildId,
    arch: build.arch,
    buildOn: spec.build?.on ?? 'controller',
    artifacts: build.artifacts,
    config: { effective: build.effective, requested: build.requested },
    modules: (spec.modules ?? []).map((m) => ({
      name: m.name,
      version: m.version,
      path: 'path' in m ? resolve(m.path) : null,
      installed: 'installed' in m,
    })),
    moduleChecks,
    initramfs: { generator: spec.initramfs?.generator ?? 'auto', modules: spec.initramfs?.modules ?? [] },
    boot: {
      loader: spec.boot?.loader ?? 'auto',
      entries: (spec.boot?.entries ?? [{ default: true }]).map((e) => ({
        title: e.title ?? '{distro}, with Linux {release}',
        cmdline: e.cmdline ?? null,
        root: e.root ?? null,
        default: e.default ?? false,
      })),
      trial: spec.boot?.trial ?? false,
      keep: spec.boot?.keep ?? 2,
      healthCheck: spec.boot?.healthCheck
        ? { command: spec.boot.healthCheck.command, timeoutSeconds: spec.boot.healthCheck.timeout ?? 300 }
        : null,
      retryTrial: false,
    },
  };
}
