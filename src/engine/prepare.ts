/**
 * From a validated kernelfile to what the build pipeline takes (`prepare` input): the cache, the
 * target architecture, `base: running` from the target host's facts, paths relative to the
 * kernelfile, and where each `config.set` option is written (for dropped-value diagnostics).
 */

import { createHash } from 'node:crypto';
import { machine } from 'node:os';
import type { BuildOrigin, Prepared, PrepareInput, StoreSettings } from '../compile/build.js';
import { cacheDirs, cacheRoot } from '../compile/cache.js';
import { imageSigningProblem } from '../compile/signing.js';
import { gather } from '../facts/gather.js';
import type { HostFacts } from '../facts/types.js';
import type { HostAddress } from '../host/address.js';
import { type HostOptions, openHost } from '../host/open.js';
import { serialiseConfig } from '../kconfig/config.js';
import type { Dropped } from '../kconfig/dropped.js';
import type { Diagnostic } from '../spec/diagnostic.js';
import type { SigningFacts } from '../spec/signing.js';
import { locate } from '../spec/source.js';
import type { Env } from './env.js';
import { UserError } from './errors.js';
import { type Loaded, resolverOf, validSpec } from './kernelfile.js';
import { storeSettings } from './store.js';
import { KERNELFILE_VERSION } from './version.js';

/** The `uname -m` name of this machine. */
export function localArch(): string {
  return machine();
}

export function runningConfigText(facts: HostFacts | undefined, display: string): string | undefined {
  if (!facts) return undefined;
  if (!facts.config.source)
    throw new UserError(
      `${display}: base: running, but ${facts.host} has no readable running config (no /proc/config.gz, no /boot/config-${facts.system.running})`,
      'enable CONFIG_IKCONFIG_PROC on that host, or use base: {file: …} with its config',
    );
  return serialiseConfig(Object.entries(facts.config.options).map(([symbol, value]) => ({ symbol, value })));
}

const DROP_HINTS: Partial<Record<Dropped['kind'], string>> = {
  undefined: 'check the name: symbols are renamed and removed between kernel versions',
  depends: 'also request what it depends on (or drop the request)',
  modules: 'set CONFIG_MODULES=y, or ask for y instead of m',
  'no-prompt': 'request one of the options that select it instead',
  'invalid-value': "use a value of the symbol's type",
  range: 'use a value inside the allowed range',
  choice: 'a choice takes one member: unset the other one',
};

/** A requested Kconfig value that did not survive, at the line that asked for it. */
export function dropDiagnostic(d: Dropped, severity: 'error' | 'warning'): Diagnostic {
  return {
    severity,
    code: 'config-dropped',
    message: `${d.symbol}=${d.requested.replace(/^"|"$/g, '')} dropped (got ${d.got}): ${d.reason}`,
    file: d.origin.file,
    line: d.origin.line,
    column: d.origin.column ?? 1,
    hint:
      severity === 'error'
        ? `${DROP_HINTS[d.kind] ?? 'fix the cause above, or drop the request'}; \`onDropped: warn\` (on the option, or config.onDropped) makes this a warning`
        : undefined,
  };
}

export interface BuildTarget {
  /** The host the kernel is for (its facts matter for `base: running` and the default arch). */
  host?: string | HostAddress;
  hostOptions?: HostOptions;
  /** Target architecture, `uname -m` style (default: kernel.arch, else the host's, else this machine's). */
  arch?: string;
}

/** The target host's facts, gathered only when the build depends on them. */
async function targetFacts(target: BuildTarget, needed: boolean): Promise<HostFacts | undefined> {
  const host = target.host ?? 'local';
  if (host === 'local' && !needed) return undefined;
  const t = await openHost(host, target.hostOptions);
  try {
    return await gather(t);
  } finally {
    await t.close();
  }
}

/** Everything `prepare` needs, for `build` and `verify` alike. */
export async function prepareInput(
  loaded: Loaded,
  target: BuildTarget,
  env: Env,
): Promise<Omit<PrepareInput, 'progress'>> {
  const { spec } = validSpec(loaded);
  const facts = await targetFacts(target, spec.config?.base === 'running');
  return {
    spec,
    arch: target.arch ?? spec.kernel.arch ?? facts?.system.arch ?? localArch(),
    dirs: cacheDirs(cacheRoot(spec.build?.cacheDir, env.env)),
    resolvePath: resolverOf(loaded),
    runningConfig: spec.config?.base === 'running' ? runningConfigText(facts, loaded.kf.display) : undefined,
    setOrigin: setOriginOf(loaded),
    vars: env.env,
    signingOrigin: signingOriginOf(loaded),
    origin: originOf(loaded),
    ...withStore(storeSettings(spec, resolverOf(loaded), env.env)),
  };
}

const withStore = (store: StoreSettings | undefined) => (store ? { store } : {});

/** The kernelfile a build was asked for, and kernelfile's version: for the build's provenance. */
export function originOf(loaded: Loaded): BuildOrigin {
  return {
    kernelfile: {
      path: loaded.kf.display,
      sha256: createHash('sha256').update(loaded.kf.bytes).digest('hex'),
    },
    builder: KERNELFILE_VERSION,
  };
}

/** Where `signing.FIELD` is written (else `signing` itself). */
export function signingOriginOf(loaded: Loaded) {
  const { source } = validSpec(loaded);
  return (field: string) => {
    const path = source.doc.hasIn(['signing', field]) ? ['signing', field] : ['signing'];
    const at = locate(source, path, { key: true });
    return { file: loaded.kf.display, line: at.line, column: at.column };
  };
}

/**
 * What the planner needs of a build's signing (the certificate's DER, fingerprint, subject, what is
 * signed, signing.enroll): for the desired state of every host of this build; undefined without signing.
 */
export function signingFactsOf(p: Pick<Prepared, 'signing'>): SigningFacts | undefined {
  return p.signing?.facts;
}

/** Problems of a prepared build's signing that stop it before compiling (signing.image without an EFI stub). */
export function signingDiagnostics(p: Prepared): Diagnostic[] {
  const image = imageSigningProblem(p.signing, p.config.effective);
  if (!image) return [];
  const o = p.signing?.imageOrigin;
  return [
    {
      severity: 'error',
      code: 'signing-image-no-efi-stub',
      message: image.message,
      hint: image.hint,
      ...(o ? { file: o.file, line: o.line, column: o.column ?? 1 } : {}),
    },
  ];
}

/** Where `config.set.SYMBOL` is written in the kernelfile. */
export function setOriginOf(loaded: Loaded) {
  const { source, spec } = validSpec(loaded);
  return (symbol: string) => {
    // What `signing:` asks for (not written in config.set) is explained at signing.modules (or signing).
    const fromSigning = spec.signing && !(symbol in (spec.config?.set ?? {})) && SIGNING_SYMBOL.test(symbol);
    const path = fromSigning
      ? source.doc.hasIn(['signing', 'modules'])
        ? ['signing', 'modules']
        : ['signing']
      : ['config', 'set', symbol];
    const at = locate(source, path, { key: true });
    return { file: loaded.kf.display, line: at.line, column: at.column };
  };
}

const SIGNING_SYMBOL = /^CONFIG_MODULE_SIG(_ALL|_KEY|_SHA\d+)?$/;
