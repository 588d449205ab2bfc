#!/usr/bin/env node
// kernelfile's command line. The CLI is one bundled file, dist/bundle/kernelfile.cjs (scripts/bundle.ts,
// run by `npm run build`, which `npm ci` and `npm install` run through `prepare`), compiled here with
// V8's code cache: most of a command's own time on Node is compiling the code it runs, and Node 20
// caches nothing for an ES module. The cache of each command is kept in the user's cache
// ($XDG_CACHE_HOME/kernelfile/code-cache/, else ~/.cache/…), written once after the command's first
// run and keyed by Node's version and the bundle's file; V8 refuses data made by another V8 or
// with other flags, and this is written again. KERNELFILE_CODE_CACHE=0 turns it off.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'bundle', 'kernelfile.cjs');

function missing() {
  process.stderr.write(
    'kernelfile: dist/bundle/ is missing; run `npm run build` (or `npm ci`) in the kernelfile checkout\n',
  );
  process.exit(1);
}

/** V8 runs what a cache holds: only a file or directory of this user's that nobody else can write. */
function ours(st) {
  return st.uid === (process.getuid ? process.getuid() : st.uid) && (st.mode & 0o022) === 0;
}

/** The directory for code caches, when it is this user's alone (created 0700), else undefined. */
function cacheDir() {
  const home = process.env.HOME || require('node:os').homedir();
  const dir = path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'kernelfile', 'code-cache');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    return st.isDirectory() && ours(st) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** kernelfile's commands (src/cli/main.ts; test/integration/code-cache.test.ts keeps the two equal). */
const COMMANDS = [
  'validate',
  'facts',
  'build',
  'lock',
  'verify',
  'plan',
  'apply',
  'rollback',
  'status',
  'import',
  'inventory',
  'keygen',
  'cache',
  'schema',
  'completion',
  'help',
  '__complete',
];

/** The command (its cache holds the code that command ran): the first word that is not an option. */
function commandOf(argv) {
  const word = argv.find((a) => !a.startsWith('-'));
  return COMMANDS.includes(word) ? word : 'none';
}

/**
 * A fleet's run (`--inventory`): V8 hands a function to its optimising compiler (TurboFan, on
 * another thread) once the function has run its "interrupt budget" of bytecode. Planning a fleet
 * runs the same code for every host for a second or two, and most of what TurboFan compiled then
 * barely ran: at 50 hosts it took about 15% of the controller's CPU (bench/fleet.ts), on the 2
 * cores the SSH hosts also need. Eight times the default budget (67584) leaves it the code that
 * runs long enough to pay for it. Not for one host: V8 refuses Node's own code cache for its
 * built-in modules under other flags, and compiling them costs a one-host plan more (about 30 ms)
 * than it saves. Set before anything of the bundle is compiled; its code cache (below) is kept
 * apart, made and used under these flags only.
 */
function fleetRun(argv) {
  return argv.some((a) => a === '--inventory' || a.startsWith('--inventory='));
}

/** main() reports every error itself; anything else is a bug, and Node prints it as it would. */
function run(exports) {
  return exports.runCli();
}

// --debug prints stack traces that name src/ files and lines: the bundle is loaded as a module then,
// whose source map Node reads (a code cache has none).
const debug = process.argv.includes('--debug') || !!process.env.KERNELFILE_DEBUG;
const argv = process.argv.slice(2);
const fleet = fleetRun(argv);
if (fleet) require('node:v8').setFlagsFromString('--interrupt-budget=540672');
if (debug || process.env.KERNELFILE_CODE_CACHE === '0') {
  if (!fs.existsSync(bundle)) missing();
  if (debug) process.setSourceMapsEnabled(true);
  run(require(bundle));
} else {
  const vm = require('node:vm');
  const Module = require('node:module');
  let source;
  let st;
  try {
    source = fs.readFileSync(bundle, 'latin1'); // esbuild writes ASCII (charset: ascii)
    st = fs.statSync(bundle);
  } catch {
    missing();
  }
  const dir = cacheDir();
  // One bundle file (its size, time and inode) under one Node: another build or Node starts afresh.
  const key = `${process.version}-${process.arch}-${st.size}-${Math.floor(st.mtimeMs)}-${st.ino}`;
  const file = dir && path.join(dir, `${key}.${commandOf(argv)}${fleet ? '-fleet' : ''}.bin`);
  let cached;
  if (file)
    try {
      const f = fs.lstatSync(file);
      if (f.isFile() && ours(f)) cached = fs.readFileSync(file);
    } catch {
      // none yet
    }
  const script = new vm.Script(Module.wrap(source), {
    filename: bundle,
    ...(cached ? { cachedData: cached } : {}),
  });
  if (file && (!cached || script.cachedDataRejected))
    // After the command ran: the cache then holds every function it compiled.
    process.once('exit', () => {
      try {
        for (const old of fs.readdirSync(dir))
          if (!old.startsWith(`${key}.`)) fs.rmSync(path.join(dir, old), { force: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, file);
      } catch {
        // a cache that cannot be written costs the compile next time, nothing else
      }
    });
  const module = { exports: {} };
  script.runInThisContext()(
    module.exports,
    Module.createRequire(bundle),
    module,
    bundle,
    path.dirname(bundle),
  );
  run(module.exports);
}
