#!/usr/bin/env node
// The CLI is compiled to dist/ by `npm run build`, which `npm ci` and `npm install` run through `prepare`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'kernelfile: dist/ is missing; run `npm run build` (or `npm ci`) in the kernelfile checkout\n',
  );
  process.exit(1);
}
const { runCli } = await import(main.href);
await runCli();
