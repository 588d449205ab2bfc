/** cache.store: the URL forms, what is refused (credentials, queries, bad names) and where validation says so. */
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../../src/spec/diagnostic.js';
import { validate } from '../../../src/spec/validate.js';
import { isLoopback, parseStoreUrl } from '../../../src/store/url.js';
import { memfs } from '../../helpers/memfs.js';

const HEAD = `apiVersion: kernelfile/v1
name: t
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;

function run(text: string, files: Record<string, string> = {}) {
  const fs = memfs({ '/p/linux-6.1.192.tar.xz': '', ...files });
  const r = validate(new TextEncoder().encode(text), 'kernelfile.yaml', {
    fs,
    kernelfile: '/p/kernelfile.yaml',
    home: '/home/u',
  });
  const all: Diagnostic[] = r.ok ? r.warnings : [...r.errors, ...r.warnings];
  return { ok: r.ok, all: all.map((d) => [d.severity, d.code, d.line, d.column]), ds: all };
}

describe('parseStoreUrl', () => {
  it('oci:// is HTTPS, oci+http:// plain HTTP; the repository may have several components', () => {
    expect(parseStoreUrl('oci://Registry.Example.com/kernels/web')).toEqual({
      ref: {
        protocol: 'https',
        host: 'registry.example.com',
        authority: 'registry.example.com',
        repository: 'kernels/web',
        base: 'https://registry.example.com',
        display: 'oci://registry.example.com/kernels/web',
      },
    });
    expect(parseStoreUrl('oci+http://127.0.0.1:5000/k')).toEqual({
      ref: {
        protocol: 'http',
        host: '127.0.0.1',
        port: 5000,
        authority: '127.0.0.1:5000',
        repository: 'k',
        base: 'http://127.0.0.1:5000',
        display: 'oci+http://127.0.0.1:5000/k',
      },
    });
    expect(parseStoreUrl('oci://[::1]:443/a/b-c__d.e/')).toMatchObject({
      ref: { host: '[::1]', port: 443, repository: 'a/b-c__d.e' },
    });
  });

  it.each([
    ['oci://user:secret@reg.example.com/k', 'store-credentials-in-url', /credentials/],
    ['oci://token@reg.example.com/k', 'store-credentials-in-url', /credentials/],
    ['https://reg.example.com/k', 'bad-store-url', /not a store URL/],
    ['oci://reg.example.com', 'bad-store-url', /no repository/],
    ['oci://reg.example.com/', 'bad-store-url', /no repository/],
    ['oci://reg.example.com/Kernels', 'bad-store-url', /"Kernels" is not a valid OCI repository/],
    ['oci://reg.example.com/k/../x', 'bad-store-url', /"\.\." is not a valid/],
    ['oci://reg.example.com/k?x=1', 'bad-store-url', /query or a fragment/],
    ['oci://reg.example.com/k#f', 'bad-store-url', /query or a fragment/],
    ['oci://reg.example.com:99999/k', 'bad-store-url', /out of range/],
    ['oci://reg_example/k', 'bad-store-url', /not a host name/],
    ['oci://reg.example.com/k j', 'bad-store-url', /space or a control/],
    ['reg.example.com/k', 'bad-store-url', /not a URL/],
  ])('%s is refused (%s)', (text, code, message) => {
    const r = parseStoreUrl(text);
    expect('problem' in r && r.problem.code).toBe(code);
    expect('problem' in r && r.problem.message).toMatch(message);
  });

  it('the credentials refused are never echoed back', () => {
    const r = parseStoreUrl('oci://alice:hunter2@reg.example.com/k');
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('https:// gets the oci:// spelling as its hint', () => {
    const r = parseStoreUrl('https://reg.example.com/k');
    expect('problem' in r && r.problem.hint).toBe('an OCI registry is written oci://reg.example.com/k');
  });

  it('loopback hosts', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) expect(isLoopback(h)).toBe(true);
    for (const h of ['10.0.0.1', 'reg.example.com', '[::2]']) expect(isLoopback(h)).toBe(false);
  });
});

describe('cache.store in a kernelfile', () => {
  it('a good store validates without a diagnostic', () => {
    expect(run(`${HEAD}cache:\n  store: oci://reg.example.com/kernels\n`)).toEqual({
      ok: true,
      all: [],
      ds: [],
    });
  });

  it('credentials in the URL: an error at its line and column', () => {
    const r = run(`${HEAD}cache:\n  store: oci://u:p@reg.example.com/kernels\n`);
    expect(r.ok).toBe(false);
    expect(r.all).toEqual([['error', 'store-credentials-in-url', 7, 10]]);
    expect(r.ds[0]?.hint).toMatch(/docker login/);
  });

  it('plain HTTP: fine on loopback, a warning to another machine', () => {
    expect(run(`${HEAD}cache:\n  store: oci+http://127.0.0.1:5000/k\n`).all).toEqual([]);
    expect(run(`${HEAD}cache:\n  store: oci+http://10.0.0.5:5000/k\n`).all).toEqual([
      ['warning', 'insecure-store', 7, 10],
    ]);
  });

  it('storeCa: the file must exist; without a store it is an error', () => {
    expect(
      run(`${HEAD}cache:\n  store: oci://r.example/k\n  storeCa: ca.pem\n`, { '/p/ca.pem': 'x' }).all,
    ).toEqual([]);
    expect(run(`${HEAD}cache:\n  store: oci://r.example/k\n  storeCa: ca.pem\n`).all).toEqual([
      ['error', 'file-not-found', 8, 12],
    ]);
    expect(run(`${HEAD}cache:\n  storeCa: ca.pem\n`, { '/p/ca.pem': 'x' }).all).toEqual([
      ['error', 'store-ca-without-store', 7, 12],
    ]);
  });

  it('an unknown key under cache: is a schema error at its line', () => {
    const r = run(`${HEAD}cache:\n  stor: oci://r.example/k\n`);
    expect(r.ok).toBe(false);
    expect(r.all[0]?.[2]).toBe(7);
  });
});
