/**
 * `kernelfile validate` start-up against `node -e 0` (the floor any Node CLI pays), and in-process
 * validation against parsing the same YAML only.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { nodeFileView } from '../src/engine/fsview.js';
import { validate } from '../src/spec/validate.js';
import { sideBySide } from './lib.js';

export async function benchValidate(root: string): Promise<void> {
  const example = `${root}kernelfile.example.yaml`;
  const bin = `${root}bin/kernelfile.js`;
  await sideBySide(
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
