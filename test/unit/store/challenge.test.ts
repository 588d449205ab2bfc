/** WWW-Authenticate challenges, the token realm's URL and the token answer: remote data, parsed with bounds. */
import { describe, expect, it } from 'vitest';
import { parseChallenges, parseTokenAnswer, pickChallenge, tokenUrl } from '../../../src/store/challenge.js';

describe('challenges', () => {
  it("docker hub's Bearer challenge", () => {
    expect(
      pickChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:a/b:pull',
    });
  });

  it('Basic, quoted escapes, token values, several challenges (Bearer preferred)', () => {
    expect(pickChallenge('Basic realm="kernelfile \\"test\\""')).toEqual({
      scheme: 'basic',
      realm: 'kernelfile "test"',
    });
    expect(parseChallenges('Basic realm=x, Bearer realm="https://a/t", service=s')).toEqual([
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'https://a/t', service: 's' } },
    ]);
    expect(pickChallenge('Basic realm=x, Bearer realm="https://a/t"')).toMatchObject({ scheme: 'bearer' });
  });

  it('nothing usable', () => {
    expect(pickChallenge(undefined)).toBeUndefined();
    expect(pickChallenge('Negotiate')).toBeUndefined();
    expect(pickChallenge('Bearer service="x"')).toBeUndefined(); // no realm
    expect(pickChallenge('"')).toBeUndefined();
  });

  it('the realm URL gets service and scope; plain HTTP realms only for a plain HTTP store', () => {
    const c = { scheme: 'bearer' as const, realm: 'https://auth.example/token?x=1', service: 'reg' };
    expect(String(tokenUrl(c, 'repository:k:pull', 'https'))).toBe(
      'https://auth.example/token?x=1&service=reg&scope=repository%3Ak%3Apull',
    );
    expect(tokenUrl({ ...c, realm: 'http://auth.example/t' }, 's', 'https')).toEqual({
      problem: "the registry's token realm http://auth.example is plain HTTP while the store is HTTPS",
    });
    expect(String(tokenUrl({ ...c, realm: 'http://auth.example/t' }, 's', 'http'))).toMatch(/^http:/);
    expect(tokenUrl({ ...c, realm: 'file:///etc/passwd' }, 's', 'https')).toHaveProperty('problem');
    expect(tokenUrl({ ...c, realm: 'https://u:p@auth.example/t' }, 's', 'https')).toHaveProperty('problem');
    expect(tokenUrl({ ...c, realm: 'not a url' }, 's', 'https')).toHaveProperty('problem');
  });

  it('token answers: token or access_token, visible ASCII only', () => {
    expect(parseTokenAnswer('{"token":"abc.def","expires_in":300}')).toEqual({
      token: 'abc.def',
      expiresIn: 300,
    });
    expect(parseTokenAnswer('{"access_token":"xyz"}')).toEqual({ token: 'xyz' });
    expect(parseTokenAnswer('{"token":"a\\nb"}')).toHaveProperty('problem');
    expect(parseTokenAnswer('{"token":""}')).toHaveProperty('problem');
    expect(parseTokenAnswer('<html>')).toHaveProperty('problem');
  });
});
