/**
 * An INI inventory with group_vars/ and host_vars/ through the real command line:
 * - `plan --inventory hosts.ini` reaches a real SSH host (test/helpers/sshd.ts) with the address,
 *   port, user and key the vars files give it (its kernelfile, from group_vars/, cannot be prepared:
 *   the source tarball is empty, so no kernel is built), and reports the host whose host_vars point
 *   at a port nothing listens on as unreachable;
 * - `kernelfile inventory hosts.ini --json` prints a document valid against its schema whose
 *   `ansible` part is what `ansible-inventory --list` prints (when it is installed), restricted to the
 *   variables kernelfile reads; the text view lists the same hosts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KERNELFILE_VARS } from '../../src/fleet/inventory.js';
import { ansibleInventoryList, onPath } from '../helpers/ansible-reference.js';
import { cliIn } from '../helpers/cli-in-process.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { freePort, type SshHost, startSshHost } from '../helpers/sshd.js';
import { canonical } from '../unit/fleet/ansible-list.js';

let dir: string;
let h: SshHost;
let down: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-inventory-'));
  h = await startSshHost();
  down = await freePort();
  writeFileSync(join(dir, 'known_hosts'), `${h.knownHostsLine()}\n`);
  mkdirSync(join(dir, 'inv', 'group_vars', 'web'), { recursive: true });
  mkdirSync(join(dir, 'inv', 'host_vars'), { recursive: true });
  mkdirSync(join(dir, 'kernelfiles'), { recursive: true });
  writeFileSync(join(dir, 'kernelfiles', 'linux-6.1.192.tar.xz'), '');
  writeFileSync(
    join(dir, 'kernelfiles', 'web.yaml'),
    'apiVersion: kernelfile/v1\nname: ini-test\nkernel:\n  version: "6.1.192"\n  source: {path: linux-6.1.192.tar.xz}\n',
  );
  writeFileSync(
    join(dir, 'inv', 'hosts.ini'),
    '# the web servers\n[web]\nweb-1\nweb-2 ansible_become=false\n\n[web:vars]\nansible_user=nobody\n',
  );
  writeFileSync(
    join(dir, 'inv', 'group_vars', 'web', 'main.yml'),
    `kernelfile: ../kernelfiles/web.yaml\nansible_user: root\nansible_ssh_private_key_file: ${h.keys.root.privateKeyPath}\nansible_become_password: not-for-kernelfile\n`,
  );
  writeFileSync(
    join(dir, 'inv', 'host_vars', 'web-1.yml'),
    `ansible_host: 127.0.0.1\nansible_port: ${h.port}\n`,
  );
  writeFileSync(
    join(dir, 'inv', 'host_vars', 'web-2'),
    `{"ansible_host": "127.0.0.1", "ansible_port": ${down}}\n`,
  );
}, 300_000);
afterAll(async () => {
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => cliIn(dir, args);

describe('plan --inventory hosts.ini', () => {
  it('reaches the host the vars files describe; the one they point elsewhere is unreachable', async () => {
    const r = await cli(
      'plan',
      '--inventory',
      'inv/hosts.ini',
      '--ssh-config',
      'none',
      '--known-hosts',
      join(dir, 'known_hosts'),
      '--connect-timeout',
      '5',
      '--json',
    );
    expect(r.code, r.err).toBe(1);
    const doc = jsonOutput(r.out, 'fleet-plan');
    const states = Object.fromEntries(doc.hosts.map((x) => [x.name, x.state]));
    expect(states).toEqual({ 'web-1': 'error', 'web-2': 'unreachable' });
    const web1 = doc.hosts.find((x) => x.name === 'web-1');
    // Connected as root with the key from group_vars/: the kernelfile (from group_vars/ too) is what fails.
    expect(web1 && 'error' in web1 ? web1.error : '').toMatch(/linux-6\.1\.192\.tar\.xz|source/i);
    const web2 = doc.hosts.find((x) => x.name === 'web-2');
    expect(web2 && 'error' in web2 ? web2.error : '').toContain(`127.0.0.1:${down}`);
  });
});

describe('kernelfile inventory', () => {
  it('--json: the hosts as kernelfile reaches them, and the shape of ansible-inventory --list', async () => {
    const r = await cli('inventory', 'inv/hosts.ini', '--json');
    expect(r.code, r.err).toBe(0);
    const doc = jsonOutput(r.out, 'inventory');
    expect(doc.file).toBe('inv/hosts.ini');
    expect(doc.hosts.map((x) => [x.name, x.address, x.identity, x.become, x.kernelfile])).toEqual([
      ['web-1', `ssh://root@127.0.0.1:${h.port}`, h.keys.root.privateKeyPath, false, 'kernelfiles/web.yaml'],
      ['web-2', `ssh://root@127.0.0.1:${down}`, h.keys.root.privateKeyPath, false, 'kernelfiles/web.yaml'],
    ]);
    expect(doc.hosts[0]?.vars.ansible_port).toEqual({
      value: h.port,
      file: 'inv/host_vars/web-1.yml',
      line: 2,
    });
    expect(doc.hosts[0]?.vars.ansible_user).toEqual({
      value: 'root',
      file: 'inv/group_vars/web/main.yml',
      line: 2,
    });
    // Never a variable kernelfile does not read.
    expect(r.out).not.toContain('not-for-kernelfile');
    if (onPath('ansible-inventory')) {
      const theirs = ansibleInventoryList(join(dir, 'inv', 'hosts.ini')) as {
        _meta: { hostvars: Record<string, Record<string, unknown>> };
      };
      for (const vars of Object.values(theirs._meta.hostvars))
        for (const k of Object.keys(vars)) if (!KERNELFILE_VARS.includes(k)) delete vars[k];
      expect(canonical(doc.ansible)).toEqual(canonical(theirs));
    }
  });

  it('the text view, and --limit', async () => {
    const r = await cli('inventory', 'inv/hosts.ini', '--limit', 'web-2');
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^HOST\s+ADDRESS\s+KEY\s+SUDO\s+KERNELFILE\s+GROUPS$/);
    expect(r.out).toContain(`ssh://root@127.0.0.1:${down}`);
    expect(r.out).not.toContain('web-1');
    expect(r.out).toContain('1 host (of 2) in inv/hosts.ini');
  });

  it('an error: the error document under --json, the text on stderr', async () => {
    writeFileSync(join(dir, 'inv', 'bad.ini'), '[web]\nweb-1 ansible_port\n');
    const r = await cli('inventory', 'inv/bad.ini', '--json');
    expect(r.code).toBe(1);
    const e = jsonOutput(r.out, 'error');
    expect(e.command).toBe('inventory');
    expect(e.error.message).toBe(
      'inv/bad.ini:2:7: expected `name=value` after host `web-1`, got `ansible_port`',
    );
    expect(r.err).toContain('inv/bad.ini:2:7: expected `name=value`');
  });
});
