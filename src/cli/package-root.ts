/**
 * The root of the kernelfile package (where package.json and schemas/ are), as a file: URL ending
 * in `/`. This module sits two levels below it wherever it runs: src/cli/ (tsx), dist/cli/ (tsc)
 * and the CLI bundle dist/bundle/kernelfile.cjs (scripts/bundle.ts), whose import.meta.url is its own.
 */
export const PACKAGE_ROOT = new URL('../../', import.meta.url);
