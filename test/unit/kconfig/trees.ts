/**
 * Kconfig trees for the tests: readers over a directory (the fixtures here; the Kconfig files of
 * Debian's linux-source-6.1 come from test/helpers/debian.ts, for the integration tests).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TreeLister, TreeReader } from '../../../src/kconfig/kconfig-types.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/kconfig/', import.meta.url));

export function dirReader(dir: string): TreeReader {
  return (rel) => {
    try {
      return readFileSync(join(dir, rel), 'utf8');
    } catch {
      return undefined;
    }
  };
}

export function dirLister(dir: string): TreeLister {
  return (rel) => {
    try {
      return readdirSync(join(dir, rel));
    } catch {
      return undefined;
    }
  };
}

export function fixture(rel: string): string {
  return readFileSync(join(FIXTURES, rel), 'utf8');
}
