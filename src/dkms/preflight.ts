/**
 * The DKMS preflight of a plan: each declared module's dkms.conf evaluated against the new kernel
 * (release, arch, effective config), as dkms would. A repository module's conf is read from the
 * kernelfile's repository; an `installed: true` module's conf comes from the host's facts. Results
 * are remembered per (build, conf) for the life of a planning session (a fleet evaluates each
 * module once per build) and in the build cache across runs. A conf that excludes the new kernel
 * by version is evaluated again per CONFIG_ symbol it reads, to name the option that lifts it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Prepared } from '../compile/build.js';
import type { HostFacts } from '../facts/types.js';
import type { Transport } from '../host/transport.js';
import type { Spec } from '../spec/schema.js';
import {
  type DkmsConfInput,
  type DkmsConfResult,
  evaluateDkmsConf,
  evaluateDkmsConfOnHost,
  readModuleConf,
} from './conf.js';
import {
  configSymbols,
  isVersionRequirement,
  type KernelExclusion,
  looksLikeVersionPattern,
  type OptionValue,
  otherWay,
  withOption,
} from './lift.js';
import type { ModuleCheck } from './module-check.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The evaluation, kept in the cache: it depends only on the conf's text, release, arch and config. */
async function cachedEvaluation(
  file: string,
  input: DkmsConfInput,
  evaluate: (input: DkmsConfInput) => Promise<DkmsConfResult>,
) {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DkmsConfResult;
  } catch {
    const r = await evaluate(input);
    if (r.vars) {
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(r));
        renameSync(`${file}.${process.pid}.tmp`, file);
      } catch {
        // not cached: evaluated again next time
      }
    }
    return r;
  }
}

export class DkmsPreflight {
  /** Evaluations under way or done, by (build, conf path, conf digest): shared by a fleet's hosts. */
  private readonly evaluations = new Map<string, Promise<DkmsConfResult>>();
  /** The dkms.conf of each `path:` module, read once for a fleet's hosts. */
  private readonly confs = new Map<string, Promise<{ conf: string; file: string }>>();

  private moduleConf(path: string): Promise<{ conf: string; file: string }> {
    let p = this.confs.get(path);
    if (!p) {
      p = readModuleConf(path);
      this.confs.set(path, p);
    }
    return p;
  }

  async check(
    spec: Spec,
    resolve: (written: string) => string,
    facts: HostFacts,
    p: Pick<Prepared, 'buildId' | 'release' | 'arch' | 'config'> & { dirs: { root: string } },
    /** The host's transport: a host's dkms.conf is evaluated there, never on the controller. */
    host: Pick<Transport, 'run' | 'name'> | null,
  ): Promise<ModuleCheck[]> {
    const checks: ModuleCheck[] = [];
    for (const m of spec.modules ?? []) {
      let conf: { conf: string; file: string; host: boolean } | null = null;
      if ('path' in m) {
        conf = { ...(await this.moduleConf(resolve(m.path))), host: false };
      } else {
        const src = facts.dkms.sources.find((s) => s.name === m.name && s.version === m.version);
        if (src?.conf) conf = { conf: src.conf, file: `${facts.host}:${src.dir}/dkms.conf`, host: true };
      }
      if (conf?.host && host === null) {
        // A host's file is data: without the host to run it on, it is not evaluated at all.
        checks.push({
          name: m.name,
          version: m.version,
          confFile: conf.file,
          unmet: [],
          error: `${conf.file} was not evaluated: a host's dkms.conf is evaluated only on the host, and this plan has no connection to it`,
          builtModules: [],
        });
        continue;
      }
      if (!conf) {
        checks.push({
          name: m.name,
          version: m.version,
          confFile: null,
          unmet: [],
          error: null,
          builtModules: [],
        });
        continue;
      }
      const key = `${p.buildId}\0${conf.host ? 'host' : 'repo'}\0${conf.file.replace(/^[^:]*:/, '')}\0${sha256(conf.conf)}`;
      const evaluate =
        conf.host && host ? (i: DkmsConfInput) => evaluateDkmsConfOnHost(host, i) : evaluateDkmsConf;
      const input: DkmsConfInput = {
        conf: conf.conf,
        confFile: conf.file,
        kernelver: p.release,
        arch: p.arch,
        configText: p.config.text,
      };
      const r = await this.evaluation(p.dirs.root, key, input, evaluate);
      const kernelExclusion = await this.kernelExclusion(p.dirs.root, key, input, r, evaluate);
      checks.push({
        name: m.name,
        version: m.version,
        confFile: conf.file,
        unmet: r.unmet,
        error: r.error,
        builtModules: r.vars?.builtModules ?? [],
        ...(kernelExclusion ? { kernelExclusion } : {}),
      });
    }
    return checks;
  }

  /** One evaluation, once per session (shared by a fleet's hosts) and cached across runs. */
  private evaluation(
    root: string,
    key: string,
    input: DkmsConfInput,
    evaluate: (input: DkmsConfInput) => Promise<DkmsConfResult>,
  ): Promise<DkmsConfResult> {
    let pending = this.evaluations.get(key);
    if (!pending) {
      pending = cachedEvaluation(join(root, 'dkms-conf', `${sha256(key)}.json`), input, evaluate);
      this.evaluations.set(key, pending);
    }
    return pending;
  }

  /**
   * When the conf excludes the new kernel by version (BUILD_EXCLUSIVE_KERNEL, _MIN, _MAX,
   * OBSOLETE_BY), the Kconfig options that would lift it: the conf evaluated again with each
   * CONFIG_ symbol it mentions set the other way, one at a time (lift.ts). An option lifts it when
   * the conf then has no version requirement left and no requirement the first evaluation did not
   * have. Undefined when there is no such exclusion.
   */
  private async kernelExclusion(
    root: string,
    key: string,
    input: DkmsConfInput,
    r: DkmsConfResult,
    evaluate: (input: DkmsConfInput) => Promise<DkmsConfResult>,
  ): Promise<KernelExclusion | undefined> {
    if (!r.vars || r.error !== null || !r.unmet.some(isVersionRequirement)) return undefined;
    const pattern = r.vars.buildExclusive.kernel;
    const tried = configSymbols(input.conf);
    const liftedBy: OptionValue[] = [];
    for (const symbol of tried) {
      const o = otherWay(input.configText, symbol);
      const c = await this.evaluation(
        root,
        `${key}\0${o.symbol}=${o.value}`,
        { ...input, configText: withOption(input.configText, o) },
        evaluate,
      );
      if (c.vars && c.error === null && c.unmet.every((u) => !isVersionRequirement(u) && r.unmet.includes(u)))
        liftedBy.push(o);
    }
    return { pattern, versionPattern: pattern === null || looksLikeVersionPattern(pattern), tried, liftedBy };
  }
}
