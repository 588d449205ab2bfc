import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../src/host/ssh-config.js';

const CONFIG = `
Host web-*
  User deploy
  IdentityFile ~/.ssh/web_%h
Host web-1
  HostName 10.0.0.5
  Port 2222
  ProxyJump bastion
Host locked
  HostName locked.example.org
  IdentityFile ~/.ssh/locked
  IdentitiesOnly yes
Host *
  IdentityFile ~/.ssh/id_work
`;
const env = { home: '/home/u', localUser: 'u' };

describe('resolving a host through ~/.ssh/config', () => {
  it('applies Host blocks in order, first value wins, tokens expanded', () => {
    expect(resolveTarget({ host: 'web-1' }, CONFIG, env)).toEqual({
      alias: 'web-1',
      host: '10.0.0.5',
      port: 2222,
      user: 'deploy',
      identityFiles: [
        '/home/u/.ssh/web_10.0.0.5',
        '/home/u/.ssh/id_work',
        '/home/u/.ssh/id_ed25519',
        '/home/u/.ssh/id_ecdsa',
        '/home/u/.ssh/id_rsa',
      ],
      identitiesOnly: false,
      proxyJump: ['bastion'],
    });
  });

  it('lets the --host address override user and port, and --identity come first', () => {
    const t = resolveTarget({ host: 'web-1', user: 'root', port: 22 }, CONFIG, {
      ...env,
      extraIdentities: ['/keys/ci'],
    });
    expect(t).toMatchObject({ user: 'root', port: 22, host: '10.0.0.5' });
    expect(t.identityFiles[0]).toBe('/keys/ci');
  });

  it('IdentitiesOnly drops the default keys', () => {
    expect(resolveTarget({ host: 'locked' }, CONFIG, env).identityFiles).toEqual([
      '/home/u/.ssh/locked',
      '/home/u/.ssh/id_work',
    ]);
  });

  it('without a config: the name itself, port 22, the local user', () => {
    expect(resolveTarget({ host: 'db.example.org' }, undefined, env)).toMatchObject({
      host: 'db.example.org',
      port: 22,
      user: 'u',
      proxyJump: [],
    });
  });
});
