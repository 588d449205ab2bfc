/**
 * Benchmarks, reported as ratios against a baseline measured side by side in the same run
 * (never as timed assertions in tests). `npm run bench`.
 *
 *  1. CLI start-up: `kernelfile validate kernelfile.example.yaml` against `node -e 0` (the floor any
 *     Node CLI pays), run alternately.
 *  2. In-process validation of the example against parsing the same YAML only (yaml.parseDocument).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { nodeFileView } from '../src/cli/fsview.js';
import { validate } from '../src/spec/validate.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const example = `${root}kernelfile.example.yaml`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function sideBySide(
  name: string,
  baselineName: string,
  baseline: () => void,
  subject: () => void,
  runs: number,
) {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(time(baseline));
    b.push(time(subject));
  }
  const ma = median(a);
  const mb = median(b);
  console.log(
    `${name.padEnd(44)} ${mb.toFixed(2).padStart(9)} ms   ${baselineName.padEnd(28)} ${ma.toFixed(2).padStart(9)} ms   ratio ${(mb / ma).toFixed(2)}×`,
  );
}

const bin = `${root}bin/kernelfile.js`;
spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
console.log(`node ${process.version}, ${new Date().toISOString()}; medians`);
sideBySide(
  'kernelfile validate kernelfile.example.yaml',
  'node -e 0',
  () => spawnSync(process.execPath, ['-e', '0']),
  () => {
    const r = spawnSync(process.execPath, [bin, 'validate', example]);
    if (r.status !== 0) throw new Error(String(r.stdout));
  },
  20,
);

const bytes = readFileSync(example);
const text = bytes.toString('utf8');
const env = { fs: nodeFileView, kernelfile: example, home: process.env.HOME };
validate(bytes, 'kernelfile.example.yaml', env); // compile the schema once, as a long-lived process would
sideBySide(
  'validate() in process (schema compiled)',
  'yaml.parseDocument only',
  () => parseDocument(text),
  () => {
    if (!validate(bytes, 'kernelfile.example.yaml', env).ok) throw new Error('example invalid');
  },
  200,
);
