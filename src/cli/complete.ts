/**
 * `kernelfile __complete SHELL …` (hidden): the candidates the completion scripts of
 * `kernelfile completion SHELL` (src/render/completion.ts) ask for on each Tab. Commands, options,
 * option choices and argument kinds come from the commander definitions themselves (one source);
 * names come from files only (~/.ssh/config, the `--inventory` on the line: engine/completion.ts).
 * It runs on every Tab: loaded alone by main.ts, it reads a file or two and never loads the
 * transports, listr2 or execa, and never connects to or runs anything.
 *
 * Output, one item a line: the directive (`none`; `files [EXT…]`: files (with one of these
 * extensions) and directories; `dirs`), the prefix of the current word kept before the value
 * (`--host=`, `web,`), the value typed so far (for the shell's own file completion), then the
 * candidates, each a whole current word (for bash: the part after the last `:` or `=`, which bash
 * completes as a word of its own).
 */
import { homedir } from 'node:os';
import type { Command, Option } from 'commander';
import { inventoryNames, sshConfigHosts } from '../engine/completion.js';
import type { Io } from './io.js';

export type Directive = { kind: 'none' } | { kind: 'files'; ext: string[] } | { kind: 'dirs' };

export interface Completion {
  directive: Directive;
  /** Kept before the value in the current word: `--host=`, `web,` (a --limit pattern's earlier pieces). */
  prefix: string;
  /** The current word after the prefix, unquoted. */
  value: string;
  /** Whole current words (prefix + value completed), those that start with the current word. */
  candidates: string[];
}

/**
 * The words of a command line up to the cursor, unquoted as sh reads them (`'…'`, `"…"`, `\`),
 * and the word being typed (empty after a space). Nothing is expanded: `$x` and `~` stay as written.
 */
export function splitLine(line: string): { words: string[]; current: string } {
  const words: string[] = [];
  // null between words; inside one, what it reads as so far.
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    const next = line[i + 1];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word = `${word ?? ''}${c}`;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && next !== undefined && '$`"\\'.includes(next)) {
        word = `${word ?? ''}${next}`;
        i++;
      } else word = `${word ?? ''}${c}`;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\') {
      word = `${word ?? ''}${next ?? ''}`;
      i++;
    } else word = `${word ?? ''}${c}`;
  }
  return { words, current: word ?? '' };
}

const takesValue = (o: Option) => o.required || o.optional;
/** The placeholder of an option's value: `--inventory <file>` → `file`. */
const placeholder = (o: Option) => /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? '';

function findOption(options: readonly Option[], flag: string): Option | undefined {
  return options.find((o) => o.long === flag || o.short === flag);
}

export interface CompleteEnv {
  cwd: string;
  home: string;
}

/** What to offer for the word being typed, given the words before it (the program first). */
export function complete(
  program: Command,
  words: readonly string[],
  current: string,
  env: CompleteEnv,
): Completion {
  const help = program.createHelp();
  const globals = help.visibleOptions(program);
  let cmd: Command | undefined;
  let positional = 0;
  let pending: Option | undefined;
  let dashDash = false;
  const given = new Set<Option>();
  const values = new Map<string, string>();
  const optionsNow = () => [...(cmd ? help.visibleOptions(cmd) : []), ...globals];
  for (const w of words.slice(1)) {
    if (pending) {
      values.set(pending.attributeName(), w);
      pending = undefined;
    } else if (!dashDash && w === '--') dashDash = true;
    else if (!dashDash && w.startsWith('-') && w !== '-') {
      const eq = w.indexOf('=');
      const o = findOption(optionsNow(), eq > 0 ? w.slice(0, eq) : w);
      if (!o) continue;
      given.add(o);
      if (eq > 0) values.set(o.attributeName(), w.slice(eq + 1));
      else if (takesValue(o)) pending = o;
    } else if (!cmd) {
      cmd = help.visibleCommands(program).find((c) => c.name() === w || c.aliases().includes(w));
      if (!cmd) return none(current); // an unknown command: nothing to offer
    } else positional++;
  }
  const offer = (
    prefix: string,
    value: string,
    names: readonly string[],
    directive: Directive = { kind: 'none' },
  ) => ({
    directive,
    prefix,
    value,
    candidates: [...new Set(names)].map((n) => prefix + n).filter((n) => n.startsWith(current)),
  });
  const optionValue = (o: Option, prefix: string, value: string): Completion => {
    if (o.argChoices) return offer(prefix, value, o.argChoices);
    switch (placeholder(o)) {
      case 'host': {
        if (value.startsWith('root:')) return offer(`${prefix}root:`, value.slice(5), [], { kind: 'dirs' });
        const config = values.get('sshConfig') ?? `${env.home}/.ssh/config`;
        return offer(prefix, value, ['local', ...(config === 'none' ? [] : sshConfigHosts(config))]);
      }
      case 'pattern':
        return limitCandidates(prefix, value, values.get('inventory'), env, offer);
      case 'file':
      case 'path':
        return offer(prefix, value, [], { kind: 'files', ext: [] });
      case 'dir':
        return offer(prefix, value, [], { kind: 'dirs' });
      default:
        return offer(prefix, value, []);
    }
  };
  if (pending) return optionValue(pending, '', current);
  if (!dashDash && current.startsWith('--') && current.includes('=')) {
    const eq = current.indexOf('=');
    const o = findOption(optionsNow(), current.slice(0, eq));
    return o && takesValue(o)
      ? optionValue(o, current.slice(0, eq + 1), current.slice(eq + 1))
      : none(current);
  }
  if (!dashDash && current.startsWith('-')) {
    // Options not given yet; those with a parser of their own (repeatable: -i, --known-hosts, -v) again.
    const options = optionsNow().filter((o) => !given.has(o) || o.parseArg !== undefined);
    return offer(
      '',
      current,
      options.flatMap((o) => (o.long ? [o.long] : o.short ? [o.short] : [])),
    );
  }
  if (!cmd || cmd.name() === 'help')
    return offer(
      '',
      current,
      cmd
        ? help
            .visibleCommands(program)
            .map((c) => c.name())
            .filter((n) => n !== 'help')
        : help.visibleCommands(program).map((c) => c.name()),
    );
  const args = cmd.registeredArguments;
  const arg = args[Math.min(positional, args.length - 1)];
  if (!arg || (positional >= args.length && !arg.variadic)) return none(current);
  if (arg.argChoices) return offer('', current, arg.argChoices);
  if (/file|plan/.test(arg.name()))
    return offer('', current, [], {
      kind: 'files',
      ext: ['yaml', 'yml', ...(/plan/.test(arg.name()) ? ['json'] : [])],
    });
  return none(current);
}

function none(current: string): Completion {
  return { directive: { kind: 'none' }, prefix: '', value: current, candidates: [] };
}

/**
 * `--limit` (Ansible patterns): the last piece after `,` or `:`, with its `!` or `&`, completed
 * from the host and group names of the `--inventory` given on the line.
 */
function limitCandidates(
  prefix: string,
  value: string,
  inventory: string | undefined,
  env: CompleteEnv,
  offer: (prefix: string, value: string, names: readonly string[]) => Completion,
): Completion {
  const cut = Math.max(value.lastIndexOf(','), value.lastIndexOf(':')) + 1;
  const op = /^[!&]/.test(value.slice(cut)) ? 1 : 0;
  const head = value.slice(0, cut + op);
  if (inventory === undefined) return offer(prefix + head, value.slice(head.length), []);
  const { hosts, groups } = inventoryNames(inventory, env.cwd);
  return offer(prefix + head, value.slice(head.length), [...groups, ...hosts]);
}

/** The lines `__complete` prints; for bash, candidates cut after the last `:` or `=` of the word. */
export function completionLines(c: Completion, current: string, shell: string): string[] {
  const d = c.directive;
  const directive = d.kind === 'files' ? ['files', ...d.ext].join(' ') : d.kind;
  const cut = shell === 'bash' ? Math.max(current.lastIndexOf(':'), current.lastIndexOf('=')) + 1 : 0;
  return [directive, c.prefix, c.value, ...c.candidates.map((x) => x.slice(cut))];
}

/**
 * `__complete bash LINE` (the line up to the cursor: bash splits words at `:` and `=`, so
 * kernelfile splits the line itself), `__complete zsh|fish WORD… CURRENT` (the shell's words,
 * unquoted, the word being typed last).
 */
export function runComplete(program: Command, args: readonly string[], io: Io): void {
  const [shell, ...rest] = args;
  const { words, current } =
    shell === 'bash' ? splitLine(rest[0] ?? '') : { words: rest.slice(0, -1), current: rest.at(-1) ?? '' };
  if (words.length === 0) return;
  const c = complete(program, words, current, { cwd: io.cwd, home: io.env.HOME ?? homedir() });
  io.out(`${completionLines(c, current, shell ?? '').join('\n')}\n`);
}
