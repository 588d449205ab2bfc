/**
 * Help: each command's `--help` ends with examples (valid command lines) and its exit codes, from
 * src/cli/help.ts, which the man page and docs/cli.md are generated from (not stale); an unknown
 * command is an error with a did-you-mean, `help UNKNOWN` too.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  CLI_DOC_FILE,
  commands,
  MAN_FILE,
  manPage,
  program,
  withExitCodes,
} from '../../../scripts/cli-docs.js';
import { splitLine } from '../../../src/cli/complete.js';
import { COMMAND_HELP } from '../../../src/cli/help.js';
import { main } from '../../../src/cli/main.js';
import { STATE_EXIT, STATE_TEXT } from '../../../src/fleet/status.js';
import { fakeIo } from '../../helpers/io.js';

async function cli(...args: string[]) {
  const io = fakeIo('/nonexistent-dir');
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

const names = commands(program()).map((c) => c.name());

describe('examples and exit codes', () => {
  it('every command has 2 or 3 examples and its exit codes, 0 and 1 among them', () => {
    const missing = names.filter((n) => !COMMAND_HELP[n]);
    expect(missing, 'add them to COMMAND_HELP in src/cli/help.ts').toEqual([]);
    for (const n of names) {
      const h = COMMAND_HELP[n];
      expect(h?.examples.length, n).toBeGreaterThanOrEqual(2);
      expect(h?.examples.length, n).toBeLessThanOrEqual(3);
      expect(h?.exits.map(([c]) => c).slice(0, 2), n).toEqual(['0', '1']);
    }
    expect(Object.keys(COMMAND_HELP).filter((n) => !names.includes(n))).toEqual([]);
  });

  it.each(names)('the examples of %s are command lines it accepts', async (name) => {
    for (const { line } of COMMAND_HELP[name]?.examples ?? []) {
      // The command line itself: what the shell passes to kernelfile (no redirections, no `source <(…)`).
      const text = /kernelfile [^<>|)]*/.exec(line)?.[0] ?? '';
      const { words } = splitLine(`${text} `);
      expect(words[0]).toBe('kernelfile');
      expect(words[1]).toBe(name);
      const p = program();
      let ran: string | undefined;
      for (const c of p.commands)
        c.action(() => {
          ran = c.name();
        });
      p.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      await expect(p.parseAsync(['node', ...words]), line).resolves.toBeDefined();
      expect(ran).toBe(name);
    }
  });

  it.each(names)('%s --help ends with the examples and the exit codes', async (name) => {
    const r = await cli(name, '--help');
    expect(r.code).toBe(0);
    const h = COMMAND_HELP[name];
    const examples = r.out.indexOf('\nExamples:\n');
    const exits = r.out.indexOf('\nExit codes:\n');
    expect(examples).toBeGreaterThan(r.out.indexOf('Options:'));
    expect(exits).toBeGreaterThan(examples);
    for (const e of h?.examples ?? []) expect(r.out).toContain(`  # ${e.what}\n  ${e.line}\n`);
    for (const [code, meaning] of h?.exits ?? [])
      expect(r.out).toMatch(new RegExp(`\\n  ${code} +${meaning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  });

  it('status: the exit code of each host state (src/fleet/status.ts), in its help and in the table of docs/cli.md', () => {
    const exits = new Map(COMMAND_HELP.status?.exits);
    const doc = readFileSync(CLI_DOC_FILE, 'utf8');
    const table = doc.slice(doc.indexOf('## `status`'), doc.indexOf('## What `validate` checks'));
    for (const [state, code] of Object.entries(STATE_EXIT) as Array<[keyof typeof STATE_EXIT, number]>) {
      expect(exits.get(String(code))?.startsWith(`${STATE_TEXT[state]}: `), state).toBe(true);
      expect(table, state).toContain(`\n| ${STATE_TEXT[state]} | ${code} | `);
    }
  });
});

describe('generated files (run `npm run gen`)', () => {
  it('man/kernelfile.1 is the man page of these definitions', () => {
    expect(readFileSync(MAN_FILE, 'utf8')).toBe(manPage());
  });

  it('docs/cli.md holds the exit codes and environment of src/cli/help.ts', () => {
    const doc = readFileSync(CLI_DOC_FILE, 'utf8');
    expect(doc).toBe(withExitCodes(doc));
  });

  it('the man page has every command, option and example', () => {
    const page = manPage();
    const p: Command = program();
    for (const c of commands(p)) {
      expect(page).toContain(`.SS "kernelfile ${c.name()}`);
      for (const o of c.options) if (o.long && !o.hidden) expect(page).toContain(o.long.replace(/-/g, '\\-'));
      for (const e of COMMAND_HELP[c.name()]?.examples ?? [])
        expect(page).toContain(e.line.replace(/-/g, '\\-'));
    }
  });
});

describe('unknown commands', () => {
  it.each([
    [['plna'], "error: unknown command 'plna'\n(Did you mean plan?)\n"],
    [['help', 'plna'], "error: unknown command 'plna'\n(Did you mean plan?)\n"],
    [['help', 'xyzzy'], "error: unknown command 'xyzzy'\n"],
  ])('%j: exit 1, an error, not the help', async (args, err) => {
    const r = await cli(...args);
    expect(r.code).toBe(1);
    expect(r.err).toBe(err);
    expect(r.out).toBe('');
  });

  it("help COMMAND: that command's help, exit 0", async () => {
    const r = await cli('help', 'status');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: kernelfile status /);
    expect(r.out).toContain('\nExit codes:\n');
  });
});
