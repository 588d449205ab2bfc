/**
 * Reading an inventory from disk with the group_vars/ and host_vars/ beside it (src/engine/inventory.ts):
 * the fixture directories read as `ansible-inventory --list` read them (recorded in each
 * NAME/ansible.json by scripts/record-ansible.ts; compared live in
 * test/integration/fleet-inventory-ansible.test.ts), and the limits: links out of the inventory's
 * directory, sizes, UTF-8.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/engine/errors.js';
import { loadInventory, MAX_VARS_FILE_BYTES } from '../../../src/engine/inventory.js';
import { selectTargets } from '../../../src/engine/targets.js';
import { ansibleList, canonical } from '../fleet/ansible-list.js';

const DIRS = fileURLToPath(new URL('../../fixtures/inventory-dirs/', import.meta.url));
const dirs = readdirSync(DIRS).sort();

function inventoryOf(d: string): string {
  const [f] = readdirSync(join(DIRS, d)).filter(
    (x) => x !== 'ansible.json' && statSync(join(DIRS, d, x)).isFile(),
  );
  return join(d, f as string);
}

const tmp = mkdtempSync(join(tmpdir(), 'kf-inventory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory of files (a `-> target` value is a symbolic link). */
function tree(name: string, files: Record<string, string | Buffer>): string {
  const root = join(tmp, name);
  for (const [p, content] of Object.entries(files)) {
    const abs = join(root, p);
    mkdirSync(dirname(abs), { recursive: true });
    if (typeof content === 'string' && content.startsWith('-> ')) symlinkSync(content.slice(3), abs);
    else writeFileSync(abs, content);
  }
  return root;
}

function failure(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('the fixture directories, as ansible-inventory --list reads them', () => {
  it('covers every fixture', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(4);
    for (const d of dirs) expect(statSync(join(DIRS, d, 'ansible.json')).isFile()).toBe(true);
  });

  it.each(dirs)('%s', (d) => {
    const { inventory, warnings } = loadInventory(inventoryOf(d), { cwd: DIRS });
    expect(warnings).toEqual([]);
    const recorded = JSON.parse(readFileSync(join(DIRS, d, 'ansible.json'), 'utf8'));
    expect(canonical(ansibleList(inventory))).toEqual(canonical(recorded));
  });

  it('ini-vars: which file set each var', () => {
    const { inventory } = loadInventory('ini-vars/hosts.ini', { cwd: DIRS });
    const w1 = inventory.hosts.find((h) => h.name === 'w1');
    expect(w1?.origins).toMatchObject({
      v_order: { file: 'ini-vars/group_vars/web/sub/z.yml', line: 1 },
      v_gva: { file: 'ini-vars/group_vars/all.yml', line: 1 },
      v_host: { file: 'ini-vars/host_vars/w1.yml', line: 1 },
      v_web: { file: 'ini-vars/hosts.ini', line: 11 },
      kernelfile: { file: 'ini-vars/group_vars/web/a.yml', line: 5 },
    });
  });

  it('plan and status select the hosts with their kernelfile and connection from the files', () => {
    const targets = selectTargets(
      { inventory: 'yaml-vars/inventory.yml', limit: 'web' },
      { cwd: DIRS, env: {} },
    );
    expect(targets.map((t) => [t.name, t.kernelfile, t.address, t.sudo])).toEqual([
      [
        'web-1.example.com',
        join(DIRS, 'yaml-vars/kernelfiles/fleet.yaml'),
        {
          kind: 'ssh',
          host: '192.0.2.10',
          port: 2200,
          user: 'web_user',
          written: 'ssh://web_user@192.0.2.10:2200',
          become: true,
        },
        true,
      ],
      [
        'web-2.example.com',
        join(DIRS, 'yaml-vars/kernelfiles/fleet.yaml'),
        {
          kind: 'ssh',
          host: 'web-2.example.com',
          user: 'web_user',
          written: 'ssh://web_user@web-2.example.com',
          become: true,
        },
        true,
      ],
    ]);
  });
});

describe('limits', () => {
  it('a link inside the inventory directory is followed', () => {
    const root = tree('inside', {
      'hosts.ini': '[web]\nw1\n',
      'shared/web.yml': 'a: shared\n',
      'group_vars/web.yml': '-> ../shared/web.yml',
    });
    const { inventory } = loadInventory(join(root, 'hosts.ini'), { cwd: '/' });
    expect(inventory.hosts[0]?.vars).toEqual({ a: 'shared' });
  });

  it.each([
    ['a file', { 'group_vars/web.yml': `-> ${tmp}/outside.yml` }, 'inv/group_vars/web.yml'],
    ['a directory', { 'group_vars/web': `-> ${tmp}/outside-dir` }, 'inv/group_vars/web'],
    ['group_vars itself', { group_vars: `-> ${tmp}/outside-dir` }, 'inv/group_vars'],
  ])('a link out of the inventory directory is refused: %s', (_, links, shown) => {
    writeFileSync(join(tmp, 'outside.yml'), 'a: outside\n');
    mkdirSync(join(tmp, 'outside-dir'), { recursive: true });
    writeFileSync(join(tmp, 'outside-dir', 'web.yml'), 'a: outside\n');
    writeFileSync(join(tmp, 'outside-dir', 'x.yml'), 'a: outside\n');
    const name = `escape-${shown.replace(/\W/g, '')}-${Object.keys(links)[0]?.replace(/\W/g, '')}`;
    const root = tree(name, { 'inv/hosts.ini': '[web]\nw1\n', ...prefix('inv/', links) });
    const e = failure(() => loadInventory('inv/hosts.ini', { cwd: root }));
    expect(e.message).toMatch(/is a symbolic link out of the inventory's directory/);
    expect(e.message).toMatch(/^inv\/group_vars\/\S+:1:1: inv\/group_vars\S* is a symbolic link/);
    expect(e.message).toContain(
      `${shown} is a symbolic link out of the inventory's directory (to ${tmp}/outside`,
    );
    expect(e.hint).toMatch(/inside the inventory/);
  });

  it('a link out of the directory for a group the inventory does not have is not an error', () => {
    const root = tree('escape-unused', {
      'inv/hosts.ini': '[web]\nw1\n',
      'inv/group_vars/db.yml': '-> ../../elsewhere.yml',
    });
    expect(loadInventory('inv/hosts.ini', { cwd: root }).inventory.hosts[0]?.vars).toEqual({});
  });

  it('a vars file larger than the limit is refused, naming it', () => {
    const root = tree('big', {
      'hosts.ini': '[web]\nw1\n',
      'group_vars/web.yml': `a: "${'x'.repeat(MAX_VARS_FILE_BYTES)}"\n`,
    });
    const e = failure(() => loadInventory('hosts.ini', { cwd: root }));
    expect(e.message).toMatch(/^cannot read group_vars\/web\.yml: it is larger than 4 MiB/);
  });

  it('a file that is not UTF-8: an error at its line', () => {
    const root = tree('latin1', {
      'hosts.ini': Buffer.concat([Buffer.from('[web]\nw1\n# caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
      'b/hosts.ini': '[web]\nw1\n',
      'b/host_vars/w1.yml': Buffer.concat([Buffer.from('a: 1\nb: '), Buffer.from([0xff]), Buffer.from('\n')]),
    });
    expect(failure(() => loadInventory('hosts.ini', { cwd: root })).message).toBe(
      'hosts.ini:3: this file is not UTF-8 text',
    );
    expect(failure(() => loadInventory('b/hosts.ini', { cwd: root })).message).toBe(
      'b/host_vars/w1.yml:2: this file is not UTF-8 text',
    );
  });

  it('group_vars that is a file: a warning, as Ansible warns', () => {
    const root = tree('gv-file', { 'hosts.ini': '[web]\nw1\n', group_vars: 'a: 1\n' });
    const { warnings, inventory } = loadInventory('hosts.ini', { cwd: root });
    expect(inventory.hosts[0]?.vars).toEqual({});
    expect(warnings.map((w) => [w.file, w.message])).toEqual([
      ['group_vars', 'group_vars is not a directory: its vars are not read (Ansible skips it too)'],
    ]);
  });

  it('a link looping back to a directory above is listed once', () => {
    const root = tree('loop', {
      'hosts.ini': '[web]\nw1\n',
      'group_vars/web/a.yml': 'a: 1\n',
      'group_vars/web/again': '-> ..',
    });
    expect(loadInventory('hosts.ini', { cwd: root }).inventory.hosts[0]?.vars).toEqual({ a: 1 });
  });

  it('errors name every file and line, the hint of the first', () => {
    const root = tree('errors', {
      'hosts.ini': '[web]\nw1\n',
      'group_vars/web.yml': '- a\n',
      'host_vars/w1.yml': 'ansible_port: x\n',
    });
    const e = failure(() => loadInventory('hosts.ini', { cwd: root }));
    expect(e.message.split('\n')).toEqual([
      'group_vars/web.yml:1:1: a vars file must hold a mapping of variables, not a list',
    ]);
    expect(e.hint).toMatch(/failed to combine variables/);
  });

  it('an inventory directory: name the file in it', () => {
    const e = failure(() => loadInventory('.', { cwd: tree('dir-inventory', { hosts: '[web]\nw1\n' }) }));
    expect(e.message).toBe(
      'cannot read the inventory .: it is a directory; kernelfile reads only regular files',
    );
    expect(e.hint).toMatch(/name the file in that directory/);
  });

  it('a missing inventory', () => {
    expect(failure(() => loadInventory('nope.ini', { cwd: tmp })).message).toBe(
      'cannot read the inventory nope.ini: it does not exist',
    );
  });
});

function prefix(p: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [p + k, v]));
}
