import { describe, expect, it } from 'vitest';
import { parseHostAddress } from '../../../src/host/address.js';

describe('--host addresses', () => {
  it.each([
    ['local', { kind: 'local' }],
    ['root:/srv/rootfs', { kind: 'root', dir: '/srv/rootfs' }],
    ['root:/srv/rootfs/', { kind: 'root', dir: '/srv/rootfs' }],
    ['ssh://root@web-1:2222', { kind: 'ssh', host: 'web-1', user: 'root', port: 2222 }],
    ['ssh://web-1', { kind: 'ssh', host: 'web-1' }],
    ['ssh://admin@[::1]:22', { kind: 'ssh', host: '::1', user: 'admin', port: 22 }],
    ['web-1', { kind: 'ssh', host: 'web-1' }],
    ['deploy@db.example.org', { kind: 'ssh', host: 'db.example.org', user: 'deploy' }],
    ['10.0.0.7:22', { kind: 'ssh', host: '10.0.0.7', port: 22 }],
  ])('%s', (written, expected) => {
    expect(parseHostAddress(written)).toMatchObject(expected);
  });

  it.each([
    ['', /empty/],
    ['root:srv/rootfs', /absolute path/],
    ['http://web-1', /unknown scheme/],
    ['ssh://web-1:99999', /bad port `99999`/],
    ['ssh://web-1:abc', /bad port `abc`/],
    ['ssh://@web-1', /empty user/],
    ['web 1', /cannot read a host name/],
    ['web;reboot', /cannot read a host name/],
  ])('refuses %j', (written, message) => {
    expect(() => parseHostAddress(written)).toThrow(message);
  });
});
