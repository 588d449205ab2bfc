/**
 * Host kinds: display names that read back, capabilities known before connecting, inventory hosts
 * mapped by `ansible_connection`, and a new kind added as one registry entry.
 */
import { describe, expect, it } from 'vitest';
import { type InventoryHost, parseInventory } from '../../../src/fleet/inventory.js';
import {
  capabilitiesOf,
  formatHostAddress,
  HOST_KINDS,
  type HostAddress,
  inventoryAddress,
  parseHostAddress,
} from '../../../src/host/address.js';
import { AddressError, type HostKind, hostRegistry } from '../../../src/host/kind.js';
import { localHost } from '../../../src/host/kinds/local.js';
import { rootHost } from '../../../src/host/kinds/root.js';
import { sshHost } from '../../../src/host/kinds/ssh.js';
import type { Transport } from '../../../src/host/transport.js';

/** The address without `written` (which records the text, not the host). */
function host(a: HostAddress) {
  if (a.kind !== 'ssh') return a;
  const { written: _, ...rest } = a;
  return rest;
}

describe('formatHostAddress', () => {
  it.each([
    ['local', 'local'],
    ['root:/srv/rootfs', 'root:/srv/rootfs'],
    ['root:/srv/rootfs//', 'root:/srv/rootfs'],
    ['root:/', 'root:/'],
    ['ssh://root@web-1:22', 'ssh://root@web-1:22'],
    ['ssh://root@web-1:22/', 'ssh://root@web-1:22'],
    ['SSH://web-1', 'ssh://web-1'],
    ['web-1', 'ssh://web-1'],
    ['deploy@db.example.org', 'ssh://deploy@db.example.org'],
    ['10.0.0.7:2222', 'ssh://10.0.0.7:2222'],
    ['ssh://admin@[::1]:22', 'ssh://admin@[::1]:22'],
    ['[fe80::1]', 'ssh://[fe80::1]'],
    ['ssh://a%40b@web-1', 'ssh://a@b@web-1'],
    ['ssh://50%25@web-1', 'ssh://50%25@web-1'],
  ])('%s is shown as %s, which reads back as the same host', (written, shown) => {
    const a = parseHostAddress(written);
    expect(formatHostAddress(a)).toBe(shown);
    expect(host(parseHostAddress(formatHostAddress(a)))).toEqual(host(a));
  });

  it('names a host as its transport does once user and port are known', () => {
    expect(formatHostAddress({ kind: 'ssh', host: 'web-1', user: 'root', port: 22, written: 'web-1' })).toBe(
      'ssh://root@web-1:22',
    );
  });
});

describe('parseHostAddress errors are unchanged', () => {
  it.each([
    ['', '--host is empty'],
    ['   ', '--host is empty'],
    ['root:srv', 'root:srv must be an absolute path'],
    ['ftp://x', 'unknown scheme in --host ftp://x'],
    ['x:0', 'bad port `0` in --host x:0'],
    ['@x', 'empty user name in --host @x'],
    ['a b', 'cannot read a host name in --host a b'],
  ])('%j', (written, message) => {
    let error: unknown;
    try {
      parseHostAddress(written);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AddressError);
    expect((error as AddressError).message).toBe(message);
    expect((error as AddressError).hint).toBeTruthy();
  });
});

describe('capabilitiesOf', () => {
  it('an SSH host runs a kernel and may be rebooted', () => {
    expect(capabilitiesOf(parseHostAddress('ssh://root@web-1'))).toEqual({
      image: false,
      runningKernel: true,
      reboot: { ok: true },
    });
  });

  it('this machine runs a kernel, and is not rebooted by kernelfile', () => {
    expect(capabilitiesOf(parseHostAddress('local'))).toEqual({
      image: false,
      runningKernel: true,
      reboot: {
        ok: false,
        why: '--reboot would reboot this machine, and kernelfile could not wait for it',
        hint: 'apply to this machine without --reboot, then reboot it yourself',
      },
    });
  });

  it('a root filesystem is an image: no running kernel, nothing to reboot', () => {
    expect(capabilitiesOf(parseHostAddress('root:/srv/rootfs/'))).toEqual({
      image: true,
      runningKernel: false,
      reboot: {
        ok: false,
        why: '--reboot needs a host reached over SSH; root:/srv/rootfs is a root filesystem directory',
      },
    });
  });
});

function inventory(yaml: string): Record<string, InventoryHost> {
  const r = parseInventory(yaml, 'hosts.yml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return Object.fromEntries(r.value.hosts.map((h) => [h.name, h]));
}

describe('inventoryAddress', () => {
  const hosts = inventory(`
all:
  hosts:
    web-1:
    web-2:
      ansible_host: 10.0.0.2
      ansible_user: deploy
      ansible_port: 2222
      ansible_ssh_private_key_file: keys/deploy
      ansible_become: yes
    v6:
      ansible_host: "fe80::2"
      ansible_connection: ssh
    smart:
      ansible_connection: smart
    controller:
      ansible_connection: local
    fq:
      ansible_connection: ansible.builtin.local
    image:
      ansible_connection: chroot
      ansible_host: /srv/rootfs/
    relative:
      ansible_connection: community.general.chroot
    windows:
      ansible_connection: winrm
    odd:
      ansible_connection: 3
    spaced:
      ansible_host: "web 3"
`);
  const of = (name: string) => inventoryAddress(hosts[name] as InventoryHost);

  it('SSH by default, with the inventory name as the host', () => {
    expect(of('web-1')).toEqual({ kind: 'ssh', host: 'web-1', written: 'ssh://web-1' });
  });

  it('SSH with ansible_host, user, port, key file and become', () => {
    const a = of('web-2');
    expect(a).toEqual({
      kind: 'ssh',
      host: '10.0.0.2',
      user: 'deploy',
      port: 2222,
      identity: 'keys/deploy',
      become: true,
      written: 'ssh://deploy@10.0.0.2:2222',
    });
    expect(formatHostAddress(a as HostAddress)).toBe('ssh://deploy@10.0.0.2:2222');
    expect(capabilitiesOf(a as HostAddress).reboot.ok).toBe(true);
  });

  it('an IPv6 address, and Ansible’s smart connection, are SSH', () => {
    expect(formatHostAddress(of('v6') as HostAddress)).toBe('ssh://[fe80::2]');
    expect(of('smart')).toMatchObject({ kind: 'ssh', host: 'smart' });
  });

  it('ansible_connection: local is this machine', () => {
    expect(of('controller')).toEqual({ kind: 'local' });
    expect(of('fq')).toEqual({ kind: 'local' });
  });

  it('ansible_connection: chroot is a root filesystem directory, named by ansible_host', () => {
    expect(of('image')).toEqual({ kind: 'root', dir: '/srv/rootfs' });
    expect(capabilitiesOf(of('image') as HostAddress).image).toBe(true);
    expect(of('relative')).toEqual({
      error:
        'host `relative` uses `ansible_connection: chroot`, but its directory `relative` is not an absolute path',
      hint: 'set `ansible_host` to the root filesystem directory, e.g. `ansible_host: /srv/rootfs`',
    });
  });

  it('other connections are refused, naming the host and the connection', () => {
    expect(of('windows')).toEqual({
      error: 'host `windows`: kernelfile cannot connect with `ansible_connection: winrm`',
      hint: 'kernelfile connects with `local`, `chroot`, `ssh`, `smart`, `paramiko`, `paramiko_ssh`',
    });
    expect(of('odd')).toMatchObject({
      error: 'host `odd`: kernelfile cannot connect with `ansible_connection: 3`',
    });
  });

  it('an ansible_host that is no host name is refused', () => {
    expect(of('spaced')).toMatchObject({ error: 'host `spaced`: cannot read a host name in `web 3`' });
  });
});

describe('a new host kind is one registry entry', () => {
  interface VmAddress {
    kind: 'vm';
    name: string;
  }
  const opened: string[] = [];
  const vmHost: HostKind<VmAddress> = {
    kind: 'vm',
    parse: (s) => (s.startsWith('vm:') ? { kind: 'vm', name: s.slice(3) } : undefined),
    format: (a) => `vm:${a.name}`,
    capabilities: () => ({ image: false, runningKernel: true, reboot: { ok: true } }),
    inventory: { connections: ['vm'], address: (h) => ({ kind: 'vm', name: h.name }) },
    async open(a) {
      opened.push(a.name);
      return { name: `vm:${a.name}`, kind: 'vm', capabilities: this.capabilities(a) } as unknown as Transport;
    },
  };
  // SSH stays last: it reads any name.
  const registry = hostRegistry([localHost, rootHost, vmHost, sshHost]);

  it('parses, shows, maps and opens it, and the other kinds as before', async () => {
    const a = registry.parse('vm:builder');
    expect(a).toEqual({ kind: 'vm', name: 'builder' });
    expect(registry.format(a)).toBe('vm:builder');
    expect(registry.capabilities(a).runningKernel).toBe(true);
    const t = await registry.open('vm:builder');
    expect(t.name).toBe('vm:builder');
    expect(opened).toEqual(['builder']);
    expect(
      registry.inventoryAddress(
        inventory('all:\n  hosts:\n    b1:\n      ansible_connection: vm\n').b1 as InventoryHost,
      ),
    ).toEqual({ kind: 'vm', name: 'b1' });
    expect(registry.parse('root:/x')).toEqual({ kind: 'root', dir: '/x' });
    expect(registry.format(registry.parse('web-1'))).toBe('ssh://web-1');
  });

  it('the built-in registry does not know it', () => {
    expect(HOST_KINDS.map((k) => k.kind)).toEqual(['local', 'root', 'ssh']);
    expect(() => parseHostAddress('vm:builder')).toThrow('bad port `builder`');
  });
});
