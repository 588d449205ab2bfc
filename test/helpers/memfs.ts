/** An in-memory FileView for validation tests: paths are absolute, directories are implied by files. */
import type { FileView } from '../../src/spec/semantic.js';

/** `special`: paths that are FIFOs, devices or sockets (not regular files). */
export function memfs(files: Record<string, string>, dirs: string[] = [], special: string[] = []): FileView {
  const all = new Map(Object.entries(files));
  const dirSet = new Set<string>(dirs);
  for (const f of [...all.keys(), ...dirs]) {
    for (let d = f.slice(0, f.lastIndexOf('/')); d.length > 0; d = d.slice(0, d.lastIndexOf('/')))
      dirSet.add(d);
    dirSet.add('/');
  }
  return {
    stat: (abs) =>
      special.includes(abs) ? 'special' : all.has(abs) ? 'file' : dirSet.has(abs) ? 'dir' : 'missing',
    kindOf: (abs) => (special.includes(abs) ? 'a FIFO (named pipe)' : 'a regular file'),
    readText: (abs, max) => {
      if (special.includes(abs))
        return { error: `${abs} is a FIFO (named pipe); kernelfile reads only regular files` };
      const text = all.get(abs);
      if (text !== undefined && Buffer.byteLength(text) > max) return { error: `${abs} is too large` };
      return text;
    },
    list: (dir) =>
      [...all.keys(), ...dirSet]
        .filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'))
        .map((p) => p.slice(dir.length + 1)),
  };
}
