/** A plan saved with `plan --out`: written as versioned JSON, read back bounded and checked. */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parsePlanFile } from '../plan/planfile.js';
import type { PlanFile } from '../plan/types.js';
import { planFile, planJson } from '../render/plan-json.js';
import type { Env } from './env.js';
import { UserError } from './errors.js';
import type { PlannedHost } from './planning.js';

const MAX_PLAN_BYTES = 64 * 1024 * 1024;

/** The saved plan at `path`, or undefined when the file is not one (e.g. a kernelfile). */
export function readSavedPlan(file: string, env: Env): PlanFile | undefined {
  const path = resolve(env.cwd, file);
  if (!existsSync(path) || !statSync(path).isFile() || statSync(path).size > MAX_PLAN_BYTES) return undefined;
  const text = readFileSync(path, 'utf8');
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return parsePlanFile(text);
  } catch (e) {
    throw new UserError(
      `${file} is not a usable plan: ${(e as Error).message}`,
      'make a new one with `kernelfile plan --out FILE`',
    );
  }
}

/** The plan file of planned hosts sharing one kernelfile (what `--out` saves and `--json` prints). */
export function planDocument(hosts: readonly PlannedHost[]): unknown {
  const first = hosts[0];
  if (!first) throw new UserError('no host was planned: nothing to save');
  const d = first.desired;
  return planJson(
    planFile(
      { path: d.kernelfile.path, sha256: d.kernelfile.sha256, name: d.name },
      hosts.map((h) => h.plan),
    ),
  );
}

export function writePlanDocument(file: string, doc: unknown, env: Env): void {
  try {
    writeFileSync(resolve(env.cwd, file), `${JSON.stringify(doc, null, 2)}\n`);
  } catch (e) {
    throw new UserError(`cannot write the plan to ${file}: ${(e as Error).message}`);
  }
}
