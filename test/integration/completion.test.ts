/**
 * Shell completion as a shell runs it: the script of `kernelfile completion bash` sourced into a
 * real bash, its function called as bash calls it on Tab (COMP_LINE, COMP_POINT, COMP_WORDS,
 * COMP_CWORD), the candidates it leaves in COMPREPLY; fish's own `complete -C`; zsh and fish read
 * the scripts without a syntax error. The CLI is the bundle as installed (bundled here into a
 * directory of the test's own), and each Tab is checked to load none of the transports, listr2 or
 * execa.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli, ROOT } from '../../scripts/bundle.js';

let work: string;
let probe: string;
let bin: string;
let meta: Metafile;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kf-completion-'));
  // Two levels below the package root, as the bundle requires (src/cli/package-root.ts).
  probe = join(ROOT, '.cache', `completion-probe-${process.pid}`);
  meta = await bundleCli(probe, false, true);
  writeFileSync(join(probe, 'run.cjs'), "require('./kernelfile.cjs').runCli();\n");
  bin = join(work, 'bin');
  mkdirSync(bin);
  writeFileSync(
    join(bin, 'kernelfile'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(probe, 'run.cjs'))} "$@"\n`,
  );
  chmodSync(join(bin, 'kernelfile'), 0o755);
  // A project: kernelfiles, a saved plan, other files, a directory; an inventory; an ssh config.
  const p = join(work, 'project');
  mkdirSync(join(p, 'kernels'), { recursive: true });
  for (const f of ['kernelfile.yaml', 'edge.yml', 'plan.json', 'notes.txt']) writeFileSync(join(p, f), '');
  writeFileSync(
    join(p, 'inventory.yml'),
    'web:\n  hosts:\n    web-1:\n    web-2:\ndb:\n  hosts:\n    db-1:\n    db-2:\n',
  );
  mkdirSync(join(work, 'home', '.ssh'), { recursive: true });
  writeFileSync(
    join(work, 'home', '.ssh', 'config'),
    'Host build-box web-*.corp !jump\n  User root\nHost db.example.org\nMatch host x exec "touch pwned"\n  User y\n',
  );
}, 120_000);
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  if (probe) rmSync(probe, { recursive: true, force: true });
});

const env = () => ({ PATH: `${bin}:${process.env.PATH}`, HOME: join(work, 'home'), LC_ALL: 'C' });

/** What bash's completion function leaves in COMPREPLY for `line` (the cursor at its end). */
function bash(line: string, words: string[]): string[] {
  const script = [
    'set -u',
    'source <(kernelfile completion bash)',
    'complete -p kernelfile >/dev/null || exit 3',
    `COMP_LINE=${JSON.stringify(line)}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
    'COMP_POINT=${#COMP_LINE}',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_kernelfile',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
    cwd: join(work, 'project'),
    env: env(),
    encoding: 'utf8',
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('bash', () => {
  it('commands, then the options of the command', () => {
    expect(bash('kernelfile pl', ['kernelfile', 'pl'])).toEqual(['plan']);
    expect(bash('kernelfile s', ['kernelfile', 's'])).toEqual(['schema', 'status']);
    expect(bash('kernelfile plan --fo', ['kernelfile', 'plan', '--fo'])).toEqual(['--format']);
    expect(bash('kernelfile status --', ['kernelfile', 'status', '--'])).toContain('--inventory');
    expect(bash('kernelfile status --', ['kernelfile', 'status', '--'])).not.toContain('--format');
  });

  it("an option's choices; an option already given is not offered again", () => {
    expect(bash('kernelfile plan --format m', ['kernelfile', 'plan', '--format', 'm'])).toEqual(['markdown']);
    expect(bash('kernelfile plan --json --js', ['kernelfile', 'plan', '--json', '--js'])).toEqual([]);
  });

  it('kernelfiles: *.yaml, *.yml and directories; apply takes a saved plan (*.json) too', () => {
    expect(bash('kernelfile validate ', ['kernelfile', 'validate', ''])).toEqual([
      'edge.yml',
      'inventory.yml',
      'kernelfile.yaml',
      'kernels',
    ]);
    expect(bash('kernelfile apply ', ['kernelfile', 'apply', ''])).toContain('plan.json');
    expect(bash('kernelfile apply ', ['kernelfile', 'apply', ''])).not.toContain('notes.txt');
  });

  it('--host: local and the Host entries of ~/.ssh/config that name one host (nothing run)', () => {
    expect(bash('kernelfile plan --host ', ['kernelfile', 'plan', '--host', ''])).toEqual([
      'build-box',
      'db.example.org',
      'local',
    ]);
    // bash splits `--host=lo` at `=`: the candidates are for the part after it.
    expect(bash('kernelfile plan --host=lo', ['kernelfile', 'plan', '--host', '=', 'lo'])).toEqual(['local']);
    expect(readFileSync(join(work, 'home', '.ssh', 'config'), 'utf8')).toContain('exec'); // read, never run:
    expect(spawnSync('test', ['-e', join(work, 'project', 'pwned')]).status).toBe(1);
  });

  it('--limit: the groups and hosts of the --inventory on the line, piece by piece', () => {
    expect(
      bash('kernelfile plan --inventory inventory.yml --limit w', [
        'kernelfile',
        'plan',
        '--inventory',
        'inventory.yml',
        '--limit',
        'w',
      ]),
    ).toEqual(['web', 'web-1', 'web-2']);
    // `web:!d`: bash splits at `:`, the word completed is `!d`.
    expect(
      bash('kernelfile apply --inventory inventory.yml --limit web:!d', [
        'kernelfile',
        'apply',
        '--inventory',
        'inventory.yml',
        '--limit',
        'web',
        ':',
        '!d',
      ]),
    ).toEqual(['!db', '!db-1', '!db-2']);
    expect(bash('kernelfile plan --limit w', ['kernelfile', 'plan', '--limit', 'w'])).toEqual([]);
  });

  it('directories for a directory option, files for a file option', () => {
    expect(bash('kernelfile keygen --out ', ['kernelfile', 'keygen', '--out', ''])).toEqual(['kernels']);
    expect(bash('kernelfile plan --out n', ['kernelfile', 'plan', '--out', 'n'])).toEqual(['notes.txt']);
  });

  it('the shells of `completion`', () => {
    expect(bash('kernelfile completion ', ['kernelfile', 'completion', ''])).toEqual(['bash', 'fish', 'zsh']);
  });
});

describe('each Tab', () => {
  it('runs the completion and inventory modules, never the transports, listr2 or execa', () => {
    // The probe bundle's modules record themselves when they run (bundleCli's trace): written at exit.
    const trace = join(work, 'ran.json');
    const register = join(work, 'record.cjs');
    writeFileSync(
      register,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(trace)}, JSON.stringify(globalThis.__kfModules ?? [])));\n`,
    );
    const r = spawnSync(
      process.execPath,
      [
        '--require',
        register,
        join(probe, 'run.cjs'),
        '__complete',
        'bash',
        'kernelfile plan --inventory inventory.yml --limit w',
      ],
      { cwd: join(work, 'project'), env: env(), encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toContain('web-1');
    const ran = JSON.parse(readFileSync(trace, 'utf8')) as string[];
    // Every module that ran is one of the bundle's sources.
    expect(ran.filter((m) => !(m in meta.inputs))).toEqual([]);
    expect(ran).toContain('src/cli/complete.ts');
    expect(ran).toContain('src/fleet/inventory.ts');
    const heavy = ran.filter((i) =>
      /node_modules\/(ssh2|listr2|execa|cpu-features)\/|src\/host\/(ssh|local|chroot)\.ts/.test(i),
    );
    expect(heavy).toEqual([]);
  });
});

describe('fish', () => {
  const fish = spawnSync('fish', ['--version']).status === 0;

  it.runIf(fish)('the script reads without a syntax error', () => {
    const script = spawnSync(join(bin, 'kernelfile'), ['completion', 'fish'], {
      env: env(),
      encoding: 'utf8',
    }).stdout;
    writeFileSync(join(work, 'kernelfile.fish'), script);
    const r = spawnSync('fish', ['-n', join(work, 'kernelfile.fish')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(fish)('complete -C: commands, choices, files, hosts', () => {
    const complete = (line: string) => {
      const r = spawnSync(
        'fish',
        ['--no-config', '-c', `kernelfile completion fish | source; complete -C ${JSON.stringify(line)}`],
        { cwd: join(work, 'project'), env: env(), encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0])
        .sort();
    };
    expect(complete('kernelfile pl')).toEqual(['plan']);
    expect(complete('kernelfile plan --config-diff f')).toEqual(['full']);
    expect(complete('kernelfile validate ')).toEqual([
      'edge.yml',
      'inventory.yml',
      'kernelfile.yaml',
      'kernels/',
    ]);
    expect(complete('kernelfile plan --host ')).toEqual(['build-box', 'db.example.org', 'local']);
    expect(complete('kernelfile plan --inventory inventory.yml --limit web,d')).toEqual([
      'web,db',
      'web,db-1',
      'web,db-2',
    ]);
  });
});

describe('zsh', () => {
  const zsh = spawnSync('zsh', ['--version']).status === 0;

  it.runIf(zsh)('the script reads without a syntax error', () => {
    const script = spawnSync(join(bin, 'kernelfile'), ['completion', 'zsh'], {
      env: env(),
      encoding: 'utf8',
    }).stdout;
    writeFileSync(join(work, '_kernelfile'), script);
    const r = spawnSync('zsh', ['-n', join(work, '_kernelfile')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  /**
   * The function run by zsh with the completion system's words, CURRENT and PREFIX, and its
   * builtins compadd, compset and _files recorded instead of run (no terminal needed).
   */
  function zshComplete(words: string[], prefix: string): string[] {
    const script = [
      'compdef() { : }',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a template
      'compadd() { local i=${@[(i)--]}; print -r -- "compadd ${(j: :)@[i+1,-1]}" }',
      'compset() { print -r -- "compset $*" }',
      '_files() { print -r -- "_files $*" }',
      'source <(kernelfile completion zsh)',
      `words=(${words.map((w) => `'${w}'`).join(' ')} '${prefix}')`,
      `CURRENT=${words.length + 1}`,
      `PREFIX='${prefix}'`,
      '_kernelfile',
    ].join('\n');
    const r = spawnSync('zsh', ['-f', '-c', script], {
      cwd: join(work, 'project'),
      env: env(),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trimEnd());
  }

  it.runIf(zsh)('candidates through compadd; files and directories through _files', () => {
    expect(zshComplete(['kernelfile'], 'pl')).toEqual(['compadd plan']);
    expect(zshComplete(['kernelfile', 'plan', '--host'], '')).toEqual([
      'compadd local build-box db.example.org',
    ]);
    expect(zshComplete(['kernelfile', 'plan', '--inventory', 'inventory.yml', '--limit'], 'web,!d')).toEqual([
      'compadd web,!db web,!db-1 web,!db-2',
    ]);
    expect(zshComplete(['kernelfile', 'apply'], '')).toEqual(['compset -P', '_files -g *.(yaml|yml|json)']);
    expect(zshComplete(['kernelfile', 'plan'], '--inventory=in')).toEqual([
      'compset -P --inventory=',
      '_files',
    ]);
    expect(zshComplete(['kernelfile', 'keygen', '--out'], '')).toEqual(['compset -P', '_files -/']);
  });
});
