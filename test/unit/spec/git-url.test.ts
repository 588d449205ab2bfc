/**
 * `kernel.source.git` and `ref`: a value git would read as an option or as a transport helper
 * (`--upload-pack=CMD`, `ext::CMD`) is refused by validate at its file:line, with what to use
 * instead. The hostile values are kept in test/fixtures/hostile/source/git-urls.json.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyGitUrl } from '../../../src/spec/git-url.js';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';

const corpus = JSON.parse(
  readFileSync(new URL('../../fixtures/hostile/source/git-urls.json', import.meta.url), 'utf8'),
) as { refused: { git: string; code: string }[]; accepted: string[] };

const fs = memfs({ '/proj/vendor/linux/Kconfig': '', '/proj/vendor/linux/Makefile': '' }, ['/proj/.git']);
const env = { fs, kernelfile: '/proj/kernelfile.yaml', home: '/home/dev' };
const COMMIT = 'c'.repeat(40);

const kernelfile = (git: string, ref = COMMIT) => `apiVersion: kernelfile/v1
name: test
kernel:
  version: "6.1.192"
  source:
    git: ${JSON.stringify(git)}
    ref: ${JSON.stringify(ref)}
`;

function run(text: string) {
  const r = validate(new TextEncoder().encode(text), 'kernelfile.yaml', env);
  return { errors: r.ok ? [] : r.errors, ok: r.ok };
}

describe('kernel.source.git', () => {
  it.each(corpus.refused.map((c) => [c.git, c] as const))('refuses %j at its line', (_n, c) => {
    const { errors } = run(kernelfile(c.git));
    const d = errors.find((e) => e.code === c.code);
    expect(d, JSON.stringify(errors, null, 1)).toBeDefined();
    expect(d?.file).toBe('kernelfile.yaml');
    expect(d?.line).toBe(6);
    expect(d?.hint).toMatch(/https:\/\/|file:\/\//);
  });

  it('says why for an option and for a helper', () => {
    expect(run(kernelfile('--upload-pack=x@y:;touch /tmp/x;')).errors[0]?.message).toBe(
      'the git repository starts with `-`: git would read it as an option, not a repository',
    );
    expect(run(kernelfile('ext::sh -c touch% /tmp/x')).errors[0]?.message).toMatch(
      /^`ext::` asks git to run the remote helper git-remote-ext \(`ext::` runs any command\)/,
    );
  });

  it.each(corpus.accepted)('accepts %s', (git) => {
    expect(run(kernelfile(git)).errors).toEqual([]);
  });

  it('accepts a local repository, relative to the kernelfile', () => {
    expect(run(kernelfile('vendor/linux')).errors).toEqual([]);
    expect(run(kernelfile('/proj/vendor/linux')).errors).toEqual([]);
    expect(classifyGitUrl('vendor/linux.git')).toEqual({ kind: 'path' });
  });

  it('refuses a ref git would read as an option', () => {
    const { errors } = run(kernelfile('https://example.org/linux.git', '--upload-pack=touch /tmp/x'));
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [7, expect.stringMatching(/must be a full commit id/)],
    ]);
  });
});

describe('source URLs', () => {
  it.each([
    ['url: "http://example.org/linux-6.1.192.tar.xz"', 6],
    ['url: "ftp://example.org/linux-6.1.192.tar.xz"', 6],
    ['url: "-https://example.org/linux-6.1.192.tar.xz"', 6],
  ])('refuses %s', (line, at) => {
    const text = `apiVersion: kernelfile/v1\nname: t\nkernel:\n  version: "6.1.192"\n  source:\n    ${line}\n    sha256: ${'a'.repeat(64)}\n`;
    const { errors } = run(text);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]?.line).toBe(at);
  });
});
