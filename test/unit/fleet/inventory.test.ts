/**
 * Ansible YAML inventories, parsed as Ansible parses them.
 *
 * test/fixtures/inventory/*.yml are the documentation's examples (How to build your inventory, the
 * yaml inventory plugin) and edge cases; each *.ansible.json beside them is what
 * `ansible-inventory -i FILE --list` printed for it (ansible-core 2.19.0.dev0).
 * test/integration/fleet-inventory-ansible.test.ts runs `ansible-inventory` again on every fixture.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  expandHostPattern,
  hostKernelfile,
  type InvDiagnostic,
  type Inventory,
  type InventoryHost,
  parseAddress,
  parseInventory,
} from '../../../src/fleet/inventory.js';
import { ansibleList, canonical } from './ansible-list.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url));
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yml'))
  .sort();

function parse(text: string, file = 'inventory.yml'): Inventory {
  const r = parseInventory(text, file);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('\n'));
  return r.value;
}

function fixture(name: string): Inventory {
  return parse(readFileSync(join(FIXTURES, name), 'utf8'), `inventory/${name}`);
}

function host(inv: Inventory, name: string): InventoryHost {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name}`);
  return h;
}

function errors(text: string, file = 'hosts.yml'): InvDiagnostic[] {
  const r = parseInventory(text, file);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('the documentation examples, as ansible-inventory --list shows them', () => {
  it.each(fixtures.filter((f) => existsSync(join(FIXTURES, f.replace(/\.yml$/, '.ansible.json')))))(
    '%s',
    (f) => {
      const recorded = JSON.parse(readFileSync(join(FIXTURES, f.replace(/\.yml$/, '.ansible.json')), 'utf8'));
      expect(canonical(ansibleList(fixture(f)))).toEqual(canonical(recorded));
    },
  );

  it('covers every fixture', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
    for (const f of fixtures)
      expect(existsSync(join(FIXTURES, f.replace(/\.yml$/, '.ansible.json')))).toBe(true);
  });

  it('basic: the implicit all and ungrouped groups', () => {
    const inv = fixture('basic.yml');
    expect(host(inv, 'mail.example.com').groups).toEqual(['all', 'ungrouped']);
    expect(host(inv, 'two.example.com').groups).toEqual(['all', 'dbservers']);
    expect(inv.groups.all).toEqual({
      hosts: [],
      children: ['ungrouped', 'webservers', 'dbservers'],
      parents: [],
    });
    expect(inv.hosts.map((h) => h.name)).toEqual([
      'mail.example.com',
      'foo.example.com',
      'bar.example.com',
      'one.example.com',
      'two.example.com',
      'three.example.com',
    ]);
  });

  it('hosts in multiple groups: one.example.com is in dbservers, east and prod', () => {
    const inv = fixture('multiple-groups.yml');
    expect(host(inv, 'one.example.com').groups).toEqual(['all', 'dbservers', 'east', 'prod']);
    expect(host(inv, 'bar.example.com').groups).toEqual(['all', 'test', 'webservers', 'west']);
    expect(inv.hosts).toHaveLength(6);
  });

  it('parent/child groups: members of a child are members of the parent', () => {
    const inv = fixture('parent-child.yml');
    expect(host(inv, 'one.example.com').groups).toEqual(['all', 'dbservers', 'east', 'prod']);
    expect(host(inv, 'three.example.com').groups).toEqual(['all', 'dbservers', 'test', 'west']);
    expect(inv.groups.prod).toEqual({ hosts: [], children: ['east'], parents: ['all'] });
    expect(inv.groups.east?.parents).toEqual(['prod']);
  });

  it('ranges: www[01:50], the stride www[01:50:2], db-[a:f]', () => {
    const inv = fixture('ranges.yml');
    const web = inv.groups.webservers?.hosts ?? [];
    expect(web).toHaveLength(50);
    expect([web[0], web[9], web[49]]).toEqual([
      'www01.example.com',
      'www10.example.com',
      'www50.example.com',
    ]);
    const stride = inv.groups.stride?.hosts ?? [];
    expect(stride).toHaveLength(25);
    expect(stride.slice(0, 3)).toEqual(['www01.example.com', 'www03.example.com', 'www05.example.com']);
    expect(stride.at(-1)).toBe('www49.example.com');
    expect(inv.groups.databases?.hosts).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((c) => `db-${c}.example.com`),
    );
    expect(inv.hosts).toHaveLength(56);
  });

  it('host variables and aliases: jumper connects to 192.0.2.50:5555', () => {
    const inv = fixture('host-vars.yml');
    expect(host(inv, 'host2').vars).toEqual({ http_port: 303, maxRequestsPerChild: 909 });
    expect(host(inv, 'jumper').address).toEqual({
      host: '192.0.2.50',
      port: 5555,
      user: null,
      identity: null,
      become: false,
    });
  });

  it('group variables reach every host of the group', () => {
    const inv = fixture('group-vars.yml');
    for (const h of ['host1', 'host2'])
      expect(host(inv, h).vars).toEqual({
        ntp_server: 'ntp.atlanta.example.com',
        proxy: 'proxy.atlanta.example.com',
      });
  });

  it('groups of groups: southeast vars reach atlanta and raleigh hosts; empty groups exist', () => {
    const inv = fixture('groups-of-groups.yml');
    expect(host(inv, 'host2').groups).toEqual(['all', 'atlanta', 'raleigh', 'southeast', 'usa']);
    expect(host(inv, 'host3').vars).toEqual({
      some_server: 'foo.southeast.example.com',
      halon_system_timeout: 30,
      self_destruct_countdown: 60,
      escape_pods: 2,
    });
    expect(inv.groups.northwest).toEqual({ hosts: [], children: [], parents: ['usa'] });
    expect(inv.groups.usa?.children).toEqual(['southeast', 'northeast', 'northwest', 'southwest']);
  });

  it('ansible_group_priority: a_group (10) is merged after b_group (1)', () => {
    const inv = fixture('priority.yml');
    expect(host(inv, 'host1').vars).toEqual({ testvar: 'a' });
  });

  it("the yaml plugin's example: a host without a colon, a host in all and another group", () => {
    const inv = fixture('yaml-plugin-example.yml');
    expect(inv.groups.group_x?.hosts).toEqual(['test5']);
    expect(inv.groups.ungrouped?.hosts).toEqual(['test2']);
    expect(host(inv, 'test1').groups).toEqual(['all', 'last_group']);
    expect(host(inv, 'test4').address.host).toBe('127.0.0.1');
    expect(host(inv, 'test5').vars).toEqual({ group_all_var: 'value', g2_var2: 'value3' });
  });
});

describe('variable precedence', () => {
  const cases: Array<[string, string, string, Record<string, unknown>]> = [
    [
      'a child group overrides its parent, and all is lowest',
      'all:\n  vars: {v: all, w: all, x: all}\n  children:\n    parent:\n      vars: {v: parent, w: parent}\n      children:\n        child:\n          vars: {v: child}\n          hosts: {h: }\n',
      'h',
      { v: 'child', w: 'parent', x: 'all' },
    ],
    [
      'the host overrides every group',
      'g:\n  vars: {v: g}\n  hosts:\n    h: {v: host}\n',
      'h',
      { v: 'host' },
    ],
    [
      'same depth: merged in name order, the later name wins',
      'b_group:\n  vars: {v: b}\n  hosts: {h: }\na_group:\n  vars: {v: a}\n  hosts: {h: }\n',
      'h',
      { v: 'b' },
    ],
    [
      'name order is code point order (B before a)',
      'a:\n  vars: {v: a}\n  hosts: {h: }\nB:\n  vars: {v: B}\n  hosts: {h: }\n',
      'h',
      { v: 'a' },
    ],
    [
      'ansible_group_priority beats name order at the same depth, and is not a var',
      'a:\n  vars: {v: a, ansible_group_priority: 5}\n  hosts: {h: }\nb:\n  vars: {v: b}\n  hosts: {h: }\n',
      'h',
      { v: 'a' },
    ],
    [
      'depth beats priority',
      'p:\n  vars: {v: p, ansible_group_priority: 100}\n  children:\n    c:\n      vars: {v: c}\n      hosts: {h: }\n',
      'h',
      { v: 'c' },
    ],
    [
      'depth is the longest path from all',
      'a:\n  children:\n    b:\n      children:\n        c:\n          hosts: {h: }\n          vars: {v: c}\nz:\n  vars: {v: z}\n  children:\n    c:\n',
      'h',
      { v: 'c' },
    ],
    [
      'a host listed twice: the last value of each var wins, the others stay',
      'g1:\n  hosts:\n    h: {a: 1, b: 1}\ng2:\n  hosts:\n    h: {a: 2}\n',
      'h',
      { a: 2, b: 1 },
    ],
    [
      'a group defined twice: its vars merge, the later wins',
      'g:\n  vars: {a: 1, b: 1}\n  hosts: {h: }\nother:\n  children:\n    g:\n      vars: {b: 2}\n',
      'h',
      { a: 1, b: 2 },
    ],
    [
      'a dict var is replaced, not merged (hash_behaviour=replace)',
      'p:\n  vars: {d: {x: 1, y: 1}}\n  children:\n    c:\n      vars: {d: {x: 2}}\n      hosts: {h: }\n',
      'h',
      { d: { x: 2 } },
    ],
  ];
  it.each(cases)('%s', (_, yaml, name, vars) => {
    expect(host(parse(yaml), name).vars).toEqual(vars);
  });
});

describe('groups and hosts', () => {
  it('a bare string under hosts:, children:, vars: is a one-key mapping', () => {
    const inv = parse('g:\n  hosts: h1\n  children: sub\n  vars: flag\nsub:\n  hosts: {h2: }\n');
    expect(inv.groups.g).toEqual({ hosts: ['h1'], children: ['sub'], parents: ['all'] });
    expect(host(inv, 'h1').vars).toEqual({ flag: null });
    expect(host(inv, 'h2').groups).toEqual(['all', 'g', 'sub']);
  });

  it('null hosts, empty groups and empty sections', () => {
    const inv = parse('empty:\nother:\n  hosts:\n  vars:\n  children:\ng:\n  hosts:\n    a:\n    b: {}\n');
    expect(inv.groups.empty).toEqual({ hosts: [], children: [], parents: ['all'] });
    expect(inv.groups.g?.hosts).toEqual(['a', 'b']);
  });

  it('ungrouped: hosts only in all, and a host leaves it when it is in another group', () => {
    const inv = parse(
      'all:\n  hosts: {a: , b: }\n  children:\n    ungrouped:\n      hosts: {c: , d: }\ng:\n  hosts: {b: , c: }\n',
    );
    expect(inv.groups.ungrouped?.hosts).toEqual(['d', 'a']);
    expect(host(inv, 'a').groups).toEqual(['all', 'ungrouped']);
    expect(host(inv, 'b').groups).toEqual(['all', 'g']);
    expect(host(inv, 'c').groups).toEqual(['all', 'g']);
  });

  it('a port in the host key becomes ansible_port, when the host is first seen', () => {
    const inv = parse('a:\n  hosts:\n    h:2222:\nb:\n  hosts:\n    h:3333:\n    "[2001:db8::1]:2200":\n');
    expect(host(inv, 'h').vars).toEqual({ ansible_port: 2222 });
    expect(host(inv, 'h').address.port).toBe(2222);
    expect(host(inv, '2001:db8::1').address).toMatchObject({ host: '2001:db8::1', port: 2200 });
  });

  it('YAML 1.1 as Ansible reads it: yes/off, octal, merge keys; y is a string', () => {
    const inv = parse(
      'x: &base\n  vars: &v\n    a: yes\n    b: off\n    c: 0755\n    y: n\n    d: 2024-01-02\ng:\n  <<: *base\n  hosts:\n    h:\n      <<: *v\n      a: mine\n',
    );
    expect(host(inv, 'h').vars).toEqual({ a: 'mine', b: false, c: 493, y: 'n', d: '2024-01-02' });
  });

  it('!vault and !unsafe values', () => {
    const inv = parse(
      'g:\n  hosts:\n    h:\n      secret: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6162\n      raw: !unsafe "{{ x }}"\n',
    );
    expect(host(inv, 'h').vars).toEqual({
      secret: { __ansible_vault: '$ANSIBLE_VAULT;1.1;AES256\n6162\n' },
      raw: '{{ x }}',
    });
  });

  it('JSON is YAML too', () => {
    const inv = parse('{"web": {"hosts": {"w1": {"ansible_user": "ops"}}}}', 'hosts.json');
    expect(host(inv, 'w1').address.user).toBe('ops');
  });

  it('warns about group names that are not valid variable names, as Ansible does', () => {
    const r = parseInventory('web-servers:\n  hosts: {a: }\n', 'h.yml');
    expect(r.ok && r.warnings.map((w) => [w.line, w.message])).toEqual([
      [1, expect.stringContaining('`web-servers` is not a valid variable name')],
    ]);
  });
});

describe('host ranges', () => {
  const cases: Array<[string, string[], number | null]> = [
    ['www[01:03].example.com', ['www01.example.com', 'www02.example.com', 'www03.example.com'], null],
    ['www[01:10:3]', ['www01', 'www04', 'www07', 'www10'], null],
    ['www[1:3]', ['www1', 'www2', 'www3'], null],
    ['www[8:10]', ['www8', 'www9', 'www10'], null],
    ['www[08:10]', ['www08', 'www09', 'www10'], null],
    ['db-[a:c].example.com', ['db-a.example.com', 'db-b.example.com', 'db-c.example.com'], null],
    ['db-[x:B]', ['db-x', 'db-y', 'db-z', 'db-A', 'db-B'], null],
    ['db-[a:e:2]', ['db-a', 'db-c', 'db-e'], null],
    ['n[1:2]-[a:b]', ['n1-a', 'n1-b', 'n2-a', 'n2-b'], null],
    ['x[:2]', ['x0', 'x1', 'x2'], null],
    ['x[5:1:-1]', ['x5', 'x4', 'x3'], null],
    ['x[3:1]', [], null],
    ['p[1:2]:2201', ['p1', 'p2'], 2201],
    ['10.0.0.[1:3]', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], null],
    ['10.0.0.1:2200', ['10.0.0.1'], 2200],
    ['[2001:db8::1]:22', ['2001:db8::1'], 22],
    ['2001:db8::1', ['2001:db8::1'], null],
    ['fe80::[a:c]', ['fe80::a', 'fe80::b', 'fe80::c'], null],
    ['host.example.com', ['host.example.com'], null],
    ['my_host', ['my_host'], null],
  ];
  it.each(cases)('%s', (pattern, hosts, port) => {
    expect(expandHostPattern(pattern)).toEqual({ hosts, port });
  });

  const bad: Array<[string, RegExp]> = [
    ['web[1-3]', /begin:end or begin:end:step/],
    ['web[1:]', /must specify end value/],
    ['web[01:100]', /equal-length/],
    ['web[c:a]', /begin <= end/],
    ['web[1:3', /both `\[` and `\]`/],
    ['web[a:3]', /not a range/],
    ['web[1:3:0]', /must not be zero/],
    ['web[0:999999]', /more than 100000 hosts/],
  ];
  it.each(bad)('%s is an error', (pattern, message) => {
    expect(() => expandHostPattern(pattern)).toThrow(message);
  });

  it('parse_address: hosts, IPv4, IPv6 and ports', () => {
    expect(parseAddress('web1')).toEqual({ host: 'web1', port: null });
    expect(parseAddress('web1:22')).toEqual({ host: 'web1', port: 22 });
    expect(parseAddress('192.0.2.1:22')).toEqual({ host: '192.0.2.1', port: 22 });
    expect(parseAddress('[::1]:22')).toEqual({ host: '::1', port: 22 });
    expect(parseAddress('::1')).toEqual({ host: '::1', port: null });
    expect(parseAddress('web[1:3]')).toBeNull();
    expect(parseAddress('web[1:3]', true)).toEqual({ host: 'web[1:3]', port: null });
    expect(parseAddress('web*')).toBeNull();
    expect(parseAddress('-web')).toBeNull();
  });
});

describe('the connection and the kernelfile var', () => {
  it('ansible_ssh_* take precedence over ansible_*, wherever they are set', () => {
    const inv = parse(
      'g:\n  vars:\n    ansible_ssh_host: 10.0.0.9\n    ansible_ssh_user: admin\n  hosts:\n    h:\n      ansible_host: 10.0.0.1\n      ansible_user: ops\n      ansible_port: "2222"\n      ansible_private_key_file: ~/.ssh/a\n      ansible_ssh_private_key_file: ~/.ssh/b\n      ansible_become: "yes"\n',
    );
    expect(host(inv, 'h').address).toEqual({
      host: '10.0.0.9',
      port: 2222,
      user: 'admin',
      identity: '~/.ssh/b',
      become: true,
    });
  });

  it('defaults: the inventory name, no port, user or key, no become', () => {
    expect(host(parse('g:\n  hosts:\n    web1:\n'), 'web1').address).toEqual({
      host: 'web1',
      port: null,
      user: null,
      identity: null,
      become: false,
    });
  });

  it.each([
    [true, true],
    ['True', true],
    ['on', true],
    [1, true],
    ['no', false],
    [false, false],
    ['0', false],
  ])('ansible_become: %s', (value, become) => {
    const inv = parse(`g:\n  hosts:\n    h:\n      ansible_become: ${JSON.stringify(value)}\n`);
    expect(host(inv, 'h').address.become).toBe(become);
  });

  it('the kernelfile var, resolved against the inventory directory', () => {
    const inv = parse(
      'all:\n  vars:\n    kernelfile: kernels/default.yaml\n  children:\n    edge:\n      hosts:\n        e1:\n          kernelfile: /srv/edge.yaml\n        e2:\n          kernelfile: ../other/k.yaml\n    plain:\n      hosts: {p1: }\n',
      '/proj/inventory/hosts.yml',
    );
    expect(
      inv.hosts.map((h) => [h.name, h.kernelfile, hostKernelfile(h, '/proj/inventory/hosts.yml')]),
    ).toEqual([
      ['e1', '/srv/edge.yaml', '/srv/edge.yaml'],
      ['e2', '../other/k.yaml', '/proj/other/k.yaml'],
      ['p1', 'kernels/default.yaml', '/proj/inventory/kernels/default.yaml'],
    ]);
    expect(hostKernelfile(host(inv, 'p1'), 'hosts.yml')).toBe('kernels/default.yaml');
    expect(hostKernelfile(host(inv, 'p1'), 'inv/hosts.yml')).toBe('inv/kernels/default.yaml');
    expect(hostKernelfile(host(parse('g:\n  hosts: {x: }\n'), 'x'), '/a/b.yml')).toBeNull();
  });

  it('warns that a Jinja2 template is used as written', () => {
    const r = parseInventory(
      'g:\n  hosts:\n    h:\n      ansible_host: "{{ inventory_hostname }}.lan"\n',
      'h.yml',
    );
    expect(r.ok && r.warnings.map((w) => `${w.line}:${w.column} ${w.message}`)).toEqual([
      expect.stringMatching(/^4:21 `ansible_host` of host `h` is a Jinja2 template/),
    ]);
  });
});

describe('errors name file:line:column and what to do', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['empty file', '', '1:1', /the inventory is empty/],
    ['only comments', '# nothing\n', '1:1', /the inventory is empty/],
    [
      'a list at the top',
      '- web1\n- web2\n',
      '1:1',
      /must be a mapping of group names to groups, not a list/,
    ],
    [
      'a group that is a host-like string',
      'web1.example.com: 10.0.0.1\n',
      '1:1',
      /group `web1.example.com` must be a mapping/,
    ],
    ['a group that is a list', 'web:\n  - w1\n', '1:1', /group `web` must be a mapping .* not a list/],
    [
      'hosts: as a list',
      'g:\n  hosts:\n    - web1\n',
      '3:5',
      /`hosts:` of group `g` must be a mapping, not a list/,
    ],
    ['children: as a number', 'g:\n  children: 3\n', '2:13', /`children:` of group `g` must be a mapping/],
    [
      'a host with a scalar value',
      'g:\n  hosts:\n    web1: 10.0.0.1\n',
      '3:11',
      /host `web1` must be a mapping of variables/,
    ],
    [
      'a host with a list value',
      'g:\n  hosts:\n    web1: [a]\n',
      '3:11',
      /host `web1` must be a mapping of variables/,
    ],
    ['an unknown key in a group', 'g:\n  host:\n    web1:\n', '2:3', /unknown key `host` in group `g`/],
    ['a mis-indented host', 'g:\n  hosts:\n    w1:\n  w2:\n', '4:3', /unknown key `w2` in group `g`/],
    [
      'bad range syntax',
      'g:\n  hosts:\n    web[1-3]:\n',
      '3:5',
      /bad host range in `web\[1-3\]`: host range must be begin:end/,
    ],
    [
      'a cycle in children',
      'a:\n  children:\n    b:\n      children:\n        a:\n',
      '3:5',
      /children form a cycle/,
    ],
    ['a group that is its own child', 'a:\n  children:\n    a:\n', '3:5', /child of itself/],
    ['all as a child', 'g:\n  children:\n    all:\n', '3:5', /`all` is listed as a child of `g`/],
    ['a duplicate host', 'g:\n  hosts:\n    a:\n    a:\n', '4:5', /duplicate key `a` \(first at line 3\)/],
    ['a duplicate group', 'g:\n  hosts: {a: }\ng:\n  hosts: {b: }\n', '3:1', /duplicate key `g`/],
    [
      'a port that is not a number',
      'g:\n  hosts:\n    h:\n      ansible_port: ssh\n',
      '4:21',
      /`ansible_port` of host `h` is not a port number: "ssh"/,
    ],
    [
      'a port out of range',
      'g:\n  vars:\n    ansible_port: 70000\n  hosts: {h: }\n',
      '3:19',
      /not a port number: 70000/,
    ],
    [
      'a host:port out of range',
      'g:\n  hosts:\n    h:99999:\n',
      '3:5',
      /`ansible_port` of host `h` is not a port number: 99999/,
    ],
    ['a bad priority', 'g:\n  vars:\n    ansible_group_priority: high\n', '3:29', /must be an integer/],
    [
      'a number as a host name',
      'g:\n  hosts:\n    12:\n',
      '3:5',
      /a host name must be a string, not a number/,
    ],
    ['a number as a group name', '2024:\n  hosts: {a: }\n', '1:1', /a group name must be a string/],
    [
      'a name both a host and a group',
      'web1:\n  hosts:\n    web1:\n',
      '3:5',
      /`web1` is both a host and a group/,
    ],
    [
      'a non-boolean become',
      'g:\n  hosts:\n    h: {ansible_become: maybe}\n',
      '3:25',
      /`ansible_become` of host `h` must be a boolean/,
    ],
    [
      'a vaulted address',
      'g:\n  hosts:\n    h:\n      ansible_host: !vault |\n        abc\n',
      '4:28',
      /must be a string, not a vault-encrypted value/,
    ],
    [
      'a kernelfile var that is not a path',
      'g:\n  hosts:\n    h: {kernelfile: 3}\n',
      '3:21',
      /the `kernelfile` var of host `h` must be a path/,
    ],
    [
      'a plugin configuration',
      'plugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n',
      '1:1',
      /configuration of an inventory plugin/,
    ],
    [
      'ansible-inventory --list JSON',
      '{"_meta": {"hostvars": {}}, "all": {"children": ["ungrouped"]}}',
      '1:2',
      /JSON output of `ansible-inventory --list`/,
    ],
    ['a tab', 'g:\n\thosts: {}\n', '2:1', /./],
    ['two documents', 'g:\n---\nh:\n', '2:1', /multiple documents/],
  ];
  it.each(cases)('%s', (_, text, at, message) => {
    const errs = errors(text);
    const first = errs[0] as InvDiagnostic;
    expect(`${first.line}:${first.column}`).toBe(at);
    expect(first.message).toMatch(message);
    expect(first.file).toBe('hosts.yml');
    expect(first.severity).toBe('error');
    if (!['two documents', 'a tab'].includes(_)) expect(first.hint).toBeTruthy();
  });

  it('reports every problem, not only the first', () => {
    const errs = errors('a:\n  host: {x: }\nb:\n  hosts:\n    - y\nc:\n  hosts:\n    z[1-2]:\n');
    expect(errs.map((e) => e.line)).toEqual([2, 5, 8]);
  });

  it('suggests the key meant', () => {
    expect(errors('g:\n  var: {a: 1}\n')[0]?.hint).toMatch(/did you mean `vars:`/);
    expect(errors('g:\n  groups: {a: }\n')[0]?.hint).toMatch(/did you mean `children:`/);
    expect(errors('g:\n  Hosts: {a: }\n')[0]?.hint).toMatch(/did you mean `hosts:`/);
  });

  it('an alias bomb is refused', () => {
    let text = 'a0: &a0 {hosts: {h: }}\n';
    for (let i = 1; i <= 25; i++)
      text += `a${i}: &a${i} {children: {x${i}: *a${i - 1}, y${i}: *a${i - 1}}}\n`;
    expect(errors(text).some((e) => /more than 200000 group and host entries/.test(e.message))).toBe(true);
  });
});

describe('INI inventories', () => {
  const ini: Array<[string, string, string[]]> = [
    [
      'sections',
      'mail.example.com\n\n[webservers]\nfoo.example.com\n',
      ['mail.example.com', 'foo.example.com'],
    ],
    [
      'vars and children sections',
      '[atlanta]\nhost1\n\n[atlanta:vars]\nntp=x\n\n[usa:children]\natlanta\n',
      ['host1'],
    ],
    [
      'a bare host list',
      'web1.example.com\nweb2.example.com:2222\n',
      ['web1.example.com', 'web2.example.com'],
    ],
    ['host lines with vars', 'jumper ansible_port=5555 ansible_host=192.0.2.50\n', ['jumper']],
  ];
  it.each(ini)('%s: read as INI (test/unit/fleet/inventory-ini.test.ts)', (_, text, hosts) => {
    for (const file of ['inventory/hosts', 'inventory/hosts.yml', 'hosts.ini'])
      expect(parse(text, file).hosts.map((h) => h.name)).toEqual(hosts);
  });
});
