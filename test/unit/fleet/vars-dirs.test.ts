/**
 * group_vars/ and host_vars/ beside an inventory: which files Ansible's host_group_vars plugin
 * loads for a group or host, in which order, and what their texts give (pure: the listing and the
 * texts are given; test/unit/engine/inventory.test.ts reads real directories).
 */
import { describe, expect, it } from 'vitest';
import {
  type InvDiagnostic,
  type Inventory,
  parseInventory,
  type VarsEntry,
} from '../../../src/fleet/inventory.js';
import { varsFilesWanted } from '../../../src/fleet/vars-dirs.js';

/** A listing from paths: `dir/` a directory, `!path` a FIFO, `path -> why` refused. */
function listing(...paths: string[]): VarsEntry[] {
  return paths.map((p) => {
    const [path, refused] = p.split(' -> ') as [string, string | undefined];
    if (path.endsWith('/')) return { path: path.slice(0, -1), kind: 'dir', ...(refused ? { refused } : {}) };
    if (path.startsWith('!')) return { path: path.slice(1), kind: 'other' };
    return { path, kind: 'file', ...(refused ? { refused } : {}) };
  });
}

function withDirs(parents: VarsEntry[]): VarsEntry[] {
  const dirs = new Set<string>();
  for (const e of parents) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const have = new Set(parents.map((e) => e.path));
  return [
    ...[...dirs].filter((d) => !have.has(d)).map((d) => ({ path: d, kind: 'dir' as const })),
    ...parents,
  ];
}

function read(
  inventory: string,
  files: Record<string, string>,
  file = 'inv/hosts.ini',
  extra: VarsEntry[] = [],
): { ok: true; value: Inventory; warnings: InvDiagnostic[] } | { ok: false; errors: InvDiagnostic[] } {
  const entries = withDirs([...listing(...Object.keys(files)), ...extra]);
  return parseInventory(inventory, file, { entries, texts: new Map(Object.entries(files)) });
}

function vars(r: ReturnType<typeof read>, host: string): Record<string, unknown> {
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.file}:${e.line} ${e.message}`).join('\n'));
  const h = r.value.hosts.find((x) => x.name === host);
  if (!h) throw new Error(`no host ${host}`);
  return h.vars;
}

describe('which files a group or host loads', () => {
  it('the first of NAME, NAME.yml, NAME.yaml, NAME.json; a directory before a file', () => {
    const entries = withDirs(
      listing(
        'group_vars/web.yml',
        'group_vars/web.yaml',
        'group_vars/web.json',
        'group_vars/db.json',
        'group_vars/all/',
        'group_vars/all.yml',
        'group_vars/all/x.yml',
      ),
    );
    expect(varsFilesWanted(entries, ['all', 'web', 'db', 'none'], [])).toEqual([
      'group_vars/all/x.yml',
      'group_vars/web.yml',
      'group_vars/db.json',
    ]);
  });

  it("a directory's files in name order: hidden files, backups and other extensions skipped", () => {
    const entries = withDirs(
      listing(
        'group_vars/web/',
        'group_vars/web/b.yml',
        'group_vars/web/a',
        'group_vars/web/.hidden.yml',
        'group_vars/web/c.yml~',
        'group_vars/web/d.txt',
        'group_vars/web/e.json',
        'group_vars/web/Z.yaml',
        'group_vars/web/sub/',
        'group_vars/web/sub/1.yml',
        'group_vars/web/sub.d/',
        'group_vars/web/sub.d/2.yml',
        '!group_vars/web/fifo',
      ),
    );
    expect(varsFilesWanted(entries, ['web'], [])).toEqual([
      'group_vars/web/Z.yaml',
      'group_vars/web/a',
      'group_vars/web/b.yml',
      'group_vars/web/e.json',
      'group_vars/web/sub/1.yml',
    ]);
  });

  it('host_vars for hosts; a chroot directory (a name starting with /) has none; no `..`', () => {
    const entries = withDirs(
      listing('host_vars/web1.yml', 'host_vars/srv/rootfs.yml', 'host_vars/a/b.yml', 'group_vars/x.yml'),
    );
    expect(varsFilesWanted(entries, [], ['web1', '/srv/rootfs', 'a/b', 'a/../x', '../group_vars/x'])).toEqual(
      ['host_vars/web1.yml', 'host_vars/a/b.yml'],
    );
  });
});

describe('the variables they give, with Ansible’s precedence', () => {
  const inventory =
    '[parent:children]\nchild\n[child]\nh1 p3=host p4=host\n[all:vars]\np1=all\n[parent:vars]\np2=parent\n[child:vars]\np2=child\n';

  it('inventory group vars < group_vars/all < group_vars/GROUP < inventory host vars < host_vars/HOST', () => {
    const r = read(inventory, {
      'group_vars/all.yml': 'p1: gv_all\np2: gv_all\np5: gv_all\n',
      'group_vars/parent.yml': 'p5: gv_parent\np6: gv_parent\n',
      'group_vars/child.yml': 'p3: gv_child\np6: gv_child\n',
      'host_vars/h1.yml': 'p4: host_vars\n',
    });
    expect(vars(r, 'h1')).toEqual({
      p1: 'gv_all',
      p2: 'gv_all',
      p3: 'host',
      p4: 'host_vars',
      p5: 'gv_parent',
      p6: 'gv_child',
    });
    if (!r.ok) return;
    expect(r.value.hosts[0]?.origins).toMatchObject({
      p1: { file: 'inv/group_vars/all.yml', line: 1 },
      p4: { file: 'inv/host_vars/h1.yml', line: 1 },
      p6: { file: 'inv/group_vars/child.yml', line: 2 },
      p3: { file: 'inv/hosts.ini', line: 4 },
    });
  });

  it('files of a directory merge in order, a later var replacing an earlier one whole', () => {
    const r = read('[g]\nh\n', {
      'group_vars/g/1.yml': 'd: {a: 1, b: 2}\nx: 1\n',
      'group_vars/g/2.json': '{"d": {"c": 3}}',
    });
    expect(vars(r, 'h')).toEqual({ d: { c: 3 }, x: 1 });
  });

  it('JSON first (1e3 is a float there), else YAML 1.1 (yes, 0755, !vault)', () => {
    const r = read('[g]\nh\n', {
      'group_vars/g.json': '{"n": 1e3}',
      'group_vars/all.yml': 'b: yes\nm: 0755\nn: 1e3\ns: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n',
    });
    expect(vars(r, 'h')).toEqual({
      b: true,
      m: 493,
      n: 1000,
      s: { __ansible_vault: '$ANSIBLE_VAULT;1.1;AES256\n6162\n' },
    });
  });

  it('empty files, `{}`, `[]`, `false` add nothing', () => {
    const r = read('[g]\nh\n', {
      'group_vars/g/a.yml': '',
      'group_vars/g/b.yml': '# only a comment\n',
      'group_vars/g/c.json': '[]',
      'group_vars/g/d.yml': 'false\n',
      'group_vars/g/e.yml': '{}\n',
    });
    expect(vars(r, 'h')).toEqual({});
  });

  it('ansible_group_priority in a vars file is a plain var, as in Ansible', () => {
    expect(vars(read('[g]\nh\n', { 'group_vars/g.yml': 'ansible_group_priority: 5\n' }), 'h')).toEqual({
      ansible_group_priority: 5,
    });
  });

  it('the connection and kernelfile from the files', () => {
    const r = read('[web]\nw1\n', {
      'group_vars/web.yml': 'kernelfile: k/web.yaml\nansible_user: deploy\nansible_become: true\n',
      'host_vars/w1.yml': 'ansible_host: 192.0.2.7\nansible_port: 2222\n',
    });
    if (!r.ok) throw new Error('not ok');
    expect(r.value.hosts[0]?.address).toEqual({
      host: '192.0.2.7',
      port: 2222,
      user: 'deploy',
      identity: null,
      become: true,
    });
    expect(r.value.hosts[0]?.kernelfile).toBe('k/web.yaml');
  });

  it('a YAML inventory gets them the same way', () => {
    const r = read(
      'web:\n  hosts:\n    w1:\n      a: inventory\n',
      { 'host_vars/w1.yml': 'a: host_vars\n' },
      'hosts.yml',
    );
    expect(vars(r, 'w1')).toEqual({ a: 'host_vars' });
  });
});

describe('files kernelfile does not take', () => {
  it('a Vault-encrypted file: a warning, and its variables are not read', () => {
    const r = read('[g]\nh\n', {
      'group_vars/g/vars.yml': 'a: 1\n',
      'group_vars/g/vault.yml': '$ANSIBLE_VAULT;1.1;AES256\n6162636465\n',
    });
    expect(vars(r, 'h')).toEqual({ a: 1 });
    if (!r.ok) return;
    expect(r.warnings).toEqual([
      expect.objectContaining({
        file: 'inv/group_vars/g/vault.yml',
        line: 1,
        message: expect.stringMatching(/encrypted with Ansible Vault: kernelfile does not decrypt it/),
      }),
    ]);
  });

  it.each([
    ['a list', 'group_vars/g.yml', '- a\n- b\n', 1, /must hold a mapping of variables, not a list/],
    ['a JSON list', 'group_vars/g.json', '[1]', 1, /not a list/],
    ['a scalar', 'group_vars/g.yml', 'just text\n', 1, /not a scalar/],
    ['broken YAML', 'group_vars/g.yml', 'a: 1\nb: [\n', 3, /./],
    ['a duplicate key', 'host_vars/h.yml', 'a: 1\na: 2\n', 2, /duplicate key `a` \(first at line 1\)/],
    [
      'a bad port',
      'host_vars/h.yml',
      'ansible_port: ssh\n',
      1,
      /`ansible_port` of host `h` is not a port number/,
    ],
  ])('%s: an error at its file and line', (_, path, text, line, message) => {
    const r = read('[g]\nh\n', { [path]: text });
    if (r.ok) throw new Error('expected errors');
    expect(r.errors[0]).toMatchObject({ file: `inv/${path}`, line });
    expect(r.errors[0]?.message).toMatch(message);
  });

  it('a bad port in a vars file shows the YAML form in its hint', () => {
    const r = read('[g]\nh\n', { 'host_vars/h.yml': 'ansible_port: ssh\n' });
    if (r.ok) throw new Error('expected errors');
    expect(r.errors[0]?.hint).toMatch(/`ansible_port: 2222`/);
  });

  it('a refused entry (a link out of the directory) or a FIFO is an error where Ansible would read it', () => {
    const r = read('[g]\nh\n', {}, 'hosts.ini', [
      { path: 'group_vars', kind: 'dir' },
      { path: 'group_vars/g.yml', kind: 'file', refused: 'group_vars/g.yml is a symbolic link out of it' },
      { path: 'host_vars', kind: 'dir' },
      { path: 'host_vars/h', kind: 'other' },
    ]);
    if (r.ok) throw new Error('expected errors');
    expect(r.errors.map((e) => [e.file, e.message])).toEqual([
      [
        'group_vars/g.yml',
        'group_vars/g.yml is a symbolic link out of it: Ansible would read it for group `g`',
      ],
      ['host_vars/h', 'not a regular file: Ansible would read it for host `h`'],
    ]);
  });

  it('files for groups and hosts the inventory does not have are not read', () => {
    const r = read('[g]\nh\n', { 'group_vars/other.yml': 'a: [\n', 'host_vars/nobody.yml': '- x\n' });
    expect(vars(r, 'h')).toEqual({});
  });
});
