/**
 * What the GRUB drivers (grub-mkconfig, grub-explicit) share: where grubenv and grub.cfg are, the
 * one grub-mkconfig command line, the default pinned by id, and grub.cfg written in full.
 */
import { sameKernelArgs } from '../../facts/kernel-cmdline.js';
import type { BootEntry } from '../../facts/types.js';
import type { Step } from '../change.js';
import { GRUB_DEFAULT_CFG } from '../layout.js';
import { GRUB_CFG_HEADER, GRUB_DEFAULT_SAVED, INSTALL_GRUB_CFG, sh } from '../scripts.js';
import type { LoaderCtx, RenderedEntry } from './driver.js';
import { grubArgs, grubQuote } from './grub-quote.js';

/** The grubenv file and the editor for it (grub-editenv on Debian, grub2-editenv on Fedora). */
export function grubEnv(ctx: LoaderCtx): { file: string; editor: string } {
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

export function grubCfgPath(ctx: LoaderCtx): string {
  return (
    ctx.f.boot.grub?.cfg ??
    (grubEnv(ctx).file.startsWith('/boot/grub2/') ? '/boot/grub2/grub.cfg' : '/boot/grub/grub.cfg')
  );
}

/** Regenerate grub.cfg: update-grub where there is one, else grub-mkconfig (grub2-mkconfig) -o grub.cfg. */
export function grubMkconfigArgv(ctx: LoaderCtx): string[] {
  const t = ctx.f.boot.tools;
  if (t['update-grub']) return ['update-grub'];
  return [t['grub-mkconfig'] ? 'grub-mkconfig' : 'grub2-mkconfig', '-o', grubCfgPath(ctx)];
}

export function grubMkconfigStep(ctx: LoaderCtx): Step {
  const argv = grubMkconfigArgv(ctx);
  return { kind: 'run', title: argv.join(' '), argv, sudo: ctx.sudo };
}

/**
 * grub-mkconfig cannot run here: in a root filesystem directory it would probe the controller's
 * disk, and where grub-probe fails it stops. kernelfile writes grub.cfg itself (grub-explicit).
 */
export function grubNeedsExplicit(ctx: LoaderCtx): boolean {
  const probe = ctx.f.boot.grub?.probe;
  return ctx.image || (probe !== undefined && probe !== null && !probe.ok);
}

/** The default by id: saved_entry in grubenv. */
export function savedEntryStep(ctx: LoaderCtx, id: string): Step {
  const env = grubEnv(ctx);
  return {
    kind: 'run',
    title: `${env.editor} set saved_entry=${id}`,
    argv: [env.editor, env.file, 'set', `saved_entry=${id}`],
    sudo: ctx.sudo,
  };
}

/** What grub-reboot does: next_entry in grubenv, consumed by grub.cfg at the next boot. */
export function nextEntryStep(ctx: LoaderCtx, id: string): Step {
  const env = grubEnv(ctx);
  return {
    kind: 'run',
    title: `${env.editor} set next_entry=${id} (grub-reboot)`,
    argv: [env.editor, env.file, 'set', `next_entry=${id}`],
    sudo: ctx.sudo,
  };
}

export function grubDefaultSavedStep(ctx: LoaderCtx): Step {
  return {
    kind: 'write',
    title: `write ${GRUB_DEFAULT_CFG} (GRUB_DEFAULT=saved)`,
    path: GRUB_DEFAULT_CFG,
    content: GRUB_DEFAULT_SAVED,
    mode: 0o644,
    sudo: ctx.sudo,
  };
}

/**
 * GRUB_DEFAULT other than `saved` would let the menu decide (entry 0 on Debian boots the newest
 * kernel by version, which may be the one being installed): pin the current default by its id
 * first, so installing an entry never changes what boots. The same with GRUB_DEFAULT=saved when
 * the saved entry is missing or a menu position, or is Debian's top-level entry (it follows the
 * newest kernel too): a trial that falls back must land on the kernel that ran before.
 */
export function pinDefaultSteps(ctx: LoaderCtx): Step[] {
  const { f } = ctx;
  const current = f.boot.entries.find((e) => e.id === f.boot.default);
  if (f.boot.grub?.settings.GRUB_DEFAULT === 'saved' && !followsNewest(f, current)) return [];
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
      sudo: ctx.sudo,
    },
    ...(f.boot.grub?.settings.GRUB_DEFAULT === 'saved' ? [] : [grubDefaultSavedStep(ctx)]),
  ];
}

/**
 * With GRUB_DEFAULT=saved, the default still moves when a newer kernel is installed if grubenv
 * names no entry, names one by menu position, or names Debian's top-level entry (not in a submenu,
 * not kernelfile's, while the submenu lists the same release: that entry boots the newest kernel).
 */
function followsNewest(f: LoaderCtx['f'], current: BootEntry | undefined): boolean {
  const saved = f.boot.grub?.env.saved_entry;
  if (saved === undefined || saved === '' || /^\d+$/.test(saved)) return true;
  if (!current || current.submenu !== null || current.id.startsWith('kernelfile-')) return false;
  return f.boot.entries.some((e) => e.submenu !== null && e.release === current.release);
}

export const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();

/**
 * GRUB shows the title and command line kernelfile wrote: the same entry when the titles match and
 * the kernel gets the same arguments (grub.cfg holds them unquoted the kernel's way, see
 * kernel-cmdline.ts).
 */
export function sameGrubEntry(have: BootEntry, want: RenderedEntry): boolean {
  return norm(have.title) === norm(want.title) && sameKernelArgs(have.options, want.cmdline);
}

/** Entries kernelfile wrote for other releases that stay (for a grub.cfg written in full). */
export function keptEntries(ctx: LoaderCtx, pruned: ReadonlySet<string>): RenderedEntry[] {
  return ctx.f.boot.entries
    .filter(
      (e) => e.id.startsWith('kernelfile-') && e.release !== ctx.d.release && !pruned.has(e.release ?? ''),
    )
    .map((e) => ({
      id: e.id,
      release: e.release ?? '',
      title: e.title,
      cmdline: (e.options ?? '').trim(),
      linux: e.kernel ?? '',
      initrd: e.initrd[0] ?? null,
      default: false,
    }));
}

/**
 * grub.cfg written in full where grub-mkconfig cannot run (grub-explicit). Every value is a quoted
 * GRUB word (grub-quote.ts): a title, id, path or kernel argument never ends its command, opens a
 * block or expands a variable.
 */
export function explicitGrubCfg(entries: readonly RenderedEntry[]): string {
  const lines = [GRUB_CFG_HEADER.trimEnd()];
  for (const e of entries) {
    lines.push(
      `menuentry ${grubQuote(e.title)} --class gnu-linux --id ${grubQuote(e.id)} {`,
      `\tsearch --no-floppy --set=root --file ${grubQuote(e.linux)}`,
      `\tlinux\t${grubQuote(e.linux)} ${grubArgs(e.cmdline)}`.trimEnd(),
    );
    if (e.initrd) lines.push(`\tinitrd\t${grubQuote(e.initrd)}`);
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Write grub.cfg in full (kernelfile's entries for the releases that stay, then the new ones)
 * beside the old one, check it with the host's grub-script-check (when it has one), then rename it
 * over the old one: a grub.cfg GRUB cannot parse never replaces one it can.
 */
export function explicitCfgSteps(
  ctx: LoaderCtx,
  entries: readonly RenderedEntry[],
  pruned: ReadonlySet<string>,
  title: string,
): Step[] {
  const cfg = grubCfgPath(ctx);
  const next = `${cfg}.kf-check`;
  return [
    {
      kind: 'write',
      title,
      path: next,
      content: explicitGrubCfg([...keptEntries(ctx, pruned), ...entries]),
      mode: 0o644,
      sudo: ctx.sudo,
    },
    {
      kind: 'run',
      title: `grub-script-check the new ${cfg} and put it in place`,
      argv: sh(INSTALL_GRUB_CFG, next, cfg),
      sudo: ctx.sudo,
    },
  ];
}
