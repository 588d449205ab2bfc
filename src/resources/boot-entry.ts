/**
 * Resource `boot-entry`: the loader's menu entries for the new release, with the kernelfile's
 * titles and command lines. How they are written is the loader driver's (./loaders/): the loader
 * the kernelfile names (or the host's, with `auto`) and the first of its drivers that claims the
 * host (GRUB: grub-explicit where grub-mkconfig cannot run, else grub-mkconfig).
 */
import { sameKernelArgs } from '../facts/kernel-cmdline.js';
import type { BootEntry } from '../facts/types.js';
import { cmdlineProblem, titleProblem } from '../spec/boot-text.js';
import type { AttributeChange, Change, PlannedChange } from './change.js';
import { type Ctx, change, problem } from './context.js';
import { imagePath, initramfsPath } from './layout.js';
import type { LoaderDriver, RenderedEntry } from './loaders/driver.js';
import { pruneSelection } from './prune.js';
import type { Resource } from './resource.js';

export type { RenderedEntry } from './loaders/driver.js';

/** The driver for the host's boot loader, or null (none wanted, or a problem says why not). */
export function chooseLoader(ctx: Ctx): LoaderDriver | null {
  const { d, f } = ctx;
  const want = d.boot.loader;
  if (want === 'none') {
    ctx.notes.push('boot.loader: none: no boot entry is written');
    return null;
  }
  const loader = want === 'auto' ? f.boot.loader : want;
  if (!loader) {
    problem(
      ctx,
      'no-loader',
      `no boot loader found on ${f.host} (no grub.cfg, GRUB tools, loader.conf or BLS entries)`,
      'install the boot loader first, set `boot.loader` to the one the host uses, or `boot.loader: none` to install the kernel without boot entries',
    );
    return null;
  }
  for (const driver of ctx.loaders.filter((x) => x.loader === loader)) {
    const claim = driver.claim(ctx);
    if (claim === 'mine') return driver;
    if (claim !== 'not-mine') {
      ctx.problems.push(claim);
      return null;
    }
  }
  problem(
    ctx,
    'no-loader-driver',
    `kernelfile cannot write ${loader} entries on ${f.host}`,
    'set `boot.loader` to a loader kernelfile knows, or `boot.loader: none`',
  );
  return null;
}

const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
const rootOf = (options: string | null | undefined) => /(?:^|\s)root=(\S+)/.exec(options ?? '')?.[1] ?? null;

/**
 * The command line the host boots by default: its default entry's (what grub-mkconfig really wrote,
 * `rootflags=` and all), else rebuilt from the GRUB settings.
 */
function hostCmdline(ctx: Ctx): string {
  const { f } = ctx;
  const def = f.boot.entries.find((e) => e.id === f.boot.default);
  if (def?.options) return def.options.trim();
  const s = f.boot.grub?.settings ?? {};
  return ['ro', s.GRUB_CMDLINE_LINUX ?? '', s.GRUB_CMDLINE_LINUX_DEFAULT ?? '']
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The root device the host boots now, from its default entry or /proc/cmdline (not in an image). */
function hostRoot(ctx: Ctx): string | null {
  const { f } = ctx;
  const def = f.boot.entries.find((e) => e.id === f.boot.default);
  return rootOf(def?.options) ?? (ctx.image ? null : rootOf(f.system.cmdline));
}

export function renderTitle(template: string, ctx: Ctx, release: string): string {
  const { d, f } = ctx;
  const values: Record<string, string> = {
    name: d.name,
    release,
    version: d.version,
    distro: f.system.distro.prettyName ?? f.system.distro.id ?? 'Linux',
  };
  return template.replace(/\{(name|release|version|distro)\}/g, (_, k: string) => values[k] ?? '');
}

/** The new release's entries as the loader will show them (ids as `driver` names them). */
export function renderEntries(ctx: Ctx, driver: LoaderDriver): RenderedEntry[] {
  const { d } = ctx;
  const r = d.release;
  const initrd = ctx.tool ? initramfsPath(ctx.tool, r) : null;
  return d.boot.entries.map((e, i) => {
    let cmdline = (e.cmdline ?? hostCmdline(ctx)).trim();
    const root = e.root ?? (rootOf(cmdline) ? null : hostRoot(ctx));
    if (root) cmdline = `root=${root} ${cmdline.replace(/(?:^|\s)root=\S+/g, ' ')}`.trim();
    return {
      id: driver.entryId(ctx, r, i),
      release: r,
      title: renderTitle(e.title, ctx, r),
      cmdline: cmdline.replace(/\s+/g, ' '),
      linux: imagePath(r),
      initrd,
      default: e.default,
    };
  });
}

/** What the driver cannot do with these entries: the common limits, then its own problems. */
function checkEntries(ctx: Ctx, driver: LoaderDriver, entries: readonly RenderedEntry[]): void {
  const { limits } = driver;
  if (limits.rootRequired && entries.some((e) => !rootOf(e.cmdline))) {
    const p = driver.noRootProblem?.(ctx) ?? {
      message: `the boot entry's command line has no root= and the root device of ${ctx.f.host} is not known (no default entry to take it from)`,
      hint: 'set `root:` on the entry in boot.entries (e.g. root: UUID=…), or put root= in its cmdline',
    };
    problem(ctx, 'no-root', p.message, p.hint);
  }
  if (limits.oneEntryPerKernel && entries.length > 1)
    problem(
      ctx,
      'one-entry-only',
      `${limits.oneEntryPerKernel} writes one boot entry per kernel, and the kernelfile declares ${entries.length}`,
      'declare one entry in boot.entries on this loader',
    );
  // validate refused these in the kernelfile; a title's {distro} and a command line taken from the
  // host's default entry come from the host.
  for (const e of entries) {
    const p = titleProblem(e.title) ?? cmdlineProblem(e.cmdline);
    if (p)
      problem(
        ctx,
        'entry-text',
        `the boot entry ${e.id}: ${p.message} (from ${ctx.f.host})`,
        'set `title` and `cmdline` on the entry in boot.entries',
      );
  }
  ctx.notes.push(...limits.notes);
  ctx.problems.push(...(driver.problems?.(ctx, entries) ?? []));
}

/**
 * What differs between the host's entry and the one the kernelfile wants: the title, the command
 * line (as the kernel reads it) and its root device. A loader whose `sameEntry` compares more
 * than these may find a difference none of them shows: the reason then says so.
 */
export function entryAttributes(have: BootEntry, want: RenderedEntry): AttributeChange[] {
  const out: AttributeChange[] = [];
  if (norm(have.title) !== norm(want.title))
    out.push({ name: 'title', before: have.title, after: want.title });
  if (!sameKernelArgs(have.options, want.cmdline))
    out.push({
      name: 'cmdline',
      before: have.options === null ? null : norm(have.options),
      after: want.cmdline,
    });
  const root = { before: rootOf(have.options), after: rootOf(want.cmdline) };
  if (root.before !== root.after) out.push({ name: 'root', ...root });
  return out;
}

function bootEntryChanges(
  ctx: Ctx,
  upstream: readonly Change[],
  pruned: ReadonlySet<string>,
): PlannedChange[] {
  const loader = chooseLoader(ctx);
  ctx.loader = loader;
  if (!loader) return [];
  const entries = renderEntries(ctx, loader);
  ctx.entries = entries;
  checkEntries(ctx, loader, entries);
  const changedUp = upstream.filter((c) => c.action !== 'no-op');
  const out: PlannedChange[] = [];
  for (const e of entries) {
    const have = ctx.f.boot.entries.find((x) => x.id === e.id);
    const same = have !== undefined && loader.sameEntry(have, e);
    const attributes = have && !same ? entryAttributes(have, e) : [];
    out.push(
      change({
        address: { kind: 'boot-entry', entry: e.id },
        action: !have ? 'create' : same ? 'no-op' : 'update',
        before: have ? have.title : null,
        after: e.title,
        reason: !have
          ? `${loader.displayName} entry for ${e.release}`
          : same
            ? 'present'
            : attributes.length
              ? `the ${loader.displayName} entry differs: ${attributes.map((a) => a.name).join(', ')}`
              : `the ${loader.displayName} entry differs from the kernelfile's`,
        attributes,
      }),
    );
  }
  // One set of steps for all the release's entries: on the first change that is not a noop.
  const first = out.find((c) => c.action !== 'no-op');
  if (first) {
    first.steps = loader.addSteps(ctx, entries, pruned);
    first.dependsOn = changedUp.map((c) => c.id);
  }
  return out;
}

export const bootEntry: Resource = {
  name: 'boot-entry',
  order: 40,
  installs: true,
  plan(ctx, upstream) {
    // A grub.cfg written in full leaves out the releases prune removes after.
    const pruned = new Set(pruneSelection(ctx).remove.map((r) => r.release));
    return bootEntryChanges(ctx, upstream, pruned);
  },
};
