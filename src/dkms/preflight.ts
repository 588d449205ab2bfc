/**
 * The DKMS preflight of a plan: each declared module's dkms.conf evaluated against the new kernel
 * (release, arch, effective config), as dkms would. A repository module's conf is read from the
 * kernelfile's repository; an `installed: true` module's conf comes from the host's facts. Results
 * are remembered per (build, conf) for the life of a planning session (a fleet evaluates each
 * module once per build) and in the build cache across runs.
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
        conf = { ...(await readModuleConf(resolve(m.path))), host: false };
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
      let pending = this.evaluations.get(key);
      if (!pending) {
        pending = cachedEvaluation(
          join(p.dirs.root, 'dkms-conf', `${sha256(key)}.json`),
          {
            conf: conf.conf,
            confFile: conf.file,
            kernelver: p.release,
            arch: p.arch,
            configText: p.config.text,
          },
          evaluate,
        );
        this.evaluations.set(key, pending);
      }
      const r = await pending;
      checks.push({
        name: m.name,
        version: m.version,
        confFile: conf.file,
        unmet: r.unmet,
        error: r.error,
        builtModules: r.vars?.builtModules ?? [],
      });
    }
    return checks;
  }
}
