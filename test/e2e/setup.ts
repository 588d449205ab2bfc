/**
 * The end-to-end suite runs the CLI as users do (bin/kernelfile.cjs → the bundle in dist/bundle/):
 * build it first, as `npm run build` does (tsc, then scripts/bundle.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleCli } from '../../scripts/bundle.js';

export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  await bundleCli();
}
