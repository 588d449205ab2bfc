/**
 * Ansible host patterns as `--limit` takes them.
 *
 * test/fixtures/inventory/patterns.ansible-limit.json is what ansible-core 2.19.0.dev0 selected for
 * each pattern from patterns.yml (`--limit PATTERN` on a play for `all`, with
 * `host_pattern_mismatch = error`: kernelfile's choice), in Ansible's order; "EMPTY" when it selected
 * nothing, "ERROR …" when it refused the pattern. kernelfile selects the same hosts, in inventory order.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Inventory, parseInventory } from '../../../src/fleet/inventory.js';
import {
  globToRegExpSource,
  orderPatterns,
  selectHosts,
  splitHostPattern,
  splitSubscript,
} from '../../../src/fleet/limit.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url));

function load(text: string, file = 'hosts.yml'): Inventory {
  const r = parseInventory(text, file);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.value;
}

const inv = load(readFileSync(`${FIXTURES}patterns.yml`, 'utf8'), 'patterns.yml');
const recorded = JSON.parse(readFileSync(`${FIXTURES}patterns.ansible-limit.json`, 'utf8')) as Record<
  string,
  string[] | string
>;

function names(pattern: string, from: Inventory = inv): string[] | string {
  const s = selectHosts(from, pattern);
  return s.ok ? s.hosts.map((h) => h.name) : `ERR ${s.error}`;
}

describe('the same hosts as Ansible', () => {
  const order = new Map(inv.hosts.map((h, i) => [h.name, i]));
  it.each(Object.entries(recorded))('%s', (pattern, theirs) => {
    const mine = names(pattern);
    if (Array.isArray(theirs))
      expect(mine).toEqual([...theirs].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)));
    else expect(mine).toMatch(/^ERR /);
  });

  it('covers the documented forms', () => {
    expect(Object.keys(recorded).length).toBeGreaterThanOrEqual(50);
  });
});

describe('patterns', () => {
  const cases: Array<[string, string[] | RegExp]> = [
    ['all', inv.hosts.map((h) => h.name)],
    ['*', inv.hosts.map((h) => h.name)],
    ['cobweb', ['cobweb']],
    ['webservers', ['cobweb', 'webbing', 'weber', 'web9']],
    [
      'webservers:dbservers',
      ['cobweb', 'webbing', 'weber', 'web9', 'one.example.com', 'two.example.com', 'db-a', 'db-b', 'db-c'],
    ],
    ['webservers:!phoenix', ['cobweb', 'webbing', 'web9']],
    ['webservers:&staging', ['webbing']],
    ['webservers:dbservers:&staging:!phoenix', ['webbing', 'two.example.com']],
    ['!phoenix:&staging:webservers', ['webbing']],
    ['&staging', ['webbing', 'two.example.com']],
    ['web*', ['cobweb', 'webbing', 'weber', 'web9']],
    ['*.example.com', ['mail.example.com', 'one.example.com', 'two.example.com']],
    ['db-?', ['db-a', 'db-b', 'db-c']],
    ['db-[!a]', ['db-b', 'db-c']],
    ['~(web|db).*\\.example\\.com', []],
    [
      '~(web|db)',
      ['cobweb', 'webbing', 'weber', 'web9', 'one.example.com', 'two.example.com', 'db-a', 'db-b', 'db-c'],
    ],
    ['~web', ['cobweb', 'webbing', 'weber', 'web9']],
    ['~(?i)COB', ['cobweb']],
    ['webservers[0]', ['cobweb']],
    ['webservers[-1]', ['web9']],
    ['webservers[0:2]', ['cobweb', 'webbing', 'weber']],
    ['webservers[1:]', ['webbing', 'weber', 'web9']],
    ['webservers[0],webservers[-1]', ['cobweb', 'web9']],
    ['2001:db8::1', ['2001:db8::1']],
    ['2001:db8::1,cobweb', ['cobweb', '2001:db8::1']],
    ['192.0.2.*', ['192.0.2.50']],
    ['ungrouped', ['mail.example.com']],
    [' webservers , staging ', ['cobweb', 'webbing', 'weber', 'web9', 'two.example.com']],
  ];
  it.each(cases)('%s', (pattern, expected) => {
    if (Array.isArray(expected) && expected.length === 0)
      expect(names(pattern)).toMatch(/^ERR .*matches no host/);
    else expect(names(pattern)).toEqual(expected);
  });

  it('returns hosts in inventory order, each once, whatever the order of the pattern', () => {
    expect(names('dbservers,webservers[0],cobweb,mail.example.com')).toEqual([
      'mail.example.com',
      'cobweb',
      'one.example.com',
      'two.example.com',
      'db-a',
      'db-b',
      'db-c',
    ]);
  });

  it('returns the inventory hosts themselves', () => {
    const s = selectHosts(inv, 'cobweb');
    expect(s.ok && s.hosts[0]).toBe(inv.hosts.find((h) => h.name === 'cobweb'));
  });
});

describe('what selects nothing is an error, with a hint', () => {
  const cases: Array<[string, RegExp, RegExp]> = [
    ['nope', /`nope` matches no host or group in patterns\.yml/, /check the spelling/],
    ['webservers,nope', /`nope` matches no host or group/, /spelling/],
    ['all:!nope', /`nope` matches no host or group/, /spelling/],
    ['192.0.2.99', /`192\.0\.2\.99` matches no host/, /not `ansible_host` addresses/],
    ['webservers[:3]', /`webservers\[:3\]` matches no host or group/, /write `\[0:N\]`/],
    [
      'webservers[5]',
      /No hosts matched the subscripted pattern `webservers\[5\]`: `webservers` has 4 hosts/,
      /0 to 3/,
    ],
    ['webservers[-5]', /No hosts matched the subscripted pattern/, /0 to 3/],
    ['webservers[5:9]', /`webservers\[5:9\]` leaves no hosts to target/, /./],
    ['emptygroup', /leaves no hosts to target/, /./],
    ['webservers:&dbservers', /leaves no hosts to target/, /intersected/],
    ['', /the host pattern is empty/, /`all` for every host/],
    [' , ', /the host pattern is empty/, /./],
    ['&', /`&` has nothing after `&`/, /e\.g\. `&webservers`/],
    ['@retry.txt', /limit files \(`@FILE`\) are not supported/, /commas/],
    ['~(', /`~\(` is not a valid host pattern/, /regular expression/],
    ['~(?x)a b', /verbose flag/, /regular expression/],
    ['db-[c-a]', /`db-\[c-a\]` matches no host or group/, /./],
    ['localhost', /`localhost` matches no host or group/, /implicit localhost is not supported/],
  ];
  it.each(cases)('%j', (pattern, error, hint) => {
    const s = selectHosts(inv, pattern);
    expect(s.ok).toBe(false);
    if (!s.ok) {
      expect(s.error).toMatch(error);
      expect(s.hint).toMatch(hint);
    }
  });

  it.each([
    ['webserver', 'webservers'],
    ['webservers:!stagin', 'staging'],
    ['dbservers:&Phoenix', 'phoenix'],
    ['cobwebb', 'cobweb'],
    ['one.example.org', 'one.example.com'],
  ])('%j: did you mean the close group or host name', (pattern, meant) => {
    const s = selectHosts(inv, pattern);
    expect(s.ok).toBe(false);
    if (!s.ok)
      expect(s.error).toMatch(
        new RegExp(
          `matches no host or group in patterns\\.yml; did you mean \`${meant.replace(/\./g, '\\.')}\`\\?$`,
        ),
      );
  });

  it.each(['nope', 'web*x', '~zz'])('%j: no name is close, no guess', (pattern) => {
    const s = selectHosts(inv, pattern);
    expect(s.ok || s.error).toMatch(/matches no host or group in patterns\.yml$/);
  });

  it('a group with no hosts is not a mismatch when something else matches', () => {
    expect(names('emptygroup,cobweb')).toEqual(['cobweb']);
  });
});

describe('the pieces', () => {
  it.each([
    ['a,b[1], c[2:3] , d', ['a', 'b[1]', 'c[2:3]', 'd']],
    ['webservers:dbservers:&staging:!phoenix', ['webservers', 'dbservers', '&staging', '!phoenix']],
    ['web[1:3]', ['web[1:3]']],
    ['g[1:]:h', ['g[1:]', 'h']],
    ['2001:db8::1', ['2001:db8::1']],
    ['[2001:db8::1]:22', ['[2001:db8::1]:22']],
    ['host:22', ['host:22']],
    ['a b', ['a', 'b']],
    ['', []],
  ])('splitHostPattern(%j)', (pattern, parts) => {
    expect(splitHostPattern(pattern)).toEqual(parts);
  });

  it('orderPatterns: unions, then &, then !; all when there is no union', () => {
    expect(orderPatterns(['!d', 'a', '&c', 'b', '!e'])).toEqual(['a', 'b', '&c', '!d', '!e']);
    expect(orderPatterns(['!d', '&c'])).toEqual(['all', '&c', '!d']);
  });

  it.each([
    ['web[0]', 'web', [0, null]],
    ['web[-1]', 'web', [-1, null]],
    ['web[1:3]', 'web', [1, 3]],
    ['web[1:]', 'web', [1, -1]],
    ['web[1-3]', 'web', [1, 3]],
    ['web*[2]', 'web*', [2, null]],
    ['web[:3]', 'web[:3]', null],
    ['~web[1]', '~web[1]', null],
    ['web', 'web', null],
  ])('splitSubscript(%j)', (pattern, expr, subscript) => {
    expect(splitSubscript(pattern)).toEqual({ expr, subscript });
  });

  it.each([
    ['web*', ['web', 'web1', 'webX.y'], ['cobweb']],
    ['db-?', ['db-a'], ['db-', 'db-ab']],
    ['[abc]x', ['ax', 'cx'], ['dx', 'abx']],
    ['[!abc]x', ['dx'], ['ax']],
    ['[a-c]x', ['bx'], ['dx']],
    ['[]]x', [']x'], ['ax']],
    ['[x', ['[x'], ['x']],
    ['a.b', ['a.b'], ['axb']],
    ['[z-a]', [], ['z', 'a', '-']],
    ['[!]', ['[!]'], ['!']],
    ['[!]]', ['a'], [']']],
  ])('glob %j', (glob, yes, no) => {
    const re = new RegExp(`^(?:${globToRegExpSource(glob)})$`, 's');
    for (const s of yes) expect(re.test(s), s).toBe(true);
    for (const s of no) expect(re.test(s), s).toBe(false);
  });
});
