/**
 * kernelfile's reading of Ansible inventories cross-checked with Ansible itself on this machine,
 * when it is installed (the unit tests compare with the recorded output, scripts/record-ansible.ts):
 * - every fixture (test/fixtures/inventory/*.yml, *.ini) and fixture directory (with group_vars/
 *   and host_vars/, test/fixtures/inventory-dirs/) against `ansible-inventory --list`;
 * - generated INI inventories (sections in any order, ranges, ports, values of every kind, vars
 *   sections, group_vars/ and host_vars/ files) against `ansible-inventory --list`;
 * - the recorded Python literals, and thousands of generated texts, against the INI plugin's own
 *   value parser; host lines split against Python's shlex.
 * Split from the unit tests: it starts ansible-inventory and python3.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/engine/errors.js';
import { loadInventory } from '../../src/engine/inventory.js';
import { type Inventory, parseInventory } from '../../src/fleet/inventory.js';
import { shlexSplit } from '../../src/fleet/inventory-ini.js';
import { literalEval } from '../../src/fleet/python-literal.js';
import {
  ansibleInventoryList,
  ansiblePython,
  onPath,
  pythonLiterals,
  type RecordedLiteral,
} from '../helpers/ansible-reference.js';
import { ansibleList, canonical } from '../unit/fleet/ansible-list.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/inventory/', import.meta.url));
const DIRS = fileURLToPath(new URL('../fixtures/inventory-dirs/', import.meta.url));
const fixtures = readdirSync(FIXTURES)
  .filter((f) => /\.(yml|ini)$/.test(f))
  .sort();
const dirs = readdirSync(DIRS).sort();

const tmp = mkdtempSync(join(tmpdir(), 'kf-ansible-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function fixture(name: string): Inventory {
  const r = parseInventory(readFileSync(join(FIXTURES, name), 'utf8'), `inventory/${name}`);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.value;
}

function inventoryOf(dir: string): string {
  const [f] = readdirSync(dir).filter((x) => x !== 'ansible.json' && statSync(join(dir, x)).isFile());
  return join(dir, f as string);
}

/** A small deterministic generator (mulberry32), so a failure can be reproduced from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)] as T;
}

function texts(seed: number, count: number, atoms: readonly string[], maxLen: number): string[] {
  const r = random(seed);
  const out = new Set<string>();
  while (out.size < count) {
    const n = 1 + Math.floor(r() * maxLen);
    let s = '';
    for (let i = 0; i < n; i++) s += pick(r, atoms);
    out.add(s);
  }
  return [...out];
}

function ours(text: string): RecordedLiteral {
  const v = literalEval(text);
  if (v.kind === 'value') return { text, kind: 'value', value: JSON.parse(JSON.stringify(v.value)) };
  return { text, kind: v.kind };
}

const HOST_VALUES = [
  '1',
  '-2',
  '0x1f',
  '07',
  '1.5',
  '1e3',
  'True',
  'None',
  'yes',
  'ops',
  '~/.ssh/id',
  '10.0.0.1',
  '"\'quoted\'"',
  '"[1, \'a\', None]"',
  '"{\'k\': (1, 2)}"',
  '"a b"',
  "'x y'",
  'a\\ b',
  '"{{ x }}"',
  '',
  'a=b',
];
const GROUP_VALUES = [
  '1',
  'abc',
  '23 # comment',
  'abc # kept',
  "'q'",
  '[1, 2]',
  "{'a': [None]}",
  'False',
  'a  b',
  '',
  '0755',
  '1_000',
];
const YAML_VALUES = ['1', 'yes', '0755', '"2222"', '[a, b]', '{x: 1}', 'null', 'text', '1e3', '2024-01-02'];

/** An INI inventory Ansible accepts, with vars files beside it. */
function generated(seed: number): { files: Record<string, string>; inventory: string } {
  const r = random(seed);
  const groups = Array.from({ length: 2 + Math.floor(r() * 5) }, (_, i) => `g${i}`);
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  // Free vars take any value; the vars kernelfile reads take values it accepts.
  const v = () => pick(r, ['x', 'y', 'z', 'w']);
  const conn = () =>
    pick(r, [
      `ansible_port=22${Math.floor(r() * 10)}`,
      'ansible_user=ops',
      'kernelfile=k/a.yaml',
      'ansible_host=10.0.9.9',
      'ansible_become=yes',
    ]);
  const hostLine = () => {
    const base = pick(r, names);
    const pattern = pick(r, [
      base,
      `${base}-[1:3]`,
      `${base}[01:02]`,
      `${base}-[a:b]`,
      `${base}:22${Math.floor(r() * 10)}`,
      `10.0.0.${Math.floor(r() * 3)}`,
    ]);
    const vars = Array.from({ length: Math.floor(r() * 3) }, () =>
      r() < 0.3 ? conn() : `${v()}=${pick(r, HOST_VALUES)}`,
    );
    return [pattern, ...vars].join(' ') + (r() < 0.2 ? ' # comment' : '');
  };
  const sections: string[] = [];
  if (r() < 0.5) sections.push(hostLine());
  const order = [...groups].sort(() => r() - 0.5);
  for (const g of order) {
    const i = groups.indexOf(g);
    const kids = groups.slice(i + 1).filter(() => r() < 0.3);
    const parts: string[][] = [];
    parts.push([`[${g}]`, ...Array.from({ length: Math.floor(r() * 3) }, hostLine)]);
    if (kids.length) parts.push([`[${g}:children]`, ...kids]);
    if (r() < 0.6)
      parts.push([
        `[${g}:vars]`,
        ...Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
          r() < 0.2
            ? `ansible_group_priority=${Math.floor(r() * 5)}`
            : r() < 0.2
              ? conn()
              : `${v()} = ${pick(r, GROUP_VALUES)}`,
        ),
      ]);
    for (const p of parts.sort(() => r() - 0.5)) sections.push(p.join('\n'));
  }
  if (r() < 0.5) sections.push(`[all:vars]\n${v()}=${pick(r, GROUP_VALUES)}`);
  const files: Record<string, string> = {};
  const yamlVars = () => {
    const vars = new Map<string, string>();
    for (let i = Math.floor(r() * 3); i >= 0; i--)
      if (r() < 0.2) vars.set('ansible_user', pick(r, ['web', 'db']));
      else vars.set(v(), pick(r, YAML_VALUES));
    return [...vars].map(([k, x]) => `${k}: ${x}`).join('\n');
  };
  for (const g of ['all', ...groups])
    if (r() < 0.4) files[`group_vars/${g}${pick(r, ['.yml', '.yaml', '', '.json', '/main.yml'])}`] = '';
  for (const h of names) if (r() < 0.3) files[`host_vars/${h}${pick(r, ['.yml', '/x.yml', ''])}`] = '';
  for (const k of Object.keys(files))
    files[k] = k.endsWith('.json')
      ? JSON.stringify({ [v()]: pick(r, [1, 'j', null, [1], 1.5]) })
      : `${yamlVars()}\n`;
  files['hosts.ini'] = `${sections.join('\n\n')}\n`;
  return { files, inventory: 'hosts.ini' };
}

describe.skipIf(!onPath('ansible-inventory'))('cross-check with ansible-inventory on this machine', () => {
  it.each(fixtures)('%s', (f) => {
    expect(canonical(ansibleList(fixture(f)))).toEqual(canonical(ansibleInventoryList(join(FIXTURES, f))));
  });

  it.each(dirs)('%s/ (with group_vars/ and host_vars/)', (d) => {
    const file = inventoryOf(join(DIRS, d));
    const { inventory } = loadInventory(file, { cwd: '/' });
    expect(canonical(ansibleList(inventory))).toEqual(canonical(ansibleInventoryList(file)));
  });

  it.each(Array.from({ length: 12 }, (_, i) => 1000 + i))('generated INI inventory, seed %i', (seed) => {
    const { files, inventory } = generated(seed);
    const root = join(tmp, `gen-${seed}`);
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), text);
    }
    const file = join(root, inventory);
    let theirs: unknown;
    try {
      theirs = ansibleInventoryList(file);
    } catch (e) {
      throw new Error(`ansible-inventory refused generated inventory ${seed}: ${(e as Error).message}`);
    }
    let mine: Inventory;
    try {
      mine = loadInventory(file, { cwd: '/' }).inventory;
    } catch (e) {
      throw new Error(`seed ${seed}: ${(e as UserError).message}\n${files['hosts.ini']}`);
    }
    expect(canonical(ansibleList(mine))).toEqual(canonical(theirs));
  });

  it('a FIFO where Ansible would read vars is refused, never opened; one in a directory is skipped', () => {
    const root = join(tmp, 'fifo');
    mkdirSync(join(root, 'group_vars', 'db'), { recursive: true });
    writeFileSync(join(root, 'hosts.ini'), '[web]\nw1\n[db]\nd1\n');
    execFileSync('mkfifo', [join(root, 'group_vars', 'web.yml'), join(root, 'group_vars', 'db', 'pipe.yml')]);
    writeFileSync(join(root, 'group_vars', 'db', 'vars.yml'), 'a: 1\n');
    let error: unknown;
    try {
      loadInventory('hosts.ini', { cwd: root });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(
      'group_vars/web.yml:1:1: not a regular file: Ansible would read it for group `web`',
    );
    rmSync(join(root, 'group_vars', 'web.yml'));
    const d1 = loadInventory('hosts.ini', { cwd: root }).inventory.hosts.find((h) => h.name === 'd1');
    expect(d1?.vars).toEqual({ a: 1 });
  });
});

describe('values, as the INI plugin of the Ansible on this machine reads them', () => {
  const recorded = JSON.parse(
    readFileSync(join(FIXTURES, 'python-literals.json'), 'utf8'),
  ) as RecordedLiteral[];

  it('the recording is what it says now', () => {
    // As the recording was written: through JSON (-0 is 0).
    expect(JSON.parse(JSON.stringify(pythonLiterals(recorded.map((r) => r.text))))).toEqual(recorded);
  });

  const generatedSets: Array<[string, readonly string[], number]> = [
    [
      'expressions',
      [
        '1',
        '0',
        '07',
        '1_0',
        '0x1f',
        '1.5',
        '.5',
        '1e3',
        '1j',
        'True',
        'None',
        'x',
        'set',
        "'a'",
        '"b"',
        "b'c'",
        "r'\\d'",
        "u'e'",
        "f'g'",
        "'\\x41'",
        '...',
        '-',
        '+',
        '(',
        ')',
        '[',
        ']',
        '{',
        '}',
        ',',
        ':',
        ' ',
        '#',
        '\t',
        '~',
        '*',
        '=',
        'é',
        "'",
        '"',
        '\\',
        '2j',
      ],
      7,
    ],
    [
      'strings',
      [
        "'",
        '"',
        '\\',
        'x',
        '4',
        '1',
        'a',
        '{',
        '}',
        'u',
        'U',
        '0',
        '7',
        'r',
        'b',
        'B',
        'R',
        'f',
        ' ',
        'é',
        'n',
        "'''",
        '"""',
        '8',
        'd',
      ],
      10,
    ],
    [
      'numbers',
      [
        '0',
        '1',
        '7',
        '9',
        '_',
        'x',
        'X',
        'o',
        'b',
        'e',
        'E',
        'j',
        '.',
        '+',
        '-',
        'a',
        'f',
        ' ',
        '(',
        ')',
        ',',
      ],
      8,
    ],
  ];
  it.each(generatedSets)('generated %s', (_, atoms, maxLen) => {
    const all = texts(atoms.length * 7919 + maxLen, 4000, atoms, maxLen);
    const theirs = pythonLiterals(all);
    const differ = theirs.filter((t) => JSON.stringify(ours(t.text)) !== JSON.stringify(t));
    expect(differ.slice(0, 5).map((t) => [t, ours(t.text)])).toEqual([]);
  });

  it('host lines split as Python’s shlex splits them', () => {
    const lines = texts(
      42,
      3000,
      ['a', 'b', '=', ' ', '\t', "'", '"', '\\', '#', 'x y', '\\"', "\\'", ';', '[1:2]', 'é'],
      9,
    );
    const program =
      'import json, shlex, sys\nout = []\nfor s in json.load(sys.stdin):\n    try:\n        out.append(shlex.split(s, comments=True))\n    except ValueError as e:\n        out.append(str(e))\njson.dump(out, sys.stdout)\n';
    const theirs = JSON.parse(
      execFileSync(ansiblePython(), ['-c', program], { input: JSON.stringify(lines), encoding: 'utf8' }),
    ) as Array<string[] | string>;
    const mine = lines.map((l) => {
      try {
        return shlexSplit(l).map((w) => w.text);
      } catch (e) {
        return (e as Error).message;
      }
    });
    const differ = lines.filter((_, i) => JSON.stringify(mine[i]) !== JSON.stringify(theirs[i]));
    expect(differ.slice(0, 5)).toEqual([]);
  });
});
