/**
 * Resource `boot-entry`: the loader's menu entries for the new release, with the kernelfile's
 * titles and command lines. How depends on the loader:
 *   grub-mkconfig  GRUB where grub-probe works: a data file per entry, turned into menu entries by
 *                  /etc/grub.d/41_kernelfile when update-grub/grub-mkconfig runs (after every other
 *                  entry, so no menu index moves and GRUB_DEFAULT=0 keeps booting what it booted).
 *   grub-explicit  GRUB where grub-probe cannot see the root device (a chroot, an image being
 *                  built): grub-mkconfig cannot run, so kernelfile writes grub.cfg itself, listing
 *                  the kernels it installed, with the kernelfile's `root`.
 *   systemd-boot   `kernel-install add` (BLS entry named <machine-id>-<release>).
 *   grubby         `grubby --add-kernel` (Fedora, RHEL).
 */
import type { BootEntry } from '../facts/types.js';
import type { Change, Step } from './change.js';
import { type Ctx, change, type LoaderMode, problem } from './context.js';
import {
  entryId,
  GRUB_DEFAULT_CFG,
  GRUB_SCRIPT_PATH,
  grubEntryFile,
  imagePath,
  initramfsPath,
} from './layout.js';
import { GRUB_CFG_HEADER, GRUB_DEFAULT_SAVED, GRUB_SCRIPT } from './scripts.js';

export const entryChangeId = (id: string) => `boot-entry[${id}]`;

export interface RenderedEntry {
  id: string;
  release: string;
  title: string;
  cmdline: string;
  linux: string;
  initrd: string | null;
  default: boolean;
}

export function chooseLoader(ctx: Ctx): LoaderMode | null {
  const { d, f } = ctx;
  const want = d.boot.loader;
  if (want === 'none') return null;
  const found = f.boot.loader;
  const loader = want === 'auto' ? found : want;
  if (!loader) {
    problem(
      ctx,
      'no-loader',
      `no boot loader found on ${f.host} (no grub.cfg, GRUB tools, loader.conf or BLS entries)`,
      'install the boot loader first, set `boot.loader` to the one the host uses, or `boot.loader: none` to install the kernel without boot entries',
    );
    return null;
  }
  if (loader === 'grub') {
    const probe = f.boot.grub?.probe;
    if (ctx.image || (probe && !probe.ok)) return 'grub-explicit';
    if (!f.boot.tools['update-grub'] && !f.boot.tools['grub-mkconfig'] && !f.boot.tools['grub2-mkconfig']) {
      problem(
        ctx,
        'no-grub-mkconfig',
        `${f.host} uses GRUB but has neither update-grub nor grub-mkconfig`,
        'install the GRUB package of the distribution (grub-pc, grub-efi-amd64, grub2-tools)',
      );
      return null;
    }
    return 'grub-mkconfig';
  }
  if (loader === 'systemd-boot') {
    if (!f.boot.tools['kernel-install'] || !f.boot.tools.bootctl) {
      problem(
        ctx,
        'no-kernel-install',
        `${f.host} uses systemd-boot but lacks kernel-install or bootctl`,
        'install systemd-boot (and systemd) on the host',
      );
      return null;
    }
    return 'systemd-boot';
  }
  if (!f.boot.tools.grubby) {
    problem(
      ctx,
      'no-grubby',
      `boot.loader is grubby but ${f.host} has no grubby`,
      'install grubby, or set boot.loader: auto',
    );
    return null;
  }
  return 'grubby';
}

/** The grubenv file and the editor for it (grub-editenv on Debian, grub2-editenv on Fedora). */
export function grubEnv(ctx: Ctx): { file: string; editor: string } {
  const g = ctx.f.boot.grub;
  const dir = g?.cfg?.startsWith('/boot/grub2/') ? '/boot/grub2' : '/boot/grub';
  return {
    file: g?.envFile ?? `${dir}/grubenv`,
    editor: ctx.f.boot.tools['grub-editenv']
      ? 'grub-editenv'
      : ctx.f.boot.tools['grub2-editenv']
        ? 'grub2-editenv'
        : 'grub-editenv',
  };
}

export function grubCfgPath(ctx: Ctx): string {
  return (
    ctx.f.boot.grub?.cfg ??
    (grubEnv(ctx).file.startsWith('/boot/grub2/') ? '/boot/grub2/grub.cfg' : '/boot/grub/grub.cfg')
  );
}

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

/** The new release's entries as the loader will show them. */
export function renderEntries(ctx: Ctx): RenderedEntry[] {
  const { d, f } = ctx;
  const r = d.release;
  const initrd = ctx.tool ? initramfsPath(ctx.tool, r) : null;
  return d.boot.entries.map((e, i) => {
    let cmdline = (e.cmdline ?? hostCmdline(ctx)).trim();
    const root = e.root ?? (rootOf(cmdline) ? null : hostRoot(ctx));
    if (root) cmdline = `root=${root} ${cmdline.replace(/(?:^|\s)root=\S+/g, ' ')}`.trim();
    // kernel-install and grubby name the BLS entry themselves: <machine-id>-<release>.
    const bls = (ctx.loader === 'systemd-boot' || ctx.loader === 'grubby') && f.system.machineId;
    const id = bls ? `${f.system.machineId}-${r}${i === 0 ? '' : `-${i + 1}`}` : entryId(r, i);
    return {
      id,
      release: r,
      title: renderTitle(e.title, ctx, r),
      cmdline: cmdline.replace(/\s+/g, ' '),
      linux: imagePath(r),
      initrd,
      default: e.default,
    };
  });
}

const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();

/** Entries kernelfile wrote for other releases that stay (for a grub.cfg written in full). */
export function keptEntries(ctx: Ctx, pruned: ReadonlySet<string>): RenderedEntry[] {
  return ctx.f.boot.entries
    .filter(
      (e) => e.id.startsWith('kernelfile-') && e.release !== ctx.d.release && !pruned.has(e.release ?? ''),
    )
    .map((e) => ({
      id: e.id,
      release: e.release ?? '',
      title: e.title,
      cmdline: norm(e.options),
      linux: e.kernel ?? '',
      initrd: e.initrd[0] ?? null,
      default: false,
    }));
}

const grubQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** grub.cfg written in full where grub-mkconfig cannot run (grub-explicit). */
export function explicitGrubCfg(entries: RenderedEntry[]): string {
  const lines = [GRUB_CFG_HEADER.trimEnd()];
  for (const e of entries) {
    lines.push(
      `menuentry ${grubQuote(e.title)} --class gnu-linux --id ${grubQuote(e.id)} {`,
      `\tsearch --no-floppy --set=root --file ${e.linux}`,
      `\tlinux\t${e.linux} ${e.cmdline}`.trimEnd(),
    );
    if (e.initrd) lines.push(`\tinitrd\t${e.initrd}`);
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

function grubMkconfigArgv(ctx: Ctx): string[] {
  const t = ctx.f.boot.tools;
  if (t['update-grub']) return ['update-grub'];
  return [t['grub-mkconfig'] ? 'grub-mkconfig' : 'grub2-mkconfig', '-o', grubCfgPath(ctx)];
}

/**
 * GRUB_DEFAULT other than `saved` would let the menu decide (entry 0 on Debian boots the newest
 * kernel by version, which may be the one being installed): pin the current default by its id
 * first, so installing an entry never changes what boots.
 */
export function pinDefaultSteps(ctx: Ctx): Step[] {
  const { f, sudo } = ctx;
  if (f.boot.grub?.settings.GRUB_DEFAULT === 'saved') return [];
  const current = f.boot.entries.find((e) => e.id === f.boot.default);
  if (!current) {
    ctx.notes.push(
      'the current default entry is unknown: GRUB keeps its own default (GRUB_DEFAULT) until the new one is set',
    );
    return [];
  }
  // Debian's first entry ("Debian GNU/Linux") boots the newest kernel: pin the same release by its
  // entry in the "Advanced options" submenu, which names the release.
  const pinned =
    current.submenu === null
      ? (f.boot.entries.find(
          (e: BootEntry) =>
            e.release === current.release && e.submenu !== null && !/recovery/i.test(e.id + e.title),
        ) ?? current)
      : current;
  const env = grubEnv(ctx);
  return [
    {
      kind: 'run',
      title: `pin the current default (${pinned.title})`,
      argv: [env.editor, env.file, 'set', `saved_entry=${pinned.id}`],
      sudo,
    },
    {
      kind: 'write',
      title: `write ${GRUB_DEFAULT_CFG} (GRUB_DEFAULT=saved)`,
      path: GRUB_DEFAULT_CFG,
      content: GRUB_DEFAULT_SAVED,
      mode: 0o644,
      sudo,
    },
  ];
}

export function entrySteps(ctx: Ctx, entries: RenderedEntry[], pruned: ReadonlySet<string>): Step[] {
  const { sudo, d } = ctx;
  const r = d.release;
  switch (ctx.loader) {
    case 'grub-mkconfig':
      return [
        ...pinDefaultSteps(ctx),
        {
          kind: 'write',
          title: `write ${GRUB_SCRIPT_PATH}`,
          path: GRUB_SCRIPT_PATH,
          content: GRUB_SCRIPT,
          mode: 0o755,
          sudo,
        },
        ...entries.map(
          (e): Step => ({
            kind: 'write',
            title: `write ${grubEntryFile(e.id)}`,
            path: grubEntryFile(e.id),
            content: `id=${e.id}\ntitle=${e.title}\nlinux=${e.linux}\ninitrd=${e.initrd ?? ''}\noptions=${e.cmdline}\n`,
            mode: 0o644,
            sudo,
          }),
        ),
        { kind: 'run', title: grubMkconfigArgv(ctx).join(' '), argv: grubMkconfigArgv(ctx), sudo },
      ];
    case 'grub-explicit': {
      const env = grubEnv(ctx);
      const steps: Step[] = [];
      if (!ctx.f.boot.grub?.envFile)
        steps.push({
          kind: 'run',
          title: `${env.editor} ${env.file} create`,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: sh text, not a template
          argv: ['sh', '-c', 'mkdir -p "${1%/*}" && "$2" "$1" create', 'kernelfile', env.file, env.editor],
          sudo,
        });
      const cfg = grubCfgPath(ctx);
      steps.push({
        kind: 'write',
        title: `write ${cfg} (explicit entries: grub-mkconfig cannot run here)`,
        path: cfg,
        content: explicitGrubCfg([...keptEntries(ctx, pruned), ...entries]),
        mode: 0o644,
        sudo,
      });
      return steps;
    }
    case 'systemd-boot':
      return [
        {
          kind: 'run',
          title: `kernel-install add ${r}`,
          argv: [
            'kernel-install',
            'add',
            r,
            imagePath(r),
            ...(entries[0]?.initrd ? [entries[0].initrd] : []),
          ],
          sudo,
        },
      ];
    case 'grubby':
      return entries.map((e) => ({
        kind: 'run' as const,
        title: `grubby --add-kernel ${e.linux}`,
        argv: [
          'grubby',
          '--add-kernel',
          e.linux,
          ...(e.initrd ? ['--initrd', e.initrd] : []),
          '--title',
          e.title,
          '--args',
          e.cmdline,
        ],
        sudo,
      }));
    default:
      return [];
  }
}

export function bootEntryChanges(
  ctx: Ctx,
  upstream: Change[],
  pruned: ReadonlySet<string>,
): {
  changes: Change[];
  entries: RenderedEntry[];
} {
  const loader = chooseLoader(ctx);
  ctx.loader = loader;
  if (!loader) return { changes: [], entries: [] };
  const entries = renderEntries(ctx);
  const noRoot = entries.filter((e) => !rootOf(e.cmdline));
  if (noRoot.length && loader !== 'grub-explicit')
    problem(
      ctx,
      'no-root',
      `the boot entry's command line has no root= and the root device of ${ctx.f.host} is not known (no default entry to take it from)`,
      'set `root:` on the entry in boot.entries (e.g. root: UUID=…), or put root= in its cmdline',
    );
  if ((loader === 'systemd-boot' || loader === 'grubby') && entries.length > 1)
    problem(
      ctx,
      'one-entry-only',
      `${loader === 'grubby' ? 'grubby' : 'kernel-install'} writes one boot entry per kernel, and the kernelfile declares ${entries.length}`,
      'declare one entry in boot.entries on this loader',
    );
  if (loader === 'systemd-boot')
    ctx.notes.push(
      'systemd-boot: kernel-install writes the entry; its title and command line come from /etc/os-release and /etc/kernel/cmdline, not from boot.entries',
    );
  if (loader === 'grub-explicit') {
    if (noRoot.length)
      problem(
        ctx,
        'no-root',
        `${whyExplicit(ctx)}, so each entry needs the root device, and the kernelfile does not name it`,
        'set `root:` on each entry in boot.entries (e.g. root: /dev/vda1 or UUID=…)',
      );
    const foreign = ctx.f.boot.entries.filter((e) => !e.id.startsWith('kernelfile-'));
    if (foreign.length)
      problem(
        ctx,
        'grub-cfg-foreign',
        `${grubCfgPath(ctx)} has entries kernelfile did not write (${foreign[0]?.title}…), and ${whyExplicit(ctx)}`,
        'run kernelfile where grub-probe can see the root device (the booted system), or remove that grub.cfg',
      );
  }
  if (loader === 'systemd-boot' && !ctx.f.system.machineId)
    problem(
      ctx,
      'no-machine-id',
      `${ctx.f.host} has no /etc/machine-id, which names systemd-boot entries`,
      'run systemd-machine-id-setup on the host',
    );
  const changedUp = upstream.filter((c) => c.action !== 'noop');
  const out: Change[] = [];
  const differs: RenderedEntry[] = [];
  for (const e of entries) {
    const have = ctx.f.boot.entries.find((x) => x.id === e.id);
    const same =
      have &&
      (loader === 'systemd-boot' || loader === 'grubby'
        ? true
        : norm(have.title) === norm(e.title) && norm(have.options) === norm(e.cmdline));
    if (!have) differs.push(e);
    else if (!same) differs.push(e);
    out.push(
      change({
        id: entryChangeId(e.id),
        resource: 'boot-entry',
        action: !have ? 'create' : same ? 'noop' : 'update',
        before: have ? have.title : null,
        after: e.title,
        reason: !have
          ? `${loaderName(loader)} entry for ${e.release}`
          : same
            ? 'present'
            : norm(have.title) !== norm(e.title)
              ? `title was "${have.title}"`
              : `command line was "${norm(have.options)}"`,
      }),
    );
  }
  // One set of steps for all the release's entries: on the first change that is not a noop.
  const first = out.find((c) => c.action !== 'noop');
  if (first) {
    first.steps = entrySteps(ctx, entries, pruned);
    first.dependsOn = changedUp.map((c) => c.id);
  }
  return { changes: out, entries };
}

function whyExplicit(ctx: Ctx): string {
  return ctx.image
    ? `${ctx.f.host} is a root filesystem directory, where grub-mkconfig would probe the controller's disk`
    : `grub-probe cannot see the root device on ${ctx.f.host} (${ctx.f.boot.grub?.probe?.error ?? 'it failed'})`;
}

export function loaderName(mode: LoaderMode): string {
  return mode === 'grub-mkconfig' ? 'GRUB' : mode === 'grub-explicit' ? 'GRUB (explicit grub.cfg)' : mode;
}
