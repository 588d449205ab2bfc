/** An in-memory FileView for validation tests: paths are absolute, directories are implied by files. */
import type { FileView } from '../../src/spec/semantic.js';

export function memfs(files: Record<string, string>, dirs: string[] = []): FileView {
  const all = new Map(Object.entries(files));
  const dirSet = new Set<string>(dirs);
  for (const f of [...all.keys(), ...dirs]) {
    for (let d = f.slice(0, f.lastIndexOf('/')); d.length > 0; d = d.slice(0, d.lastIndexOf('/')))
      dirSet.add(d);
    dirSet.add('/');
  }
  return {
    stat: (abs) => (all.has(abs) ? 'file' : dirSet.has(abs) ? 'dir' : 'missing'),
    readText: (abs) => all.get(abs),
    list: (dir) =>
      [...all.keys(), ...dirSet]
        .filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/'))
        .map((p) => p.slice(dir.length + 1)),
  };
}
