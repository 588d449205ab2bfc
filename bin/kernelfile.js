#!/usr/bin/env node
// The CLI is bundled into dist/bundle/ by `npm run build` (scripts/bundle.ts), which `npm ci` and
// `npm install` run through `prepare`.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

const main = new URL('../dist/bundle/kernelfile.mjs', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'kernelfile: dist/bundle/ is missing; run `npm run build` (or `npm ci`) in the kernelfile checkout\n',
  );
  process.exit(1);
}
// Node ≥ 22.1 keeps V8's compiled code of the bundle between runs (in this user's cache, not a
// shared temporary directory); Node 20 has no compile cache, and this does nothing there.
module.enableCompileCache?.(
  join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kernelfile', 'node-compile-cache'),
);
// --debug prints stack traces: with the bundle's source maps, they name src/ files and lines.
if (process.argv.includes('--debug') || process.env.KERNELFILE_DEBUG) process.setSourceMapsEnabled(true);
const { runCli } = await import(main.href);
await runCli();
