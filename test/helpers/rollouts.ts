/**
 * What the rollout end-to-end tests (test/e2e/rollout-*.test.ts) share: kernelfiles derived from
 * examples/qemu-vm (a copy of the example's directory, so its fragments resolve as in the
 * repository, with one YAML file per variant: another command line, localversion, keep or health
 * check), their builds through the CLI (the tests' build cache: built once, then reused), and the
 * CLI runs with each VM's SSH options, noted with their duration.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { type Cli, kernelfile } from './cli.js';
import { note, secs } from './proc.js';

export const VM_EXAMPLE_DIR = fileURLToPath(new URL('../../examples/qemu-vm', import.meta.url));

export interface VmVariant {
  /** Replaces the example's `kernel.localversion` (another build, another release). */
  localversion?: string;
  /** Appended to the example's entry command line (e.g. `init=/bin/false`: the trial panics). */
  appendCmdline?: string;
  keep?: number;
  healthCheck?: { command: string; timeout?: number };
}

/** Write `${dir}/kf/` (the example's directory) with `${name}.yaml` per variant; returns their paths. */
export function writeVmKernelfiles<K extends string>(
  dir: string,
  variants: Record<K, VmVariant>,
): Record<K, string> {
  const kf = join(dir, 'kf');
  mkdirSync(kf, { recursive: true });
  cpSync(VM_EXAMPLE_DIR, kf, { recursive: true });
  const text = readFileSync(join(VM_EXAMPLE_DIR, 'kernelfile.yaml'), 'utf8');
  const out = {} as Record<K, string>;
  for (const [name, v] of Object.entries(variants) as [K, VmVariant][]) {
    const doc = parseDocument(text);
    if (v.localversion) doc.setIn(['kernel', 'localversion'], v.localversion);
    if (v.appendCmdline) {
      const cmdline = String(doc.getIn(['boot', 'entries', 0, 'cmdline']) ?? '');
      doc.setIn(['boot', 'entries', 0, 'cmdline'], `${cmdline} ${v.appendCmdline}`.trim());
    }
    if (v.keep !== undefined) doc.setIn(['boot', 'keep'], v.keep);
    if (v.healthCheck) doc.setIn(['boot', 'healthCheck'], v.healthCheck);
    const file = join(kf, `${name}.yaml`);
    writeFileSync(file, doc.toString());
    out[name] = file;
  }
  return out;
}

/** A CLI run, noted with how long it took; the output is shown when an expectation on it fails. */
export async function cli(what: string, args: string[]): Promise<Cli> {
  const t0 = Date.now();
  const r = await kernelfile(args);
  note(`${what}: ${secs(Date.now() - t0)} (exit ${r.code})`);
  if (process.env.KF_ROLLOUT_DUMP)
    writeFileSync(join(process.env.KF_ROLLOUT_DUMP, `${what.replace(/[^\w.-]+/g, '_')}.txt`), show(r));
  return r;
}

export const show = (r: Cli) => `exit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;

/** Build a kernelfile into the tests' build cache (once: later runs find it there); its release. */
export async function buildRelease(file: string): Promise<string> {
  const r = await cli(`build ${file.split('/').pop()}`, ['build', file, '--json']);
  if (r.code !== 0) throw new Error(`kernelfile build ${file} failed:\n${show(r)}`);
  return (JSON.parse(r.out) as { release: string }).release;
}
