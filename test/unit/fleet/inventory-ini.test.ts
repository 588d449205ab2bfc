/**
 * Ansible INI inventories, read as ansible-core's ini plugin reads them.
 *
 * test/fixtures/inventory/*.ini are the INI examples of Ansible's documentation (How to build your
 * inventory, the ini plugin) and edge cases; each *.ansible.json beside them is what
 * `ansible-inventory -i FILE --list` printed for it (ansible-core 2.14.18; scripts/record-ansible.ts).
 * test/integration/fleet-inventory-ansible.test.ts runs `ansible-inventory` again on every fixture.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type InvDiagnostic,
  type Inventory,
  type InventoryHost,
  parseInventory,
} from '../../../src/fleet/inventory.js';
import { shlexSplit, splitLines } from '../../../src/fleet/inventory-ini.js';
import { inventoryAddress } from '../../../src/host/address.js';
import { ansibleList, canonical } from './ansible-list.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url));
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.ini'))
  .sort();

function parse(text: string, file = 'hosts.ini'): Inventory {
  const r = parseInventory(text, file);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.value;
}

function warnings(text: string, file = 'hosts.ini'): InvDiagnostic[] {
  const r = parseInventory(text, file);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.warnings;
}

function errors(text: string, file = 'hosts.ini'): InvDiagnostic[] {
  const r = parseInventory(text, file);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

function host(inv: Inventory, name: string): InventoryHost {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name}`);
  return h;
}

describe('the INI examples, as ansible-inventory --list shows them', () => {
  it('covers every fixture', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(7);
    for (const f of fixtures)
      expect(existsSync(join(FIXTURES, f.replace(/\.ini$/, '.ansible.json')))).toBe(true);
  });

  it.each(fixtures)('%s', (f) => {
    const inv = parse(readFileSync(join(FIXTURES, f), 'utf8'), `inventory/${f}`);
    const recorded = JSON.parse(readFileSync(join(FIXTURES, f.replace(/\.ini$/, '.ansible.json')), 'utf8'));
    expect(canonical(ansibleList(inv))).toEqual(canonical(recorded));
  });

  it('the YAML and the INI form of the documentation examples read alike', () => {
    const ini = parse(readFileSync(join(FIXTURES, 'ini-docs.ini'), 'utf8'), 'inventory/ini-docs.ini');
    const yaml = parse(readFileSync(join(FIXTURES, 'basic.yml'), 'utf8'), 'inventory/basic.yml');
    for (const name of ['mail.example.com', 'foo.example.com', 'two.example.com'])
      expect(host(ini, name).groups).toEqual(host(yaml, name).groups);
  });
});

describe('sections', () => {
  it('hosts before any section are ungrouped; [g], [g:vars], [g:children] in any order', () => {
    const inv = parse(
      'lone\n[usa:children]\nsoutheast\n[southeast:vars]\ntz=est\n[southeast:children]\natlanta\n[atlanta]\nh1\n',
    );
    expect(host(inv, 'lone').groups).toEqual(['all', 'ungrouped']);
    expect(host(inv, 'h1').groups).toEqual(['all', 'atlanta', 'southeast', 'usa']);
    expect(host(inv, 'h1').vars).toEqual({ tz: 'est' });
    expect(inv.groups.usa).toEqual({ hosts: [], children: ['southeast'], parents: ['all'] });
  });

  it('a child group declared later joins its parents when declared, in the order they named it', () => {
    const inv = parse('[p:children]\nlate\nearly\n[early]\ne1\n[q:children]\nlate\n[late]\nl1\n');
    expect(inv.groups.p?.children).toEqual(['early', 'late']);
    expect(inv.groups.late?.parents).toEqual(['p', 'q']);
  });

  it('a host listed in a group leaves ungrouped; listed twice, its later vars win', () => {
    const inv = parse('h1 a=1 b=1\n[g]\nh1 b=2\n[g]\nh1 c=3\n');
    expect(host(inv, 'h1').groups).toEqual(['all', 'g']);
    expect(inv.groups.ungrouped?.hosts).toEqual([]);
    expect(host(inv, 'h1').vars).toEqual({ a: 1, b: 2, c: 3 });
  });

  it('[all] and [all:vars]; an empty [g] declares a group', () => {
    const inv = parse('[all]\nh1\n[all:vars]\nx=1\n[empty]\n');
    expect(host(inv, 'h1').groups).toEqual(['all', 'ungrouped']);
    expect(host(inv, 'h1').vars).toEqual({ x: 1 });
    expect(inv.groups.empty).toEqual({ hosts: [], children: [], parents: ['all'] });
  });

  it('comments: # and ; lines, # after a section, a host or a child; indented lines', () => {
    const inv = parse('# c\n; c\n  [web]   # the web\n  w1 # one\n\tw2\n[p:children] # p\n  web   # child\n');
    expect(inv.groups.web?.hosts).toEqual(['w1', 'w2']);
    expect(inv.groups.p?.children).toEqual(['web']);
  });

  it('lines end at \\n, \\r\\n, \\r and the other breaks of str.splitlines', () => {
    expect(splitLines('a\r\nb\rc\nd\u2028e\x0bf\n')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(splitLines('')).toEqual([]);
    expect(parse('[web]\r\nw1\r\nw2\r').groups.web?.hosts).toEqual(['w1', 'w2']);
  });
});

describe('host lines', () => {
  it('patterns: ranges, steps, letters, ports', () => {
    const inv = parse('[g]\nweb-[01:03]\ndb-[a:c]:2222\ns[0:10:5]\n[2001:db8::1]:22\n');
    expect(inv.groups.g?.hosts).toEqual([
      'web-01',
      'web-02',
      'web-03',
      'db-a',
      'db-b',
      'db-c',
      's0',
      's5',
      's10',
      '2001:db8::1',
    ]);
    expect(host(inv, 'db-b').vars).toEqual({ ansible_port: 2222 });
    expect(host(inv, '2001:db8::1').vars).toEqual({ ansible_port: 22 });
  });

  it('variables are Python literals after shell-like splitting', () => {
    const inv = parse(
      `h port=22 f=1.5 t=True n=None s="a b" l="[1, 'x']" d="{'k': {'v': 1}}" q="'07'" raw=07 w=ops e= eq=a=b\n`,
    );
    expect(host(inv, 'h').vars).toEqual({
      port: 22,
      f: 1.5,
      t: true,
      n: null,
      s: 'a b',
      l: [1, 'x'],
      d: { k: { v: 1 } },
      q: '07',
      raw: '07',
      w: 'ops',
      e: '',
      eq: 'a=b',
    });
  });

  it('# ends a host line even inside a word; quoted, it is kept', () => {
    expect(host(parse('h a=b#c d=1\n'), 'h').vars).toEqual({ a: 'b' });
    expect(host(parse(`h a="'b#c'" d=1\n`), 'h').vars).toEqual({ a: 'b#c', d: 1 });
  });

  it.each([
    ['a b c', ['a', 'b', 'c']],
    [`a 'b c' "d e"`, ['a', 'b c', 'd e']],
    [`a=x\\ y`, ['a=x y']],
    [`"a \\" \\\\ \\n" 'c\\d'`, ['a " \\ \\n', 'c\\d']],
    [`a''b "" x`, ['ab', '', 'x']],
    ['a#b c', ['a']],
    ['a "#b" c # d', ['a', '#b', 'c']],
  ])('shlex.split(%j)', (line, words) => {
    expect(shlexSplit(line).map((w) => w.text)).toEqual(words);
  });
});

describe('[group:vars] lines', () => {
  it('everything after the first = is the value, stripped, then read as a Python literal', () => {
    const inv = parse(
      "[g]\nh\n[g:vars]\nnum = 23 # dropped\nword = abc # kept\nspaced =  a  b \nq = 'x'\nlist=[1, 2]\nb=False\neq = a=b\nempty=\n",
    );
    expect(host(inv, 'h').vars).toEqual({
      num: 23,
      word: 'abc # kept',
      spaced: 'a  b',
      q: 'x',
      list: [1, 2],
      b: false,
      eq: 'a=b',
      empty: '',
    });
  });

  it('a comment kept in a value is a warning', () => {
    const [w] = warnings('[g]\nh\n[g:vars]\nword = abc # kept\n');
    expect(w).toMatchObject({ line: 4, severity: 'warning' });
    expect(w?.message).toMatch(/`word` in \[g:vars\] is the string `abc # kept`/);
  });

  it('ansible_group_priority orders groups of the same depth, and is not a var', () => {
    const inv = parse('[a]\nh\n[b]\nh\n[a:vars]\nv=a\nansible_group_priority=5\n[b:vars]\nv=b\n');
    expect(host(inv, 'h').vars).toEqual({ v: 'a' });
  });
});

describe('values JSON cannot hold', () => {
  it('are kept as the text written, with a warning', () => {
    const text = '[g]\nh s="{1, 2}" c=1+2j\n';
    expect(host(parse(text), 'h').vars).toEqual({ s: '{1, 2}', c: '1+2j' });
    expect(warnings(text).map((w) => [w.line, w.column, w.message])).toEqual([
      [2, 3, '`s` of host `h`: Python reads `{1, 2}` as a set, which kernelfile keeps as the text written'],
      [
        2,
        14,
        '`c` of host `h`: Python reads `1+2j` as a complex number, which kernelfile keeps as the text written',
      ],
    ]);
  });
});

describe('which format', () => {
  it.each([
    ['hosts.ini', 'ini'],
    ['hosts', 'ini'],
    ['inventory.yml', 'ini'],
    ['hosts.cfg', 'ini'],
  ])('INI text in %s is read as INI', (file) => {
    expect(parse('[web]\nw1 ansible_port=2222\n', file).groups.web?.hosts).toEqual(['w1']);
  });

  it('YAML text in a file without a YAML name is INI to Ansible: its errors, with the hint', () => {
    const [e] = errors('all:\n  hosts:\n    w1:\n', 'hosts.txt');
    expect(e?.message).toBe('host `all:` ends in `:`, which is kept for a port');
    expect(e?.hint).toMatch(/Ansible reads a file named `\*\.txt` as INI: name it `\.yml`$/);
  });

  it('a bare list of hosts is INI (ungrouped hosts)', () => {
    const inv = parse('web1.example.com\nweb2.example.com:2222\n', 'hosts');
    expect(inv.groups.ungrouped?.hosts).toEqual(['web1.example.com', 'web2.example.com']);
  });

  it('a YAML file that is broken YAML and not INI shows its YAML errors', () => {
    expect(errors('all:\n  hosts: [\n', 'hosts.yml')[0]?.message).not.toMatch(/host/);
  });
});

describe('the connection', () => {
  it('chroot hosts are root filesystems, local is this machine', () => {
    const inv = parse(
      readFileSync(join(FIXTURES, 'ini-connection.ini'), 'utf8'),
      'inventory/ini-connection.ini',
    );
    expect(inventoryAddress(host(inv, '/srv/rootfs'))).toEqual({ kind: 'root', dir: '/srv/rootfs' });
    expect(inventoryAddress(host(inv, 'image1'))).toEqual({ kind: 'root', dir: '/srv/image1' });
    expect(inventoryAddress(host(inv, 'localhost'))).toEqual({ kind: 'local' });
    expect(host(inv, 'web1').address).toEqual({
      host: '10.0.0.11',
      port: 2222,
      user: 'deploy',
      identity: '~/.ssh/web_ed25519',
      become: false,
    });
    expect(host(inv, 'web2').address).toMatchObject({ host: '10.0.0.12', user: 'ops', become: true });
    expect(host(inv, 'web3').address).toMatchObject({ host: 'web3', port: 2200, become: true });
    expect(host(inv, 'web3').kernelfile).toBe('kernelfiles/web3.yaml');
    expect(host(inv, 'web1').kernelfile).toBe('kernelfiles/web.yaml');
  });

  it('each var says where it was set', () => {
    const inv = parse('[g]\nh ansible_host=10.0.0.1\n[g:vars]\nkernelfile=k.yaml\n');
    expect(host(inv, 'h').origins).toEqual({
      ansible_host: { file: 'hosts.ini', line: 2 },
      kernelfile: { file: 'hosts.ini', line: 4 },
    });
  });
});

describe('errors: every one, at its line, with what to do', () => {
  const cases: Array<[string, string, string, RegExp, RegExp]> = [
    ['an unknown section type', '[web:hosts2]\nw1\n', '1:1', /unknown type `hosts2`/, /\[web:children\]/],
    ['a space in a section header', '[web servers]\nw1\n', '1:1', /invalid section header/, /no spaces/],
    ['a ; comment after a header', '[web] ; the web\n', '1:1', /starts with `#`, not `;`/, /# comment/],
    ['two words in a children section', '[p:children]\nweb servers\n', '2:1', /expected a group name/, /one/],
    [
      'a vars line without =',
      '[g]\nh\n[g:vars]\njust_a_word\n',
      '4:1',
      /expected `name=value`/,
      /one variable/,
    ],
    ['a host word without =', '[g]\nw1 ansible_port 22\n', '2:4', /got `ansible_port`/, /one host per line/],
    ['a ; comment on a host line', '[g]\nw1 ; one\n', '2:4', /got `;`/, /starts with `#`/],
    ['an open quote', '[g]\nw1 a="open\n', '2:1', /No closing quotation/, /close every quote/],
    ['a backslash at the end', '[g]\nw1 a=b\\\n', '2:1', /No escaped character/, /backslash/],
    ['a bad range', '[g]\nw[1-3]\n', '2:1', /bad host range/, /\[start:end\]/],
    ['a host ending in :', '[g]\nw1:\n', '2:1', /ends in `:`/, /host:PORT/],
    ['---', '---\n', '1:1', /looks like a YAML file/, /\.yml/],
    ['a variable without a name', '[g]\nw1 =5\n', '2:4', /without a name/, /name=value/],
    [
      'an undeclared child',
      '[p:children]\nmissing\n',
      '2:1',
      /names group `missing`, which is not declared/,
      /\[missing\]/,
    ],
    [
      'vars of an undeclared group',
      '[ghost:vars]\na=1\n',
      '1:1',
      /\[ghost:vars\] sets variables/,
      /\[ghost\]/,
    ],
    ['a cycle', '[a:children]\nb\n[b:children]\na\n', '4:1', /form a cycle/, /\[…:children\]` lines/],
    ['a group its own child', '[a:children]\na\n', '2:1', /child of itself/, /remove/],
    ['all as a child', '[a:children]\nall\n', '2:1', /`all` is listed as a child/, /\[all:vars\]/],
    ['an unhashable dict key', '[g]\nw1 x="{[1]: 2}"\n', '2:4', /unhashable type: 'list'/, /quote/],
    [
      'a port that is not a number',
      '[g]\nw1 ansible_port=ssh\n',
      '2:4',
      /not a port number: "ssh"/,
      /`ansible_port=2222`/,
    ],
    [
      'a bad priority',
      '[g]\nw\n[g:vars]\nansible_group_priority=high\n',
      '4:1',
      /must be an integer/,
      /=10`/,
    ],
    ['a bad become', '[g]\nw ansible_become=maybe\n', '2:3', /must be a boolean/, /`ansible_become=true`/],
    ['a byte order mark', '\ufeff[web]\nw1\n', '1:1', /byte order mark/, /without a BOM/],
    ['an empty file', '# nothing\n\n', '1:1', /the inventory is empty/, /\[web\]/],
    ['a host named as a group', '[web]\nweb\n', '2:1', /both a host and a group/, /rename/],
  ];
  it.each(cases)('%s', (_, text, pos, message, hint) => {
    const [e] = errors(text);
    expect(`${e?.line}:${e?.column}`).toBe(pos);
    expect(e?.message).toMatch(message);
    expect(e?.hint).toMatch(hint);
    expect(e?.file).toBe('hosts.ini');
  });

  it('reports every problem, not only the first', () => {
    const errs = errors('[web]\nw1 a\n[x:bad]\nskipped line\n[y z]\n[p:children]\nnope\n');
    expect(errs.map((e) => e.line)).toEqual([2, 3, 5, 7]);
  });
});
