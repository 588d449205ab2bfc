/**
 * The DKMS preflight as the planner sees it: for each module the kernelfile declares, what its
 * dkms.conf says about the new kernel (evaluated by src/dkms/conf.ts, the way dkms does), and
 * the plan errors that follow. A module whose BUILD_EXCLUSIVE_* the kernel does not meet is one dkms
 * would skip without a word at apply time: the plan refuses instead. Pure: no I/O.
 */
import { describeOption, isVersionRequirement, type KernelExclusion } from './lift.js';

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
  /**
   * Present when the conf excludes the new kernel by version: whether its BUILD_EXCLUSIVE_KERNEL is
   * a version pattern or a message, and the Kconfig options that would lift the exclusion.
   */
  kernelExclusion?: KernelExclusion;
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
      message: `${module} cannot be built for this kernel: ${describeUnmet(c).join('; ')}`,
      hint: hintFor(c),
    });
  }
  return out;
}

/**
 * The unmet requirements as the plan says them. A version exclusion that a Kconfig option lifts
 * names the option first (the conf decides from the kernel's .config); one whose
 * BUILD_EXCLUSIVE_KERNEL is a message says so instead of asking for a kernel matching it.
 */
function describeUnmet(c: ModuleCheck): string[] {
  const k = c.kernelExclusion;
  if (!k) return c.unmet;
  const version = c.unmet.filter(isVersionRequirement);
  const rest = c.unmet.filter((u) => !isVersionRequirement(u));
  const excludes = k.versionPattern
    ? version.join('; ')
    : `sets BUILD_EXCLUSIVE_KERNEL to ${JSON.stringify(k.pattern)}, a message rather than a kernel version: no kernel release matches it`;
  if (k.liftedBy.length > 0) {
    const opts = k.liftedBy.map(describeOption);
    const need = opts.length === 1 ? opts[0] : `one of ${opts.join(', ')}`;
    return [`requires ${need}: its dkms.conf reads the kernel's .config and otherwise ${excludes}`, ...rest];
  }
  if (k.versionPattern) return c.unmet;
  const tried = k.tried.length
    ? ` (none of the options it reads, ${k.tried.join(', ')}, lifts it when set the other way alone)`
    : '';
  return [`its dkms.conf ${excludes}${tried}`, ...rest];
}

function hintFor(c: ModuleCheck): string {
  const ways: string[] = [];
  const want = new Map<string, string>();
  const k = c.kernelExclusion;
  if (k?.liftedBy.length === 1) for (const o of k.liftedBy) want.set(o.symbol, o.value);
  for (const u of c.unmet) {
    const on = /^requires ([A-Za-z0-9_]+)(?:, which is not set|=y or =m, but it is )/.exec(u);
    if (on) want.set(on[1] as string, 'y');
    const off = /^requires ([A-Za-z0-9_]+) to be unset\b/.exec(u);
    if (off) want.set(off[1] as string, 'n');
  }
  const where = 'under config.set in the kernelfile (check that it survives olddefconfig)';
  if (want.size > 0) ways.push(`set ${[...want].map(([s, v]) => `${s}: ${v}`).join(', ')} ${where}`);
  if (k && k.liftedBy.length > 1)
    ways.push(`set one of ${k.liftedBy.map((o) => `${o.symbol}: ${o.value}`).join(', ')} ${where}`);
  if (c.unmet.some(isVersionRequirement)) {
    if (!k || k.versionPattern)
      ways.push(
        `build a kernel version ${c.name} ${c.version} supports, or use a version of ${c.name} that supports this one`,
      );
    else if (k.liftedBy.length === 0)
      ways.push(
        `read ${c.confFile ?? `the dkms.conf of ${c.name}`} for what ${JSON.stringify(k.pattern)} asks of the kernel`,
      );
  }
  ways.push(`remove ${c.name} from modules`);
  return ways.length === 1 ? (ways[0] as string) : `${ways.slice(0, -1).join('; ')}; or ${ways.at(-1)}`;
}
