/**
 * The review loop of examples/ci/ on a fleet, end to end: three real Debian hosts, each in a network
 * namespace of its own (startSshHost({ netns: true }), as fleet.test.ts), named in an Ansible YAML
 * inventory, all on examples/qemu-tiny (the tests' cached build). The commands are those the CI files
 * run, in their order:
 *
 *   kernelfile validate KERNELFILE
 *   kernelfile plan --inventory INV --out plan.json --format markdown   (the pull request: plan, comment)
 *   kernelfile apply plan.json --yes                    (the merge: no host options at all)
 *   kernelfile plan --inventory INV                     ("No changes" on every host)
 *
 * The SSH options (known_hosts, ssh config) are given to `plan` only: `apply plan.json` reaches the
 * hosts as the plan says. Between plan and apply one host changes (its hostname: its facts digest
 * changes): apply refuses that host by name and converges the two others. A new plan for the rest,
 * edited in one step (a tampered plan), is refused for that host and changes nothing; the unedited
 * plan then converges it. Plans whose hosts or kernelfiles were edited, and a --host or --inventory
 * that differs from the plan, are refused before anything connects. Last, a one-host plan takes its
 * host from the file too.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cli, kernelfile } from '../helpers/cli.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { EXAMPLE, ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, secs } from '../helpers/proc.js';
import { ensureDebianRoot } from '../helpers/rootfs.js';
import { type SshHost, startSshHost } from '../helpers/sshd.js';

const NAMES = ['web-1', 'web-2', 'db-1'] as const;
type Name = (typeof NAMES)[number];

let dir: string;
let inventory: string;
let knownHosts: string;
const hosts = {} as Record<Name, SshHost>;
let release: string;

/** The SSH options, given to `plan` only. */
const ssh = () => ['--ssh-config', 'none', '--known-hosts', knownHosts];
const at = (f: string) => join(dir, f);

const show = (r: Cli) => `exit ${r.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;

async function cli(what: string, args: string[]): Promise<Cli> {
  const t0 = Date.now();
  const r = await kernelfile(args);
  note(`${what}: ${secs(Date.now() - t0)} (exit ${r.code})`);
  return r;
}

/** Each host's row of a table printed by the CLI: name → the other columns. */
function byHost(out: string, header: RegExp): Record<string, string[]> {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => header.test(l));
  const rows: Record<string, string[]> = {};
  if (start < 0) return rows;
  for (const l of lines.slice(start + 1)) {
    if (!l.trim()) break;
    const [name, ...rest] = l.trim().split(/ {2,}/);
    rows[name as string] = rest;
  }
  return rows;
}

const results = (out: string) =>
  Object.fromEntries(Object.entries(byHost(out, /^ *HOST +RESULT +DETAIL/)).map(([n, c]) => [n, c[0]]));

async function installed(h: SshHost): Promise<boolean> {
  return (await h.exec(['test', '-e', `/var/lib/kernelfile/${release}.json`])).code === 0;
}

async function untouched(h: SshHost): Promise<boolean> {
  return (await h.exec(['test', '-e', '/var/lib/kernelfile'])).code !== 0;
}

interface PlanDoc {
  formatVersion: number;
  kind: string;
  inventory: string | null;
  hosts: Array<{
    name: string;
    state: string;
    connection: Record<string, unknown>;
    kernelfile?: { path: string; sha256: string; name: string };
    plan?: { changes: Array<{ id: string; steps: Array<Record<string, unknown>> }> };
  }>;
}

/** A saved plan, valid against schemas/kernelfile-saved-plan.schema.json (as a loose type, to edit it). */
const readPlan = (f: string) => jsonOutput(readFileSync(at(f), 'utf8'), 'saved-plan') as unknown as PlanDoc;
const writePlan = (f: string, doc: PlanDoc) => writeFileSync(at(f), JSON.stringify(doc, null, 2));

/**
 * The sizes of `plan --json` and of the saved plan (`--out`), for one host (web-1) and for the fleet,
 * noted for the report with what takes the room in the saved plan (the files its write steps carry,
 * the Kconfig differences); each document valid against its schema.
 */
async function measure(what: string): Promise<void> {
  const one = [
    'plan',
    EXAMPLE,
    '--host',
    hosts['web-1'].url(),
    '-i',
    hosts['web-1'].keys.root.privateKeyPath,
  ];
  const fleet = ['plan', '--inventory', inventory];
  for (const [who, args] of [
    ['one host', one],
    ['3 hosts', fleet],
  ] as const) {
    const json = await cli(`plan --json (${who}, ${what})`, [...args, ...ssh(), '--json']);
    expect(json.code, show(json)).toBe(0);
    const doc = jsonOutput(json.out, who === 'one host' ? 'plan' : 'fleet-plan');
    expect(JSON.stringify(doc)).not.toContain('"content"');
    const file = at(`size-${who.replace(' ', '-')}.json`);
    const out = await cli(`plan --out (${who}, ${what})`, [...args, ...ssh(), '--out', file]);
    expect(out.code, show(out)).toBe(0);
    const saved = jsonOutput(readFileSync(file, 'utf8'), 'saved-plan');
    const plans = saved.hosts.flatMap((h) => ('plan' in h ? [h.plan] : []));
    const content = plans
      .flatMap((p) => p.changes.flatMap((c) => c.steps))
      .reduce((n, s) => n + (s.kind === 'write' ? Buffer.byteLength(JSON.stringify(s.content)) : 0), 0);
    const config = plans.reduce((n, p) => n + Buffer.byteLength(JSON.stringify(p.config)), 0);
    note(
      `size (${what}, ${who}): plan --json ${Buffer.byteLength(json.out)} bytes, plan --out ${statSync(file).size} bytes (in it: write contents ${content}, Kconfig differences ${config})`,
    );
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-saved-plan-'));
  const [artifacts] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  release = JSON.parse(readFileSync(join(artifacts, 'manifest.json'), 'utf8')).release;
  const started = await Promise.all(NAMES.map((n) => startSshHost({ netns: true, hostname: n })));
  for (const [i, n] of NAMES.entries()) hosts[n] = started[i] as SshHost;
  knownHosts = at('known_hosts');
  writeFileSync(knownHosts, `${NAMES.map((n) => hosts[n].knownHostsLine()).join('\n')}\n`);
  inventory = at('inventory.yml');
  writeFileSync(
    inventory,
    [
      'all:',
      '  vars:',
      '    ansible_user: root',
      `    kernelfile: ${relative(dir, EXAMPLE)}`,
      '  children:',
      '    web:',
      '      hosts:',
      ...['web-1', 'web-2'].flatMap((n) => [
        `        ${n}:`,
        `          ansible_host: ${hosts[n as Name].address}`,
        `          ansible_ssh_private_key_file: ${hosts[n as Name].keys.root.privateKeyPath}`,
      ]),
      '    db:',
      '      hosts:',
      '        db-1:',
      `          ansible_host: ${hosts['db-1'].address}`,
      `          ansible_ssh_private_key_file: ${hosts['db-1'].keys.root.privateKeyPath}`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await Promise.all(Object.values(hosts).map((h) => h.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the review loop: validate, plan --out, apply the plan (no host options), plan again', () => {
  it('validate', async () => {
    const r = await cli('validate', ['validate', EXAMPLE]);
    expect(r.code, show(r)).toBe(0);
  });

  it('plan --inventory --out --format markdown --locked: one file, every host with how to reach it, and the comment', async () => {
    const r = await cli('plan --out --format markdown --locked', [
      'plan',
      '--inventory',
      inventory,
      ...ssh(),
      '--locked', // the committed examples/qemu-tiny/kernelfile.lock holds (the CI files' line)
      '--out',
      at('plan.json'),
      '--format',
      'markdown',
      '--detailed-exitcode',
    ]);
    expect(r.code, show(r)).toBe(2);
    // The comment the CI posts: found again by its first line; every host in it; no text plan.
    expect(r.out.split('\n')[0]).toBe('<!-- kernelfile plan -->');
    for (const n of NAMES) expect(r.out).toContain(n);
    expect(r.out).not.toContain('Saved the plan');
    note(`plan.md (the comment): ${r.out.length} characters`);
    const doc = readPlan('plan.json');
    expect(doc).toMatchObject({ formatVersion: 2, kind: 'kernelfile-plan', inventory });
    expect(doc.hosts.map((h) => [h.name, h.state])).toEqual(NAMES.map((n) => [n, 'changes pending']));
    for (const h of doc.hosts) {
      const host = hosts[h.name as Name];
      expect(h.connection).toEqual({
        host: `ssh://root@${host.address}`,
        identity: host.keys.root.privateKeyPath,
        sudo: false,
        sshConfig: 'none',
        knownHosts: [knownHosts],
        connectTimeoutMs: 10_000,
      });
      expect(h.kernelfile?.path).toBe(relative(process.cwd(), EXAMPLE));
    }
    note(`plan.json (3 hosts, a full install each): ${statSync(at('plan.json')).size} bytes`);
    for (const n of NAMES) expect(await untouched(hosts[n])).toBe(true);
  });

  it('sizes: the plan JSON and the saved plan of one host and of the fleet, a full install', async () => {
    await measure('a full install');
    for (const n of NAMES) expect(await untouched(hosts[n])).toBe(true);
  });

  it('a --host or --inventory that differs from the plan is refused before connecting', async () => {
    const host = await cli('apply plan.json --host', [
      'apply',
      at('plan.json'),
      '--host',
      hosts['web-1'].url(),
      '--yes',
    ]);
    expect(host.code, show(host)).toBe(1);
    expect(host.err).toContain(
      `kernelfile: --host ${hosts['web-1'].url()}: the plan ${at('plan.json')} is for 3 hosts of ${inventory} (web-1, web-2, db-1). Nothing was changed`,
    );
    const limited = await cli('apply plan.json --inventory --limit web', [
      'apply',
      at('plan.json'),
      '--inventory',
      inventory,
      '--limit',
      'web',
      '--yes',
    ]);
    expect(limited.code, show(limited)).toBe(1);
    expect(limited.err).toContain(
      `differs from the plan ${at('plan.json')}: db-1 is in the plan but not selected`,
    );
  });

  it('a plan whose hosts or kernelfiles were edited is refused as a whole', async () => {
    const redirected = readPlan('plan.json');
    (redirected.hosts[0] as PlanDoc['hosts'][number]).connection.host = 'ssh://root@10.0.0.1;reboot:22';
    writePlan('redirected.json', redirected);
    const r1 = await cli('apply redirected.json', ['apply', at('redirected.json'), '--yes']);
    expect(r1.code, show(r1)).toBe(1);
    expect(r1.err).toContain(
      `kernelfile: the plan ${at('redirected.json')}: host web-1: cannot read a host name in --host ssh://root@10.0.0.1;reboot:22`,
    );
    const elsewhere = readPlan('plan.json');
    (elsewhere.hosts[1]?.kernelfile as { path: string }).path = '../../../etc/kernelfile.yaml';
    writePlan('elsewhere.json', elsewhere);
    const r2 = await cli('apply elsewhere.json', ['apply', at('elsewhere.json'), '--yes']);
    expect(r2.code, show(r2)).toBe(1);
    expect(r2.err).toContain(
      `kernelfile: ${at('elsewhere.json')} is not a usable plan: incomplete or invalid plan: hosts[1] (web-2).kernelfile.path: ../../../etc/kernelfile.yaml is not inside the working directory`,
    );
    for (const n of NAMES) expect(await untouched(hosts[n])).toBe(true);
  });

  it('apply plan.json --yes: the host changed since the plan is refused by name, the others converge', async () => {
    // Someone renames db-1 after the review: its facts (system) are not those the plan was made from.
    const renamed = await hosts['db-1'].exec(['hostname', 'db-1-renamed']);
    expect(renamed.code, renamed.stderr).toBe(0);
    const r = await cli('apply plan.json (db-1 changed)', ['apply', at('plan.json'), '--yes', '--locked']);
    expect(r.code, show(r)).toBe(1);
    expect(r.out).toMatch(
      new RegExp(
        `^Saved plan ${at('plan.json')}: 3 hosts from ${inventory}, each checked against a fresh plan$`,
        'm',
      ),
    );
    expect(results(r.out), show(r)).toEqual({ 'web-1': 'converged', 'web-2': 'converged', 'db-1': 'failed' });
    const detail = byHost(r.out, /^ *HOST +RESULT +DETAIL/)['db-1']?.[1];
    expect(detail).toBe(
      `the saved plan ${at('plan.json')} is stale for db-1: the facts of ${hosts['db-1'].url()} changed since the plan was made (system). Nothing was changed`,
    );
    expect(r.err).toContain(
      `db-1: hint: review a new plan: kernelfile plan --inventory ${inventory} --out ${at('plan.json')}`,
    );
    expect(r.out).toMatch(/^2 of 3 hosts converged; 1 not \(above\)\.$/m);
    expect(await installed(hosts['web-1'])).toBe(true);
    expect(await installed(hosts['web-2'])).toBe(true);
    expect(await untouched(hosts['db-1'])).toBe(true);
  });

  it('a new plan for the rest, tampered in one step, is refused for that host; nothing changes', async () => {
    const p = await cli('plan --out plan2.json', [
      'plan',
      '--inventory',
      inventory,
      ...ssh(),
      '--out',
      at('plan2.json'),
    ]);
    expect(p.code, show(p)).toBe(0);
    expect(p.out).toMatch(/^Fleet plan: 5 to add, 0 to change, 0 to destroy on 1 of 3 hosts\.$/m);
    expect(p.out).toContain(
      `Saved the plan of 3 hosts to ${at('plan2.json')}. Apply exactly this plan with: kernelfile apply ${at('plan2.json')}`,
    );
    const doc = readPlan('plan2.json');
    expect(doc.hosts.map((h) => [h.name, h.state])).toEqual([
      ['web-1', 'converged'],
      ['web-2', 'converged'],
      ['db-1', 'changes pending'],
    ]);
    const db = doc.hosts[2]?.plan?.changes ?? [];
    const write = db.flatMap((c) => c.steps).find((s) => s.kind === 'write');
    expect(write, 'db-1 has a write step to tamper with').toBeDefined();
    const was = (write as { path: string }).path;
    (write as { path: string }).path = '/etc/cron.d/kernelfile-tampered';
    writePlan('tampered.json', doc);
    const r = await cli('apply tampered.json', ['apply', at('tampered.json'), '--yes']);
    expect(r.code, show(r)).toBe(1);
    expect(results(r.out), show(r)).toEqual({ 'web-1': 'unchanged', 'web-2': 'unchanged', 'db-1': 'failed' });
    const detail = byHost(r.out, /^ *HOST +RESULT +DETAIL/)['db-1']?.[1] ?? '';
    expect(detail).toContain(
      `the saved plan ${at('tampered.json')} does not match a fresh plan for db-1: change `,
    );
    expect(detail).toContain(`path /etc/cron.d/kernelfile-tampered, the fresh plan has ${was}`);
    expect(await untouched(hosts['db-1'])).toBe(true);
    expect((await hosts['db-1'].exec(['test', '-e', '/etc/cron.d/kernelfile-tampered'])).code).not.toBe(0);
  });

  it('the reviewed plan converges the last host; a second plan says no changes anywhere', async () => {
    const r = await cli('apply plan2.json', ['apply', at('plan2.json'), '--yes']);
    expect(r.code, show(r)).toBe(0);
    expect(results(r.out), show(r)).toEqual({
      'web-1': 'unchanged',
      'web-2': 'unchanged',
      'db-1': 'converged',
    });
    expect(r.out).toMatch(/^3 of 3 hosts converged\.$/m);
    expect(await installed(hosts['db-1'])).toBe(true);
    const again = await cli('plan (converged)', [
      'plan',
      '--inventory',
      inventory,
      ...ssh(),
      '--detailed-exitcode',
    ]);
    expect(again.code, show(again)).toBe(0);
    expect(again.out).toMatch(/^Fleet plan: 0 to add, 0 to change, 0 to destroy on 0 of 3 hosts\.$/m);
    for (const n of NAMES) expect(byHost(again.out, /^HOST +RUNNING/)[n]?.[3]).toBe('converged');
    await measure('a no-op');
  });

  it('a one-host plan takes its host from the file too (no --host on apply)', async () => {
    const h = hosts['web-2'];
    const p = await cli('plan --host --out one.json', [
      'plan',
      EXAMPLE,
      '--host',
      h.url(),
      '-i',
      h.keys.root.privateKeyPath,
      ...ssh(),
      '--out',
      at('one.json'),
    ]);
    expect(p.code, show(p)).toBe(0);
    expect(p.out).toContain(`Apply exactly this plan with: kernelfile apply ${at('one.json')}`);
    note(`one.json (one converged host, a no-op): ${statSync(at('one.json')).size} bytes`);
    const r = await cli('apply one.json', ['apply', at('one.json'), '--yes']);
    expect(r.code, show(r)).toBe(0);
    expect(r.out).toContain(h.url());
    expect(r.out).toContain('No changes.');
  });
});
