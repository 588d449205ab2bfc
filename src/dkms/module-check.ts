/**
 * The DKMS preflight as the planner sees it: for each module the kernelfile declares, what its
 * dkms.conf says about the new kernel (evaluated by src/dkms/conf.ts, the way dkms does), and
 * the plan errors that follow. A module whose BUILD_EXCLUSIVE_* the kernel does not meet is one dkms
 * would skip without a word at apply time: the plan refuses instead. Pure: no I/O.
 */

export interface ModuleCheck {
  name: string;
  version: string;
  /** where dkms.conf was read */
  confFile: string | null;
  /** Requirements the new kernel does not meet ("requires CONFIG_ACPI, which is not set"); [] = buildable. */
  unmet: string[];
  /** The conf could not be read or evaluated, or dkms would refuse it; null = fine. */
  error: string | null;
  builtModules: string[];
}

export interface ModuleCheckError {
  /** `name version` of the module. */
  module: string;
  message: string;
  hint: string;
}

/** One plan error per module that cannot be built for the new kernel (error first, then unmet). */
export function moduleCheckErrors(checks: ModuleCheck[]): ModuleCheckError[] {
  const out: ModuleCheckError[] = [];
  for (const c of checks) {
    const module = `${c.name} ${c.version}`;
    if (c.error !== null) {
      out.push({
        module,
        message: `${module}: ${c.error}`,
        hint: c.confFile
          ? `fix ${c.confFile}, or remove ${c.name} from modules`
          : `check the module's dkms.conf, or remove ${c.name} from modules`,
      });
      continue;
    }
    if (c.unmet.length === 0) continue;
    out.push({
      module,
      message: `${module} cannot be built for this kernel: ${c.unmet.join('; ')}`,
      hint: hintFor(c),
    });
  }
  return out;
}

function hintFor(c: ModuleCheck): string {
  const ways: string[] = [];
  const want = new Map<string, string>();
  for (const u of c.unmet) {
    const on = /^requires ([A-Za-z0-9_]+)(?:, which is not set|=y or =m, but it is )/.exec(u);
    if (on) want.set(on[1] as string, 'y');
    const off = /^requires ([A-Za-z0-9_]+) to be unset\b/.exec(u);
    if (off) want.set(off[1] as string, 'n');
  }
  if (want.size > 0)
    ways.push(
      `set ${[...want].map(([s, v]) => `${s}: ${v}`).join(', ')} under config.set in the kernelfile (check that it survives olddefconfig)`,
    );
  if (c.unmet.some((u) => /^requires (a kernel|kernel )/.test(u)))
    ways.push(
      `build a kernel version ${c.name} ${c.version} supports, or use a version of ${c.name} that supports this one`,
    );
  ways.push(`remove ${c.name} from modules`);
  return ways.length === 1 ? (ways[0] as string) : `${ways.slice(0, -1).join('; ')}; or ${ways.at(-1)}`;
}
