/**
 * A fleet, end to end: three real Debian hosts, each in a network namespace of its own with its own
 * address (startSshHost({ netns: true })), named in an Ansible YAML inventory with two groups:
 * `web` (web-1, web-2: examples/qemu-tiny, through a group var) and `db` (db-1: the example with
 * another localversion, test/fixtures/apply/prev, through a host var): two distinct builds.
 *
 *  - `plan --inventory` plans all three, each distinct build once, as text and JSON; `--limit
 *    'web:!web-2'` plans web-1 only;
 *  - `apply --serial 1` rolls out one host per batch (web-1 the canary); db-1 drops off the network
 *    when the second batch starts (its connection from the plan stays open and stalls, as when a
 *    cable is pulled): it is reported unreachable at the end, the others converge, exit 1;
 *  - `status` then: web-1 and web-2 "installed, not booted" (these hosts never run the kernel they
 *    got), db-1 unreachable, exit 7;
 *  - with db-1 back, a second apply converges it alone (web-1 and web-2 unchanged), and a third
 *    changes nothing on any host.
 *
 * The two builds come from the tests' build cache (examples/qemu-tiny: test/helpers/kernel-artifacts;
 * prev: built on first use, about 2.5 min on 2 cores, then cached). KF_FLEET_DUMP=DIR keeps the
 * output of every CLI run there, one file each.
 *
 * Last, two more hosts: a connection reset (a blip of milliseconds) while a host waits for its batch
 * must still end the apply with its table: the host reported, or reconnected.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, kernelfile } from '../helpers/cli.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { EXAMPLE, ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, secs } from '../helpers/proc.js';
import { ensureDebianRoot } from '../helpers/rootfs.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';

const PREV = fileURLToPath(new URL('../fixtures/apply/prev/kernelfile.yaml', import.meta.url));
const NAMES = ['web-1', 'web-2', 'db-1'] as const;
type Name = (typeof NAMES)[number];

let dir: string;
let inventory: string;
let knownHosts: string;
const hosts = {} as Record<Name, SshHost>;
/** The example's release and build id (web), and the prev kernelfile's (db). */
let web: { release: string; buildId: string };
let db: { release: string; buildId: string };

const common = () => ['--inventory', inventory, '--ssh-config', 'none', '--known-hosts', knownHosts];

/** Run the CLI, note how long it took, and show its output when an expectation fails. */
async function cli(what: string, args: string[], opts: Parameters<typeof kernelfile>[1] = {}): Promise<Cli> {
  const t0 = Date.now();
  const r = await kernelfile(args, opts);
  note(`${what}: ${secs(Date.now() - t0)} (exit ${r.code})`);
  if (process.env.KF_FLEET_DUMP)
    writeFileSync(join(process.env.KF_FLEET_DUMP, `${what.replace(/[^\w.-]+/g, '_')}.txt`), show(r));
  return r;
}
const show = (r: Cli) => `exit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;

/** The rows of a table printed by the CLI: its lines from the header on, split on runs of spaces. */
function tableRows(out: string, header: RegExp): string[][] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.trim()) break;
    rows.push(l.trim().split(/ {2,}/));
  }
  return rows;
}

/** Each host's row of a table: its name (first column) → the other columns. */
function byHost(out: string, header: RegExp): Record<string, string[]> {
  return Object.fromEntries(tableRows(out, header).map(([name, ...rest]) => [name, rest]));
}

async function installed(h: SshHost, release: string): Promise<boolean> {
  return (await h.exec(['test', '-e', `/var/lib/kernelfile/${release}.json`])).code === 0;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-fleet-'));
  if (!existsSync(PREV)) throw new Error(`${PREV} is missing: the second kernelfile of the fleet`);
  const [artifacts] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  const m = JSON.parse(readFileSync(join(artifacts, 'manifest.json'), 'utf8'));
  web = { release: m.release, buildId: m.buildId };
  // The second build: a cache hit after its first time.
  const b = await cli(`build ${relative(process.cwd(), PREV)}`, ['build', PREV, '--json']);
  expect(b.code, show(b)).toBe(0);
  const built = jsonOutput(b.out, 'build');
  db = { release: built.release, buildId: built.buildId };
  expect(db.release).toMatch(/^6\.1\.192-prev-kf[0-9a-f]{8}$/);
  expect(db.buildId).not.toBe(web.buildId);

  const t0 = Date.now();
  const started = await Promise.all(NAMES.map((n) => startSshHost({ netns: true, hostname: n })));
  for (const [i, n] of NAMES.entries()) hosts[n] = started[i] as SshHost;
  note(`3 netns hosts up in ${secs(Date.now() - t0)}: ${started.map((h) => h.address).join(', ')}`);

  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${NAMES.map((n) => hosts[n].knownHostsLine()).join('\n')}\n`);
  inventory = join(dir, 'inventory.yaml');
  // Kernelfile paths relative to the inventory (as Ansible's inventory-relative vars), keys absolute.
  const rel = (p: string) => relative(dir, p);
  const hostVars = (n: Name, extra: string[] = []) =>
    [
      `        ${n}:`,
      `          ansible_host: ${hosts[n].address}`,
      '          ansible_user: root',
      `          ansible_ssh_private_key_file: ${hosts[n].keys.root.privateKeyPath}`,
      ...extra.map((l) => `          ${l}`),
    ].join('\n');
  writeFileSync(
    inventory,
    [
      '# kernelfile fleet test (test/e2e/fleet.test.ts)',
      'all:',
      '  children:',
      '    web:',
      '      vars:',
      `        kernelfile: ${rel(EXAMPLE)}`,
      '      hosts:',
      hostVars('web-1'),
      hostVars('web-2'),
      '    db:',
      '      hosts:',
      hostVars('db-1', ['ansible_port: 22', `kernelfile: ${rel(PREV)}`]),
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await Promise.all(Object.values(hosts).map((h) => h.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kernelfile on a fleet (an Ansible inventory of three hosts, two builds)', () => {
  it('plan --inventory: every host planned, each distinct build listed once with its hosts', async () => {
    const r = await cli('fleet plan', ['plan', ...common(), '--detailed-exitcode']);
    expect(r.code, show(r)).toBe(2);
    const rows = byHost(r.out, /^HOST +RUNNING +TARGET +CHANGES +STATE/);
    expect(Object.keys(rows)).toEqual([...NAMES]);
    for (const n of NAMES) {
      const [running, target, changes, state] = rows[n] as string[];
      expect(running, n).toBe((await hosts[n].exec(['uname', '-r'])).stdout.trim());
      expect(target, n).toBe(n === 'db-1' ? db.release : web.release);
      expect(changes, n).toBe('+5 ~0 -0');
      expect(state, n).toBe('changes pending');
    }
    expect(r.out).toMatch(/^Builds \(2, each built once\):$/m);
    // Each build with its hosts (named, or counted).
    expect(r.out).toMatch(
      new RegExp(`^ +${web.buildId.slice(0, 12)} +${web.release} .*(2 hosts|web-1, web-2)`, 'm'),
    );
    expect(r.out).toMatch(new RegExp(`^ +${db.buildId.slice(0, 12)} +${db.release} .*(1 host\\b|db-1)`, 'm'));
    // Per-host plans, then the fleet's totals.
    for (const n of NAMES) expect(r.out).toContain(`── ${n} ──`);
    expect(r.out).toContain(`+ kernel[${db.release}]`);
    expect(r.out).toContain(`+ kernel[${web.release}]`);
    expect(r.out).toMatch(/^Fleet plan: 15 to add, 0 to change, 0 to destroy on 3 of 3 hosts\.$/m);
    // plan changes nothing
    for (const n of NAMES)
      expect((await hosts[n].exec(['test', '-e', '/var/lib/kernelfile'])).code).not.toBe(0);
  });

  it('plan --inventory --json: hosts, their kernelfiles and plans, the builds with their hosts', async () => {
    const r = await cli('fleet plan --json', ['plan', ...common(), '--json']);
    expect(r.code, show(r)).toBe(0);
    const j = jsonOutput(r.out, 'fleet-plan');
    expect(j).toMatchObject({
      formatVersion: 1,
      kind: 'kernelfile-fleet-plan',
      counts: { add: 15, change: 0, destroy: 0 },
      changed: true,
      possible: true,
    });
    expect(j.hosts.map((h) => h.name)).toEqual([...NAMES]);
    for (const h of j.hosts) {
      expect(h.state).toBe('changes pending');
      if (!('plan' in h)) throw new Error(`${h.name} was not planned: ${h.error}`);
      const release = h.name === 'db-1' ? db.release : web.release;
      expect(h.kernelfile.name).toBe(h.name === 'db-1' ? 'qemu-tiny-prev' : 'qemu-tiny');
      expect(h.plan.summary.release).toBe(release);
      expect(h.plan.counts).toEqual({ add: 5, change: 0, destroy: 0 });
      expect(h.plan.host).toBe(hosts[h.name as Name].url());
    }
    expect(j.builds).toHaveLength(2);
    const builds = Object.fromEntries(j.builds.map((b) => [b.buildId, b]));
    expect(builds[web.buildId]).toMatchObject({
      release: web.release,
      hosts: ['web-1', 'web-2'],
      cached: true,
    });
    expect(builds[db.buildId]).toMatchObject({ release: db.release, hosts: ['db-1'], cached: true });
  });

  it("plan --limit 'web:!web-2' plans web-1 only", async () => {
    const r = await cli('fleet plan --limit', ['plan', ...common(), '--limit', 'web:!web-2', '--json']);
    expect(r.code, show(r)).toBe(0);
    const j = jsonOutput(r.out, 'fleet-plan');
    expect(j.hosts.map((h) => h.name)).toEqual(['web-1']);
    expect(j.builds.map((b) => [b.buildId, b.hosts])).toEqual([[web.buildId, ['web-1']]]);
    expect(j.counts).toEqual({ add: 5, change: 0, destroy: 0 });
    const t = await cli('fleet plan --limit (text)', ['plan', ...common(), '--limit', 'web:!web-2']);
    expect(t.code, show(t)).toBe(0);
    expect(Object.keys(byHost(t.out, /^HOST +RUNNING/))).toEqual(['web-1']);
    expect(t.out).toMatch(/^Fleet plan: 5 to add, 0 to change, 0 to destroy on 1 of 1 host\.$/m);
  });

  let cutHost: Name | undefined;

  it('apply --serial 1: one host per batch; the one that drops off the network mid-run is reported, the others converge', async () => {
    const batchLines: string[] = [];
    let cutting: Promise<void> | undefined;
    const r = await cli(
      'fleet apply --serial 1 (one host cut at batch 2)',
      ['apply', ...common(), '--yes', '--serial', '1'],
      {
        onErrLine: (line) => {
          const m = /^batch (\d+)\/(\d+)(?: \(canary\))?: (.*)$/.exec(line);
          if (!m) return;
          batchLines.push(line);
          // The second batch starts: the first is done. Cut the host of the last batch (the one in
          // neither batch so far) while its connection from the plan is open and idle.
          if (m[1] === '2' && !cutting) {
            const seen = batchLines.flatMap((l) => (l.split(': ')[1] ?? '').split(', '));
            cutHost = NAMES.find((n) => !seen.includes(n));
            if (cutHost) cutting = hosts[cutHost].cutNetwork();
          }
        },
      },
    );
    await cutting;
    expect(batchLines, show(r)).toEqual(['batch 1/3 (canary): web-1', 'batch 2/3: web-2', 'batch 3/3: db-1']);
    expect(cutHost).toBe('db-1');
    expect(r.code, show(r)).toBe(1);
    // Each distinct build once, before the first batch (both from the cache).
    for (const b of [web, db]) {
      const line = `building ${b.buildId.slice(0, 12)} (${b.release}) once for the fleet`;
      expect(
        r.err.split('\n').filter((l) => l === line),
        show(r),
      ).toHaveLength(1);
    }
    // Progress lines carry the host's inventory name.
    for (const n of ['web-1', 'web-2']) {
      expect(r.err).toMatch(new RegExp(`^${n}:   ✓ `, 'm'));
      expect(r.err).toMatch(new RegExp(`^${n}: kernel\\[${web.release}\\] \\(1/\\d+\\)`, 'm'));
    }
    // db-1 got as far as its first step on the host (the build is the controller's, from the cache).
    expect(r.err).not.toMatch(/^db-1: {3}✓ (?!build )/m);
    const rows = byHost(r.out, /^ *HOST +RESULT +DETAIL/);
    expect(Object.keys(rows), show(r)).toEqual([...NAMES]);
    expect(rows['web-1']?.[0]).toBe('converged');
    expect(rows['web-2']?.[0]).toBe('converged');
    expect(rows['db-1']?.[0], show(r)).toBe('unreachable');
    // Its connection from the plan stalled; apply tries a new one before the host's batch, which
    // fails: the host is off the network.
    expect(rows['db-1']?.[1], show(r)).toMatch(/connection lost|no route to|timed out|refused/);
    expect(r.out).toMatch(/^2 of 3 hosts converged; 1 not/m);
    // What the hosts have: the example on web-1 and web-2, nothing on db-1.
    expect(await installed(hosts['web-1'], web.release)).toBe(true);
    expect(await installed(hosts['web-2'], web.release)).toBe(true);
    expect((await hosts['db-1'].exec(['test', '-e', '/var/lib/kernelfile'])).code).not.toBe(0);
    const env = await hosts['web-2'].exec(['grub-editenv', '/boot/grub/grubenv', 'list']);
    expect(env.stdout).toContain(`saved_entry=kernelfile-${web.release}`);
  });

  it('status: the converged hosts "installed, not booted", the cut one unreachable; exit 7 (the worst)', async () => {
    const r = await cli('fleet status (db-1 cut)', ['status', ...common()]);
    expect(r.code, show(r)).toBe(7);
    const rows = byHost(r.out, /^HOST +STATE +RUNNING +TARGET +DETAIL/);
    expect(Object.keys(rows), show(r)).toEqual([...NAMES]);
    for (const n of ['web-1', 'web-2'] as const) {
      const [state, running, target] = rows[n] as string[];
      expect(state, show(r)).toBe('installed, not booted');
      expect(running).toBe((await hosts[n].exec(['uname', '-r'])).stdout.trim());
      expect(target).toBe(web.release);
    }
    expect(rows['db-1']?.[0], show(r)).toBe('unreachable');
    const j = await cli('fleet status --json (db-1 cut)', ['status', ...common(), '--json']);
    expect(j.code, show(j)).toBe(7);
    const s = jsonOutput(j.out, 'status');
    expect(s.exitCode).toBe(7);
    expect(s.hosts.map((h) => [h.name, h.state])).toEqual([
      ['web-1', 'installed-not-booted'],
      ['web-2', 'installed-not-booted'],
      ['db-1', 'unreachable'],
    ]);
    expect(s.hosts[0]).toMatchObject({ target: web.release });
    expect(s.hosts[2]).toMatchObject({ running: null, target: null });
    expect(s.hosts[2]?.detail).toMatch(/route|unreachable/i);

    // A host that drops packets instead: its connection attempt times out (--connect-timeout).
    await hosts['db-1'].cutNetwork({ mode: 'drop' });
    try {
      const d = await cli('fleet status --json (db-1 dropping packets)', [
        'status',
        ...common(),
        '--json',
        '--connect-timeout',
        '2',
      ]);
      expect(d.code, show(d)).toBe(7);
      const dj = jsonOutput(d.out, 'status');
      expect(dj.hosts[2]).toMatchObject({ name: 'db-1', state: 'unreachable' });
      expect(dj.hosts[2]?.detail).toMatch(/timed out|timeout/i);
    } finally {
      await hosts['db-1'].cutNetwork(); // back to "no route"
    }
  });

  it('while db-1 is off: plan names it unreachable (exit 1); apply leaves the others unchanged and reports it', async () => {
    const p = await cli('fleet plan --json (db-1 cut)', ['plan', ...common(), '--json']);
    expect(p.code, show(p)).toBe(1);
    const j = jsonOutput(p.out, 'fleet-plan');
    expect(j.possible).toBe(false);
    expect(j.hosts.map((h) => [h.name, h.state])).toEqual([
      ['web-1', 'converged'],
      ['web-2', 'converged'],
      ['db-1', 'unreachable'],
    ]);
    const cut = j.hosts[2];
    if (!cut || 'plan' in cut) throw new Error('db-1 was planned');
    expect(cut.error).toMatch(/no route/i);
    expect(j.builds.map((b) => b.buildId)).toEqual([]);
    // These hosts still run this machine's kernel: the Kconfig difference is against the build
    // kernelfile installed (its receipt and /boot/config-REL, read by the facts), so none.
    for (const h of j.hosts.slice(0, 2))
      expect('plan' in h ? h.plan.config : h.error, h.name).toMatchObject({
        base: 'installed',
        release: web.release,
        buildId: web.buildId,
        fallback: null,
        added: [],
        removed: [],
        changed: [],
      });
    const t = await cli('fleet plan (db-1 cut)', ['plan', ...common()]);
    expect(t.code, show(t)).toBe(1);
    expect(t.out).toContain(
      `  Kconfig against the installed build ${web.release} (/boot/config-${web.release}, build ${web.buildId.slice(0, 12)}) → ${web.release}: no difference\n`,
    );
    expect(t.out).toMatch(
      /^Fleet plan: 0 to add, 0 to change, 0 to destroy on 0 of 3 hosts; 1 cannot be planned/m,
    );

    const a = await cli('fleet apply (db-1 cut at plan time)', [
      'apply',
      ...common(),
      '--yes',
      '--serial',
      '1',
    ]);
    expect(a.code, show(a)).toBe(1);
    const rows = byHost(a.out, /^ *HOST +RESULT +DETAIL/);
    expect(Object.fromEntries(Object.entries(rows).map(([n, c]) => [n, c[0]])), show(a)).toEqual({
      'web-1': 'unchanged',
      'web-2': 'unchanged',
      'db-1': 'unreachable',
    });
    expect(rows['db-1']?.[1]).toMatch(/no route/i);
    expect(a.out).toMatch(/^2 of 3 hosts converged; 1 not/m);
    expect(a.err).not.toMatch(/^building /m);
  });

  it('back on the network, a second apply converges db-1 alone; the others are unchanged', async () => {
    await hosts['db-1'].restoreNetwork();
    const r = await cli('fleet apply (db-1 back)', ['apply', ...common(), '--yes', '--serial', '1']);
    expect(r.code, show(r)).toBe(0);
    const rows = byHost(r.out, /^ *HOST +RESULT +DETAIL/);
    expect(Object.fromEntries(Object.entries(rows).map(([n, c]) => [n, c[0]])), show(r)).toEqual({
      'web-1': 'unchanged',
      'web-2': 'unchanged',
      'db-1': 'converged',
    });
    expect(r.out).toMatch(/^3 of 3 hosts converged/m);
    // Only db-1's build is needed, and only db-1 is touched.
    expect(r.err).toContain(`building ${db.buildId.slice(0, 12)} (${db.release}) once for the fleet`);
    expect(r.err).not.toContain(`building ${web.buildId.slice(0, 12)}`);
    expect(r.err).toMatch(/^db-1: {3}✓ /m);
    expect(r.err).not.toMatch(/^web-\d: {3}✓ /m);
    expect(await installed(hosts['db-1'], db.release)).toBe(true);
    expect(await installed(hosts['db-1'], web.release)).toBe(false);
    const st = await hosts['db-1'].exec(['dkms', 'status', '-m', 'kernelfile-hello', '-k', db.release]);
    expect(st.stdout).toMatch(/installed/);

    const s = await cli('fleet status --json (all applied)', ['status', ...common(), '--json']);
    expect(s.code, show(s)).toBe(3);
    expect(jsonOutput(s.out, 'status').hosts.map((h) => h.state)).toEqual([
      'installed-not-booted',
      'installed-not-booted',
      'installed-not-booted',
    ]);
  });

  it('a third apply changes nothing on any host, and the fleet plan agrees', async () => {
    for (const n of NAMES) await hosts[n].exec(['touch', '/tmp/kf-before-third-apply']);
    const r = await cli('fleet apply (nothing to do)', ['apply', ...common(), '--yes', '--serial', '1']);
    expect(r.code, show(r)).toBe(0);
    const rows = byHost(r.out, /^ *HOST +RESULT +DETAIL/);
    expect(Object.fromEntries(Object.entries(rows).map(([n, c]) => [n, c[0]])), show(r)).toEqual({
      'web-1': 'unchanged',
      'web-2': 'unchanged',
      'db-1': 'unchanged',
    });
    expect(r.err).not.toMatch(/^building /m);
    expect(r.err).not.toMatch(/^batch /m);
    for (const n of NAMES) {
      const changed = await hosts[n].exec([
        'find',
        '/boot',
        '/lib/modules',
        '/usr/src',
        '/etc',
        '/var/lib/kernelfile',
        '/var/lib/dkms',
        '-newer',
        '/tmp/kf-before-third-apply',
      ]);
      expect(changed.stdout.trim(), n).toBe('');
    }
    const p = await cli('fleet plan (converged)', ['plan', ...common(), '--detailed-exitcode']);
    expect(p.code, show(p)).toBe(0);
    expect(p.out).toMatch(/^Fleet plan: 0 to add, 0 to change, 0 to destroy on 0 of 3 hosts\.$/m);
  });
});

describe('a connection lost while its host waits for its batch', () => {
  const pair: SshHost[] = [];
  let inv: string;
  let kh: string;

  beforeAll(async () => {
    pair.push(
      ...(await Promise.all(['blip-1', 'blip-2'].map((n) => startSshHost({ netns: true, hostname: n })))),
    );
    kh = join(dir, 'known_hosts.blip');
    writeFileSync(kh, `${pair.map((h) => h.knownHostsLine()).join('\n')}\n`);
    inv = join(dir, 'blip.yaml');
    writeFileSync(
      inv,
      [
        'all:',
        '  vars:',
        `    kernelfile: ${relative(dir, EXAMPLE)}`,
        '    ansible_user: root',
        '  hosts:',
        ...pair.flatMap((h) => [
          `    ${h.hostname}:`,
          `      ansible_host: ${h.address}`,
          `      ansible_ssh_private_key_file: ${h.keys.root.privateKeyPath}`,
        ]),
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await Promise.all(pair.map((h) => h.stop()));
  });

  it('is reported (or reconnected), and apply still ends with its table and exit code', async () => {
    const [one, two] = pair as [SshHost, SshHost];
    let blip: Promise<void> | undefined;
    const r = await cli(
      'fleet apply (blip-2 reset while waiting)',
      ['apply', '--inventory', inv, '--ssh-config', 'none', '--known-hosts', kh, '--yes', '--serial', '1'],
      {
        onErrLine: (line) => {
          // A blip of a few milliseconds while the canary runs: blip-2's open connection is reset
          // (as by a NAT or firewall restart); blip-2 itself is reachable again at once.
          if (line.startsWith('batch 1/2') && !blip)
            blip = (async () => {
              await two.cutNetwork({ dropOpen: true });
              await two.restoreNetwork();
            })();
        },
      },
    );
    await blip;
    expect(r.err).toContain('batch 2/2: blip-2');
    // The CLI ends normally (not Node's exit 13 for a top-level await that never settled), with the
    // Apply table and the summary.
    const rows = byHost(r.out, /^ *HOST +RESULT +DETAIL/);
    expect(rows[one.hostname]?.[0], show(r)).toBe('converged');
    // Either reported (its connection is gone) or, if kernelfile reconnects, converged: never a
    // silent end.
    if (rows[two.hostname]?.[0] === 'converged') {
      expect(r.code, show(r)).toBe(0);
      expect(r.out).toMatch(/^2 of 2 hosts converged/m);
    } else {
      expect(rows[two.hostname]?.[0], show(r)).toBe('unreachable');
      expect(rows[two.hostname]?.[1]).toMatch(/connection lost/);
      expect(r.code, show(r)).toBe(1);
      expect(r.out).toMatch(/^1 of 2 hosts converged; 1 not/m);
    }
  });
});
