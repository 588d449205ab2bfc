/** The controller's file system as validation sees it (synchronous: a kernelfile names a handful of files). */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { fileKind, readRegularSync } from '../compile/read-file.js';
import type { FileView } from '../spec/semantic.js';

export const nodeFileView: FileView = {
  stat(abs) {
    try {
      const st = statSync(abs);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'special';
    } catch {
      return 'missing';
    }
  },
  kindOf(abs) {
    try {
      return fileKind(statSync(abs));
    } catch {
      return 'missing';
    }
  },
  // Only regular files, opened once without waiting (a FIFO), read up to the limit and no further.
  readText(abs, maxBytes) {
    const r = readRegularSync(abs, maxBytes);
    return r.ok ? r.bytes.toString('utf8') : { error: r.message };
  },
  list(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
  mode(abs) {
    try {
      return statSync(abs).mode & 0o7777;
    } catch {
      return undefined;
    }
  },
  realpath(abs) {
    try {
      return realpathSync(abs);
    } catch {
      return undefined;
    }
  },
};
