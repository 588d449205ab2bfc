/**
 * Benchmarks, reported as ratios against a baseline measured side by side in the same run (never
 * as timed assertions in tests). `npm run bench` (as root: the SSH hosts run in namespaces).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchBuild } from './build.js';
import { benchFacts } from './facts.js';
import { benchValidate } from './validate.js';

const root = fileURLToPath(new URL('..', import.meta.url));
spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
console.log(`node ${process.version}, ${new Date().toISOString()}; medians, subject then baseline`);
await benchValidate(root);
await benchFacts(root);
if (process.env.BENCH_SKIP_BUILD !== '1') await benchBuild(root);
