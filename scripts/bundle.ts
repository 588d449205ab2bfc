/**
 * Bundles the command line (src/cli/main.ts and everything it loads, npm dependencies included) with
 * esbuild into dist/bundle/: a minified ESM entry, kernelfile.mjs, that bin/kernelfile.js loads, and
 * the chunks that entry and each command load on demand (code splitting: `--version` reads about
 * 60 KB, a one-host plan never reads listr2 or execa). Node then resolves, reads and compiles a few
 * files instead of some 350 modules. `npm run build` runs it after tsc (`npm ci` runs that through
 * `prepare`); the library entry point (package.json `exports`, dist/engine/) stays the unbundled,
 * typed tsc output.
 *
 * Why chunks and not one file: one file of ~1.2 MB makes every start, `--version` included, parse
 * all of it (about twice the time of Node's own start on a loaded 2-core machine; see bench/).
 *
 * Native add-ons are not bundled: ssh2's optional crypto binding and cpu-features are required from
 * node_modules at run time (as `ssh2/lib/protocol/crypto/build/Release/sshcrypto.node`), as they are
 * without a bundle; when they are absent, ssh2 falls back to its JavaScript crypto, as it always does.
 */
import { rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Two levels below the package root, as src/cli/package-root.ts requires of every file it is bundled into. */
export const BUNDLE_DIR = resolve(ROOT, 'dist/bundle');
export const BUNDLE_ENTRY = resolve(BUNDLE_DIR, 'kernelfile.mjs');

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
 * CommonJS dependencies (ssh2, commander, yaml's CJS build) call require() and use __dirname: give
 * every ESM output file both, relative to itself.
 */
const BANNER = [
  "import { createRequire as __kfRequire } from 'node:module';",
  "import { dirname as __kfDirname } from 'node:path';",
  "import { fileURLToPath as __kfPath } from 'node:url';",
  'const require = __kfRequire(import.meta.url);',
  'const __filename = __kfPath(import.meta.url);',
  'const __dirname = __kfDirname(__filename);',
].join('\n');

/**
 * Bundle into `outdir` (default dist/bundle/; a test bundles into a directory of its own, also two
 * levels below the package root); the metafile says which sources each output file holds.
 */
export async function bundleCli(outdir = BUNDLE_DIR, log = true): Promise<Metafile> {
  rmSync(outdir, { recursive: true, force: true });
  const r = await build({
    absWorkingDir: ROOT,
    entryPoints: { kernelfile: 'src/cli/main.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    // An optional dependency of ssh2 with a native add-on: required (and missed) at run time as without a bundle.
    external: ['cpu-features'],
    plugins: [nativeAddons],
    banner: { js: BANNER },
    logLevel: 'warning',
    metafile: true,
  });
  const bytes = Object.entries(r.metafile.outputs)
    .filter(([f]) => f.endsWith('.mjs'))
    .reduce((n, [, o]) => n + o.bytes, 0);
  const files = Object.keys(r.metafile.outputs).filter((f) => f.endsWith('.mjs')).length;
  if (log)
    process.stdout.write(
      `bundled the CLI into ${relative(ROOT, outdir)}/: ${files} files, ${(bytes / 1024).toFixed(0)} KiB\n`,
    );
  return r.metafile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleCli();
