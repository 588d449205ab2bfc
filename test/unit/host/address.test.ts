import { describe, expect, it } from 'vitest';
import { AddressError, parseHostAddress } from '../../../src/host/address.js';

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

describe('a mistyped scheme in --host', () => {
  it.each([
    [
      'rooot:/srv/rootfs',
      'unknown scheme `rooot:` in --host rooot:/srv/rootfs: did you mean `root:`?',
      'e.g. --host root:/srv/rootfs',
    ],
    [
      'Rot:/srv/rootfs',
      'unknown scheme `Rot:` in --host Rot:/srv/rootfs: did you mean `root:`?',
      'e.g. --host root:/srv/rootfs',
    ],
    [
      'sh://web-1',
      'unknown scheme `sh://` in --host sh://web-1: did you mean `ssh://`?',
      'e.g. --host ssh://web-1',
    ],
    [
      'ssh:/web-1',
      'unknown scheme `ssh:` in --host ssh:/web-1: did you mean `ssh://`?',
      'e.g. --host ssh://web-1',
    ],
  ])('%s: the scheme meant', (written, message, hint) => {
    let error: unknown;
    try {
      parseHostAddress(written);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AddressError);
    expect((error as AddressError).message).toBe(message);
    expect((error as AddressError).hint).toBe(hint);
  });

  it.each([
    ['web-1:22', { kind: 'ssh', host: 'web-1', port: 22 }],
    ['fe80::1', { kind: 'ssh', host: 'fe80::1' }],
    ['root:/srv/rootfs', { kind: 'root', dir: '/srv/rootfs' }],
  ])('%s is not a scheme', (written, expected) => {
    expect(parseHostAddress(written)).toMatchObject(expected);
  });

  it('a word far from every scheme keeps the error it had', () => {
    expect(() => parseHostAddress('http://web-1')).toThrow('unknown scheme in --host http://web-1');
    expect(() => parseHostAddress('web:abc')).toThrow('bad port `abc` in --host web:abc');
  });
});
