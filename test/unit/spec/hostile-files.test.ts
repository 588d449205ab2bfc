/**
 * Issue 12, defects 6, 7 and 13 (validation side): files a kernelfile names that are not what they
 * should be. A key named as a fragment is reported once and never quoted; a FIFO is refused at its
 * line; a multi-document file and a dangerous build.cacheDir get our own message at their line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { excerpt, fragmentShape } from '../../../src/kconfig/config.js';
import type { Diagnostic } from '../../../src/spec/diagnostic.js';
import { dangerousCacheDir } from '../../../src/spec/semantic.js';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/hostile/controller-inputs');
const corpus = (name: string) => readFileSync(join(CORPUS, name), 'latin1');

const HEAD = `apiVersion: kernelfile/v1
name: t
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;

function run(
  text: string,
  files: Record<string, string>,
  opts: { dirs?: string[]; special?: string[] } = {},
) {
  const fs = memfs({ '/p/linux-6.1.192.tar.xz': '', ...files }, opts.dirs, opts.special);
  const r = validate(new TextEncoder().encode(text), 'kernelfile.yaml', {
    fs,
    kernelfile: '/p/kernelfile.yaml',
    home: '/home/u',
  });
  const all: Diagnostic[] = r.ok ? r.warnings : [...r.errors, ...r.warnings];
  return { ok: r.ok, all };
}

const everything = (ds: Diagnostic[]) => ds.map((d) => `${d.message}\n${d.hint ?? ''}`).join('\n');

describe('a file that is not a Kconfig fragment', () => {
  for (const name of ['fake-openssh-key', 'fake-rsa-pem', 'dotenv-secrets', 'binary.bin']) {
    it(`${name} as a fragment: one diagnostic at the kernelfile line, no line of it quoted`, () => {
      const text = corpus(name);
      const { ok, all } = run(`${HEAD}config:\n  fragments:\n    - secrets/${name}\n`, {
        [`/p/secrets/${name}`]: text,
      });
      expect(ok).toBe(false);
      expect(all).toHaveLength(1);
      expect(all[0]).toMatchObject({
        severity: 'error',
        code: 'not-a-fragment',
        file: 'kernelfile.yaml',
        line: 8,
      });
      expect(all[0]?.message).toMatch(new RegExp(`^secrets/${name} does not look like a Kconfig fragment: `));
      const shown = everything(all);
      for (const line of text.split('\n').filter((l) => l.trim().length >= 6 && !/^-----/.test(l)))
        expect(shown).not.toContain(line.trim().slice(0, 12));
    });
  }

  it('names a private key as such', () => {
    expect(fragmentShape(corpus('fake-openssh-key'))).toEqual({
      ok: false,
      why: expect.stringContaining('it holds a private key'),
    });
    expect(fragmentShape(corpus('binary.bin'))).toEqual({
      ok: false,
      why: expect.stringContaining('binary'),
    });
    expect(fragmentShape(corpus('dotenv-secrets'))).toEqual({
      ok: false,
      why: '3 of its 3 lines are not `CONFIG_NAME=value` lines (the first is line 2); its lines are not shown',
    });
  });

  it('a key named as config.base.file is refused the same way', () => {
    const { ok, all } = run(`${HEAD}config:\n  base: {file: id_ed25519}\n`, {
      '/p/id_ed25519': corpus('fake-openssh-key'),
    });
    expect(ok).toBe(false);
    expect(all.map((d) => [d.code, d.line])).toEqual([['not-a-fragment', 7]]);
    expect(all[0]?.message).toMatch(
      /^id_ed25519 does not look like a Kconfig fragment: it holds a private key/,
    );
  });

  it('a real fragment with a typo still gets its line-by-line diagnostics, quoted at most 40 characters', () => {
    const { all } = run(`${HEAD}config:\n  fragments: [long.config]\n`, {
      '/p/long.config': corpus('long-bad-line.config'),
    });
    expect(all.map((d) => [d.code, d.file, d.line])).toEqual([['fragment-syntax', '/p/long.config', 3]]);
    const quoted = /`([^`]*)`/.exec(all[0]?.message ?? '')?.[1] ?? '';
    expect(quoted).toBe(`${'this-is-a-very-long-line-that-is-not-con'}…`);
  });

  it('a fragment with a few typos keeps its diagnostics (it is a fragment)', () => {
    const { all } = run(`${HEAD}config:\n  fragments: [f.config]\n`, {
      '/p/f.config': 'CONFIG_A=y\nCONFIG_B=y\nCONFIG_C y\nCONFIG_D=yes\n',
    });
    expect(all.map((d) => [d.code, d.line])).toEqual([
      ['fragment-syntax', 3],
      ['fragment-syntax', 4],
    ]);
  });

  it('excerpt() bounds and neutralises what it quotes', () => {
    expect(excerpt('a\u001b[2Jb\rc')).toBe('a?[2Jb?c');
    expect(excerpt('x'.repeat(100))).toBe(`${'x'.repeat(40)}…`);
  });
});

describe('a file that is not a regular file', () => {
  it('a FIFO as a fragment is refused at its line, naming the path', () => {
    const { ok, all } = run(
      `${HEAD}config:\n  fragments:\n    - pipe.config\n`,
      {},
      { special: ['/p/pipe.config'] },
    );
    expect(ok).toBe(false);
    expect(all).toEqual([
      expect.objectContaining({
        code: 'not-a-regular-file',
        file: 'kernelfile.yaml',
        line: 8,
        message:
          'config fragment pipe.config is a FIFO (named pipe) (/p/pipe.config); kernelfile reads only regular files',
      }),
    ]);
  });

  it("a FIFO as a module's dkms.conf is refused at the module's line", () => {
    const { ok, all } = run(
      `${HEAD}modules:\n  - name: hello\n    version: "1.0"\n    path: mod/hello\n`,
      { '/p/mod/hello/hello.c': '' },
      { special: ['/p/mod/hello/dkms.conf'] },
    );
    expect(ok).toBe(false);
    expect(all.map((d) => [d.code, d.line])).toEqual([['unreadable-dkms-conf', 9]]);
    expect(all[0]?.message).toMatch(/dkms\.conf of mod\/hello: .*mod\/hello\/dkms\.conf is a FIFO/);
  });
});

describe('smaller: one document, and a cache directory of its own', () => {
  it('a multi-document file gets our message at the `---` line', () => {
    const { ok, all } = run(`${HEAD}---\nname: other\n---\nname: third\n`, {});
    expect(ok).toBe(false);
    expect(all).toEqual([
      expect.objectContaining({
        code: 'yaml-multiple-docs',
        file: 'kernelfile.yaml',
        line: 6,
        message: 'a kernelfile holds one YAML document; this file has 3',
      }),
    ]);
  });

  for (const dir of [
    '/',
    '//',
    '/etc',
    '/usr/',
    '/boot',
    '/boot/kf',
    '~',
    '~/',
    '/home/u',
    '/var/lib',
    '/etc/../usr',
  ])
    it(`build.cacheDir: ${dir} is refused at its line`, () => {
      const { ok, all } = run(`${HEAD}build:\n  cacheDir: "${dir}"\n`, {});
      expect(ok).toBe(false);
      expect(all.map((d) => [d.code, d.file, d.line])).toEqual([
        ['dangerous-cache-dir', 'kernelfile.yaml', 7],
      ]);
      expect(all[0]?.message).toMatch(
        new RegExp(`^build\\.cacheDir ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is `),
      );
    });

  it('a directory of its own is fine', () => {
    for (const dir of ['~/.cache/kernelfile', '/var/cache/kernelfile', '/srv/kf-cache', 'cache'])
      expect(dangerousCacheDir(dir, '/home/u')).toBeNull();
    expect(dangerousCacheDir('/', '/home/u')).toBe('the root directory');
    expect(dangerousCacheDir('~', '/home/u')).toBe('your home directory itself');
    expect(dangerousCacheDir('/etc/kf', '/home/u')).toBe('inside /etc');
  });
});
