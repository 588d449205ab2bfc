/**
 * Bundles the command line (src/cli/main.ts and everything it loads, npm dependencies included) with
 * esbuild into one CommonJS file, dist/bundle/kernelfile.cjs, that bin/kernelfile.cjs compiles with
 * V8's code cache. `npm run build` runs it after tsc (`npm ci` runs that through `prepare`); the
 * library entry point (package.json `exports`, dist/engine/) stays the unbundled, typed tsc output.
 *
 * Why one CommonJS file: Node 20 has no compile cache for ES modules, and a command's time on a
 * warm host is mostly V8 compiling the code it runs (its first run of each function). A classic
 * script can be compiled from a code cache (vm.Script cachedData), which bin/kernelfile.cjs keeps
 * per command in the user's cache: a one-host plan then costs about what Node and the SSH round
 * trips cost (see bench/). Modules a command does not use are still not run: `import()` of the
 * sources becomes a lazy initialiser in the bundle (esbuild), so `--version` never starts ssh2,
 * listr2 or execa.
 *
 * Native add-ons are not bundled: ssh2's optional crypto binding and cpu-features are required from
 * node_modules at run time (as `ssh2/lib/protocol/crypto/build/Release/sshcrypto.node`), as they are
 * without a bundle; when they are absent, ssh2 falls back to its JavaScript crypto, as it always does.
 */
import { readFileSync, rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Two levels below the package root, as src/cli/package-root.ts requires of every file it is bundled into. */
export const BUNDLE_DIR = resolve(ROOT, 'dist/bundle');
export const BUNDLE_ENTRY = resolve(BUNDLE_DIR, 'kernelfile.cjs');

/** `require('./x.node')` of a package becomes `require('pkg/…/x.node')`, resolved from node_modules at run time. */
const nativeAddons: Plugin = {
  name: 'native-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (a) => {
      const abs = resolve(a.resolveDir, a.path);
      const at = abs.lastIndexOf('/node_modules/');
      if (at < 0) return { errors: [{ text: `a native add-on outside node_modules: ${abs}` }] };
      return { path: abs.slice(at + '/node_modules/'.length), external: true };
    });
  },
};

/**
 * Sources that name their own file (src/cli/package-root.ts, src/engine/version.ts) read
 * `import.meta.url`: in the CommonJS bundle it is the bundle's URL.
 */
const BANNER = 'const __kfUrl = require("node:url").pathToFileURL(__filename).href;';

/**
 * For tests: every module of the bundle records its path in `globalThis.__kfModules` when it runs
 * (its top level), so a test can see which sources a command started and which it never ran.
 */
const traceModules: Plugin = {
  name: 'trace-modules',
  setup(b) {
    b.onLoad({ filter: /\.(ts|js|mjs|cjs)$/ }, (a) => {
      const path = relative(ROOT, a.path);
      const text = readFileSync(a.path, 'utf8');
      return {
        contents: `${text}\n;(globalThis.__kfModules ??= []).push(${JSON.stringify(path)});\n`,
        loader: a.path.endsWith('.ts') ? 'ts' : 'js',
      };
    });
  },
};

/**
 * Bundle into `outdir` (default dist/bundle/; a test bundles into a directory of its own, also two
 * levels below the package root); the metafile says which sources the bundle holds. `trace`: the
 * modules record when they run (traceModules), for tests.
 */
export async function bundleCli(outdir = BUNDLE_DIR, log = true, trace = false): Promise<Metafile> {
  rmSync(outdir, { recursive: true, force: true });
  const r = await build({
    absWorkingDir: ROOT,
    // The keeper of kept SSH connections (src/host/keeper.ts) is a process of its own: a bundle of its own.
    entryPoints: { kernelfile: 'src/cli/main.ts', keeper: 'src/host/keeper-main.ts' },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    // import() of a source becomes a lazy require of the bundled module: the bundle is run as a
    // classic script (vm.Script), which has no loader for import().
    supported: { 'dynamic-import': false },
    define: { 'import.meta.url': '__kfUrl' },
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    // An optional dependency of ssh2 with a native add-on: required (and missed) at run time as without a bundle.
    external: ['cpu-features'],
    plugins: trace ? [nativeAddons, traceModules] : [nativeAddons],
    banner: { js: BANNER },
    logLevel: 'warning',
    metafile: true,
  });
  const bytes = Object.entries(r.metafile.outputs)
    .filter(([f]) => f.endsWith('.cjs'))
    .reduce((n, [, o]) => n + o.bytes, 0);
  const files = Object.keys(r.metafile.outputs).filter((f) => f.endsWith('.cjs')).length;
  if (log)
    process.stdout.write(
      `bundled the CLI into ${relative(ROOT, outdir)}/: ${files} files, ${(bytes / 1024).toFixed(0)} KiB\n`,
    );
  return r.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli();
