/**
 * What `kernelfile __complete` offers for the word being typed: read from the commander
 * definitions (commands, options, choices, argument kinds) and from files (~/.ssh/config, the
 * inventory on the line). The shells' side: test/integration/completion.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, program } from '../../../scripts/cli-docs.js';
import { type Completion, complete, completionLines, splitLine } from '../../../src/cli/complete.js';
import { main } from '../../../src/cli/main.js';
import { SHELLS } from '../../../src/render/completion.js';
import { fakeIo } from '../../helpers/io.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-complete-'));
  mkdirSync(join(dir, '.ssh'));
  writeFileSync(
    join(dir, '.ssh', 'config'),
    'Host web-1 web-2 *.corp !bastion\n  User root\nHost\tdb-1\nMatch host x exec "false"\n  User y\nHost "two words"\n',
  );
  writeFileSync(join(dir, 'other-ssh-config'), 'Host lab\n');
  writeFileSync(
    join(dir, 'inventory.yml'),
    'web:\n  hosts:\n    web-1:\n    web-2:\ndb:\n  children:\n    db-primary:\n      hosts:\n        db-1:\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The completion of the last word of `line` (everything before it typed). */
function at(line: string): Completion {
  const { words, current } = splitLine(line);
  return complete(program(), words, current, { cwd: dir, home: dir });
}
const candidates = (line: string) => at(line).candidates;

describe('splitLine', () => {
  it.each([
    ['kernelfile plan --host ', ['kernelfile', 'plan', '--host'], ''],
    ['kernelfile plan --ho', ['kernelfile', 'plan'], '--ho'],
    ["kernelfile validate 'my file", ['kernelfile', 'validate'], 'my file'],
    ['kernelfile validate "a \\"b\\" c" x\\ y', ['kernelfile', 'validate', 'a "b" c'], 'x y'],
    ["kernelfile validate '' ", ['kernelfile', 'validate', ''], ''],
    ['kernelfile plan --limit $WEB:~x', ['kernelfile', 'plan', '--limit'], '$WEB:~x'],
  ])('%j', (line, words, current) => {
    expect(splitLine(line)).toEqual({ words, current });
  });
});

describe('commands and options, from the definitions', () => {
  it('the commands (and help), filtered by what is typed', () => {
    expect(candidates('kernelfile ')).toEqual([...commands(program()).map((c) => c.name()), 'help']);
    expect(candidates('kernelfile st')).toEqual(['status']);
    expect(candidates('kernelfile help ro')).toEqual(['rollback']);
    expect(candidates('kernelfile -v --debug pl')).toEqual(['plan']);
  });

  it.each(commands(program()).map((c) => c.name()))('every option of %s, and the global ones', (name) => {
    const p = program();
    const cmd = p.commands.find((c) => c.name() === name);
    const longs = cmd?.options.filter((o) => !o.hidden && o.long).map((o) => o.long) ?? [];
    const offered = candidates(`kernelfile ${name} --`);
    expect(offered).toEqual(
      expect.arrayContaining([...longs, '--help', '--verbose', '--debug', '--no-color']),
    );
    expect(offered.every((o) => o.startsWith('--'))).toBe(true);
  });

  it('an option given once is not offered again, a repeatable one is', () => {
    expect(candidates('kernelfile plan --json --js')).toEqual([]);
    expect(candidates('kernelfile plan -i a --iden')).toEqual(['--identity']);
    expect(candidates('kernelfile plan --known-hosts a --known')).toEqual(['--known-hosts']);
  });

  it("an option's choices, after a space or an `=`", () => {
    expect(candidates('kernelfile plan --format ')).toEqual(['text', 'json', 'markdown']);
    expect(at('kernelfile plan --config-diff=f')).toEqual({
      directive: { kind: 'none' },
      prefix: '--config-diff=',
      value: 'f',
      candidates: ['--config-diff=full'],
    });
    expect(candidates('kernelfile verify --accel ')).toEqual(['auto', 'kvm', 'tcg']);
    expect(candidates('kernelfile completion ')).toEqual([...SHELLS]); // the scripts there are
  });

  it('arguments: kernelfiles (and saved plans for apply); nothing after the last one or after an unknown command', () => {
    expect(at('kernelfile validate k').directive).toEqual({ kind: 'files', ext: ['yaml', 'yml'] });
    expect(at('kernelfile apply ').directive).toEqual({ kind: 'files', ext: ['yaml', 'yml', 'json'] });
    expect(at('kernelfile -- plan ').directive).toEqual({ kind: 'files', ext: ['yaml', 'yml'] });
    expect(at('kernelfile validate a.yaml ')).toEqual({
      directive: { kind: 'none' },
      prefix: '',
      value: '',
      candidates: [],
    });
    expect(at('kernelfile frobnicate ')).toEqual({
      directive: { kind: 'none' },
      prefix: '',
      value: '',
      candidates: [],
    });
    expect(at('kernelfile facts ').candidates).toEqual([]);
  });

  it('files and directories for the options that take them', () => {
    expect(at('kernelfile plan --inventory ').directive).toEqual({ kind: 'files', ext: [] });
    expect(at('kernelfile plan --out=pl')).toMatchObject({
      directive: { kind: 'files', ext: [] },
      prefix: '--out=',
      value: 'pl',
    });
    expect(at('kernelfile keygen --out ').directive).toEqual({ kind: 'dirs' });
    expect(at('kernelfile plan --parallel ').directive).toEqual({ kind: 'none' });
  });
});

describe('names from files', () => {
  it('--host: local and the ssh config Host entries naming one host; root: then directories', () => {
    expect(candidates('kernelfile plan --host ')).toEqual(['local', 'web-1', 'web-2', 'db-1']);
    expect(candidates('kernelfile plan --host w')).toEqual(['web-1', 'web-2']);
    expect(candidates('kernelfile plan --ssh-config other-ssh-config --host ')).toEqual(['local']);
    expect(candidates(`kernelfile plan --ssh-config ${join(dir, 'other-ssh-config')} --host `)).toEqual([
      'local',
      'lab',
    ]);
    expect(candidates('kernelfile plan --ssh-config none --host ')).toEqual(['local']);
    expect(at('kernelfile plan --host root:/sr')).toEqual({
      directive: { kind: 'dirs' },
      prefix: 'root:',
      value: '/sr',
      candidates: [],
    });
  });

  it('--limit: groups and hosts of the --inventory on the line, the last piece of a pattern', () => {
    const inv = 'kernelfile plan --inventory inventory.yml --limit';
    expect(candidates(`${inv} `)).toEqual([
      'all',
      'ungrouped',
      'web',
      'db',
      'db-primary',
      'web-1',
      'web-2',
      'db-1',
    ]);
    expect(candidates(`${inv} db`)).toEqual(['db', 'db-primary', 'db-1']);
    expect(candidates(`${inv} web:!w`)).toEqual(['web:!web', 'web:!web-1', 'web:!web-2']);
    expect(candidates(`${inv} web,&db-p`)).toEqual(['web,&db-primary']);
    expect(candidates(`${inv}=web-`)).toEqual(['--limit=web-1', '--limit=web-2']);
    expect(candidates('kernelfile plan --limit web --inventory inventory.yml --limit ')).toContain('web-1');
    expect(candidates('kernelfile plan --limit w')).toEqual([]);
    expect(candidates('kernelfile plan --inventory missing.yml --limit w')).toEqual([]);
  });
});

describe('what the scripts read', () => {
  it('directive, prefix, value, then candidates; for bash cut after the last `:` or `=`', () => {
    const c = at('kernelfile plan --inventory inventory.yml --limit web:!w');
    expect(completionLines(c, 'web:!w', 'zsh')).toEqual([
      'none',
      'web:!',
      'w',
      'web:!web',
      'web:!web-1',
      'web:!web-2',
    ]);
    expect(completionLines(c, 'web:!w', 'bash')).toEqual(['none', 'web:!', 'w', '!web', '!web-1', '!web-2']);
    expect(completionLines(at('kernelfile apply '), '', 'fish')).toEqual(['files yaml yml json', '', '']);
  });

  it('kernelfile __complete: through main, before any command runs', async () => {
    const io = fakeIo(dir, { env: { HOME: dir } });
    expect(await main(['node', 'kernelfile', '__complete', 'bash', 'kernelfile plan --host=w'], io)).toBe(0);
    expect(io.stdout).toBe('none\n--host=\nw\nweb-1\nweb-2\n');
    expect(io.stderr).toBe('');
    const fish = fakeIo(dir, { env: { HOME: dir } });
    await main(['node', 'kernelfile', '__complete', 'fish', 'kernelfile', 'status', '--js'], fish);
    expect(fish.stdout).toBe('none\n\n--js\n--json\n');
  });

  it('__complete is not a command the help lists', async () => {
    const io = fakeIo(dir);
    await main(['node', 'kernelfile', '--help'], io);
    expect(io.stdout).toContain('completion');
    expect(io.stdout).not.toContain('__complete');
  });
});
