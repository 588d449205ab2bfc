/** The controller's file system as validation sees it (synchronous: a kernelfile names a handful of files). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { FileView } from '../spec/semantic.js';

/** Files larger than this are not read for checks (patches, fragments and dkms.conf are far smaller). */
const MAX_READ = 64 * 1024 * 1024;

export const nodeFileView: FileView = {
  stat(abs) {
    try {
      return statSync(abs).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'missing';
    }
  },
  readText(abs) {
    try {
      if (statSync(abs).size > MAX_READ) return undefined;
      return readFileSync(abs, 'utf8');
    } catch {
      return undefined;
    }
  },
  list(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};
