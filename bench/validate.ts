/**
 * The CLI's start-up: `kernelfile --version` (Node, the bundle compiled from its code cache, the command-line parser;
 * goal ≤ 1.3× `node -e 0`, the floor any Node CLI pays) and `kernelfile validate` (also YAML, the
 * schema and the semantic checks) against `node -e 0`; then validate() in process against parsing
 * the same YAML only.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { nodeFileView } from '../src/engine/fsview.js';
import { validate } from '../src/spec/validate.js';
import { ratioGoal, record, sideBySide } from './lib.js';

export async function benchValidate(root: string): Promise<void> {
  const example = `${root}kernelfile.example.yaml`;
  const bin = `${root}bin/kernelfile.cjs`;
  const node = () => spawnSync(process.execPath, ['-e', '0']);
  const cli = (args: string[]) => () => {
    const r = spawnSync(process.execPath, [bin, ...args]);
    if (r.status !== 0)
      throw new Error(`kernelfile ${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  };
  const runs = 20;
  const v = await sideBySide('kernelfile --version', 'node -e 0', node, cli(['--version']), runs);
  record({
    name: 'kernelfile --version (start-up)',
    value: `${v.subject.toFixed(1)} ms`,
    baseline: `node -e 0 ${v.baseline.toFixed(1)} ms`,
    ratio: v.subject / v.baseline,
    goal: ratioGoal(v.subject / v.baseline, 1.3),
  });
  const c = await sideBySide(
    'kernelfile validate kernelfile.example.yaml',
    'node -e 0',
    node,
    cli(['validate', example]),
    runs,
  );
  record({
    name: 'kernelfile validate kernelfile.example.yaml',
    value: `${c.subject.toFixed(1)} ms`,
    baseline: `node -e 0 ${c.baseline.toFixed(1)} ms`,
    ratio: c.subject / c.baseline,
  });
  const bytes = readFileSync(example);
  const text = bytes.toString('utf8');
  const env = { fs: nodeFileView, kernelfile: example, home: process.env.HOME };
  await sideBySide(
    'validate() in process',
    'yaml.parseDocument only',
    () => parseDocument(text),
    () => {
      if (!validate(bytes, 'kernelfile.example.yaml', env).ok) throw new Error('example invalid');
    },
    200,
  );
}
