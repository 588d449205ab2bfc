/**
 * grub.cfg as grub-mkconfig writes it: `menuentry`/`submenu` blocks with their titles and ids
 * (`--id X`, `--id=X`, or Debian's `$menuentry_id_option 'X'`), the `linux`/`initrd` lines inside,
 * the `set default=…` of the header, and where `blscfg` (Fedora/RHEL) inserts the BLS entries.
 * Conditionals cannot be evaluated: every entry found is listed, in file order.
 */
import { cmdlineFromWords } from './kernel-cmdline.js';
import { shellWords } from './shell-words.js';

export interface GrubMenuEntry {
  kind: 'entry';
  title: string;
  id: string | null;
  kernel: string | null;
  initrd: string[];
  options: string | null;
}
export interface GrubSubmenu {
  kind: 'submenu';
  title: string;
  id: string | null;
  items: GrubItem[];
}
/** The place where `blscfg` adds the BLS entries to the menu. */
export interface GrubBlscfg {
  kind: 'blscfg';
}
export type GrubItem = GrubMenuEntry | GrubSubmenu | GrubBlscfg;

export interface GrubCfg {
  items: GrubItem[];
  blscfg: boolean;
  /**
   * The first `set default=` outside menu entries, other than the next_entry branch: 00_header's.
   * Later ones are conditional overrides (Fedora's 08_fallback_counting sets default=1 when a boot
   * counter runs out), which cannot be evaluated here.
   */
  default: string | null;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: GRUB script text, not a template
const ID_OPTIONS = new Set(['--id', '$menuentry_id_option', '${menuentry_id_option}']);
const OPTIONS_WITH_ARG = new Set(['--class', '--users', '--hotkey', '--source']);

function header(words: string[]): { title: string; id: string | null } {
  let id: string | null = null;
  for (let i = 2; i < words.length - 1; i++) {
    const w = words[i] as string;
    if (ID_OPTIONS.has(w)) id = words[++i] ?? null;
    else if (w.startsWith('--id=')) id = w.slice('--id='.length);
    else if (OPTIONS_WITH_ARG.has(w)) i++;
  }
  return { title: words[1] ?? '', id: id === '' || id === '{' ? null : id };
}

type Frame =
  | { kind: 'entry'; entry: GrubMenuEntry }
  | { kind: 'submenu'; menu: GrubSubmenu }
  | { kind: 'other' };

export function parseGrubCfg(text: string): GrubCfg {
  const top: GrubItem[] = [];
  const stack: Frame[] = [];
  const out: GrubCfg = { items: top, blscfg: false, default: null };
  const container = (): GrubItem[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const f = stack[i] as Frame;
      if (f.kind === 'submenu') return f.menu.items;
    }
    return top;
  };
  const inside = (): Frame | undefined => stack[stack.length - 1];
  for (const line of text.split('\n')) {
    const words = shellWords(line);
    const first = words[0];
    if (first === undefined) continue;
    const opens = words[words.length - 1] === '{';
    const frame = inside();
    if (first === '}') {
      stack.pop();
    } else if ((first === 'menuentry' || first === 'submenu') && opens && frame?.kind !== 'entry') {
      const { title, id } = header(words);
      if (first === 'menuentry') {
        const entry: GrubMenuEntry = { kind: 'entry', title, id, kernel: null, initrd: [], options: null };
        container().push(entry);
        stack.push({ kind: 'entry', entry });
      } else {
        const menu: GrubSubmenu = { kind: 'submenu', title, id, items: [] };
        container().push(menu);
        stack.push({ kind: 'submenu', menu });
      }
    } else if (opens) {
      stack.push({ kind: 'other' });
    } else if (frame?.kind === 'entry') {
      if (/^linux(16|efi)?$/.test(first)) {
        frame.entry.kernel = words[1] ?? null;
        frame.entry.options = words.length > 2 ? cmdlineFromWords(words.slice(2)) : null;
      } else if (/^initrd(16|efi)?$/.test(first)) frame.entry.initrd.push(...words.slice(1));
    } else if (first === 'blscfg' && !stack.some((f) => f.kind === 'other')) {
      out.blscfg = true;
      container().push({ kind: 'blscfg' });
    } else if (first === 'set' && words[1]?.startsWith('default=') && frame === undefined) {
      const value = words[1].slice('default='.length);
      if (out.default === null && !/^\$\{?next_entry\}?$/.test(value)) out.default = value;
    }
  }
  return out;
}

/** grubenv: `# GRUB Environment Block`, `key=value` lines (`\\` and `\n` escaped), `#` padding. */
export function parseGrubenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq)] = line.slice(eq + 1).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}
