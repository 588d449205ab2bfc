/**
 * The section protocol, end to end: the prelude's functions run under a real POSIX sh (dash here)
 * against real files, and splitSections must give back exactly what the files hold. (The pure
 * cases are in test/unit/facts/protocol.test.ts.)
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeScript, deniedPaths, isComplete, splitSections } from '../../src/facts/protocol.js';
import { parseListing } from '../../src/facts/sections.js';
import { canRunUnprivileged, runSh, which } from '../helpers/sh.js';

const NONCE = 'kfTEST0123456789';
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-protocol-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'two-lines'), 'x\ny\n');
  writeFileSync(join(dir, 'no-newline'), 'last line without newline');
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'blank-lines'), '\n\n\n');
  // Looks like a header, but with another nonce (or none): must stay content.
  writeFileSync(
    join(dir, 'impostor'),
    'kfOTHERNONCE system arch\nkfTEST01234 x y\n kfTEST0123456789 leading space\n',
  );
  writeFileSync(join(dir, 'secret'), 'root only\n');
  chmodSync(join(dir, 'secret'), 0o600);
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'd', 'a file with spaces'), '');
  mkdirSync(join(dir, 'd', 'sub'));
  symlinkSync('/nonexistent/target', join(dir, 'd', 'dangling'));
  symlinkSync('sub', join(dir, 'd', 'to-dir'));
  symlinkSync('a file with spaces', join(dir, 'd', 'to-file'));
  writeFileSync(join(dir, 'd', '.hidden'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(body: string, unprivileged = false) {
  const r = runSh(composeScript(NONCE, [{ name: 't', script: body }]), { unprivileged });
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  const sections = splitSections(r.stdout, NONCE);
  expect(isComplete(sections)).toBe(true);
  return { sections, family: sections.t ?? {} };
}

describe('prelude functions under sh', () => {
  it('kf_cat gives back file contents exactly, with or without a final newline', () => {
    const { family } = run(
      ['two-lines', 'no-newline', 'empty', 'blank-lines', 'impostor']
        .map((f) => `kf_cat ${f} ${dir}/${f}`)
        .join('\n'),
    );
    expect(family).toEqual({
      'two-lines': 'x\ny\n',
      'no-newline': 'last line without newline',
      empty: '',
      'blank-lines': '\n\n\n',
      impostor: 'kfOTHERNONCE system arch\nkfTEST01234 x y\n kfTEST0123456789 leading space\n',
    });
  });

  // kf_text reads small files with the shell's own read (no process), larger ones with cat or head:
  // either way, what cat (head -c LIMIT) would print, under every shell.
  const bigLines = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`).join('\n');
  const texts: Record<string, string> = {
    'two-lines': 'x\ny\n',
    'no-newline': 'last line without newline',
    empty: '',
    'blank-lines': '\n\n\n',
    impostor: 'kfOTHERNONCE system arch\nkfTEST01234 x y\n kfTEST0123456789 leading space\n',
    'spaces-and-backslashes': '  lead\\ing \\n  \ttab\\\ntrailing  \r\n\\',
    'just-under': `${'a'.repeat(4000)}\n${'b'.repeat(90)}\n`,
    'just-over': `${'a'.repeat(4000)}\n${'b'.repeat(100)}\n`,
    'big-lines': `${bigLines}\n`,
    'big-no-newline': bigLines,
    'one-long-line': 'z'.repeat(9000),
  };
  const shells: [string, Parameters<typeof runSh>[1]][] = [['dash', {}]];
  if (which('bash')) shells.push(['bash', { shell: which('bash') as string }]);
  if (which('busybox')) shells.push(['busybox sh', { prefix: [which('busybox') as string], shell: 'sh' }]);
  it.each(shells)(
    '%s: kf_text gives back file contents exactly, and stops at LIMIT as head -c does',
    (_s, sh) => {
      for (const [f, text] of Object.entries(texts)) writeFileSync(join(dir, `text-${f}`), text);
      const names = Object.keys(texts);
      const script = [
        ...names.map((f) => `kf_text ${f} ${dir}/text-${f}`),
        ...names.map((f) => `kf_text limit:${f} ${dir}/text-${f} 4100`),
        `kf_text small-limit ${dir}/text-two-lines 3`,
        `kf_text nope ${dir}/nope || kf_val missing 1`,
      ].join('\n');
      const r = runSh(composeScript(NONCE, [{ name: 't', script }]), sh);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      const family = splitSections(r.stdout, NONCE).t ?? {};
      expect(family).toEqual({
        ...texts,
        ...Object.fromEntries(
          Object.entries(texts).map(([f, t]) => [`limit:${f}`, Buffer.from(t).subarray(0, 4100).toString()]),
        ),
        'small-limit': 'x\ny',
        missing: '1',
      });
    },
  );

  // kf_grab reads a whole file with one process (cat, head -c LIMIT) into kf_b: the same text as
  // kf_text less its trailing newlines, and kf_b holds what it printed.
  it.each(shells)('%s: kf_grab gives back file contents less trailing newlines, in kf_b too', (_s, sh) => {
    for (const [f, text] of Object.entries(texts)) writeFileSync(join(dir, `text-${f}`), text);
    const names = Object.keys(texts);
    const script = [
      ...names.map((f) => `kf_grab ${f} ${dir}/text-${f} && kf_val "kept:${f}" "$kf_read:$kf_b"`),
      ...names.map((f) => `kf_grab limit:${f} ${dir}/text-${f} 4100`),
      `kf_grab nope ${dir}/nope || kf_val missing 1`,
    ].join('\n');
    const r = runSh(composeScript(NONCE, [{ name: 't', script }]), sh);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const family = splitSections(r.stdout, NONCE).t ?? {};
    const trimmed = (t: string) => t.replace(/\n+$/, '');
    expect(family).toEqual({
      ...Object.fromEntries(Object.entries(texts).map(([f, t]) => [f, trimmed(t)])),
      ...Object.fromEntries(Object.entries(texts).map(([f, t]) => [`kept:${f}`, `1:${trimmed(t)}`])),
      ...Object.fromEntries(
        Object.entries(texts).map(([f, t]) => [
          `limit:${f}`,
          trimmed(Buffer.from(t).subarray(0, 4100).toString()),
        ]),
      ),
      missing: '1',
    });
  });

  it('missing files, directories and missing commands give absent keys, not errors', () => {
    const { family } = run(
      `kf_cat a ${dir}/nope\nkf_cat b ${dir}/d\nkf_run c no-such-command-kf\nkf_ls e ${dir}/nope`,
    );
    expect(family).toEqual({});
  });

  it('kf_ls lists entries with their type; dot files are skipped; names with spaces kept', () => {
    const { family } = run(`kf_ls d ${dir}/d\nkf_exists x ${dir}/d/to-dir\nkf_link l ${dir}/d/dangling`);
    expect(parseListing(family.d)).toEqual([
      { name: 'a file with spaces', type: 'file', symlink: false },
      { name: 'dangling', type: 'dangling', symlink: true },
      { name: 'sub', type: 'dir', symlink: false },
      { name: 'to-dir', type: 'dir', symlink: true },
      { name: 'to-file', type: 'file', symlink: true },
    ]);
    expect(family.x).toBe('ld');
    expect(family.l).toBe('/nonexistent/target');
  });

  it('kf_run keeps stdout, drops stderr, and records the exit status', () => {
    const { family } = run("kf_run ok printf 'a\\nb'\nkf_run bad sh -c 'echo out; echo err >&2; exit 3'");
    expect(family).toEqual({ ok: 'a\nb', 'ok#rc': '0', bad: 'out\n', 'bad#rc': '3' });
  });

  const busybox = which('busybox');
  function runErr(shell: Parameters<typeof runSh>[1]) {
    const script =
      "kf_run_err bad sh -c 'echo out; echo err >&2; echo more >&2; exit 3'\nkf_run_err ok printf 'a\\nb'\nkf_run_err none no-such-command-kf";
    const r = runSh(composeScript(NONCE, [{ name: 't', script }]), shell);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(splitSections(r.stdout, NONCE).t).toEqual({
      bad: 'out\n',
      'bad#rc': '3',
      'bad#stderr': 'err\nmore',
      ok: 'a\nb',
      'ok#rc': '0',
    });
  }

  it('kf_run_err keeps stdout and stderr apart, without a temp file', () => runErr({}));

  it.skipIf(!busybox)('kf_run_err under busybox sh', () =>
    runErr({ prefix: [busybox as string], shell: 'sh' }),
  );

  it('kf_hex prints a binary file as hex bytes', () => {
    writeFileSync(join(dir, 'bin'), Buffer.from([7, 0, 0, 0, 0x61, 0, 0, 0]));
    expect(run(`kf_hex h ${dir}/bin`).family.h?.trim()).toBe('07 00 00 00 61 00 00 00');
  });

  const depmod = which('depmod');
  it.skipIf(!depmod?.includes('/sbin/'))('kf_which finds commands in sbin directories PATH lacks', () => {
    const { family } = run('PATH=/nonexistent\nkf_tool d depmod\nkf_tool s sh\nkf_tool n no-such-command-kf');
    expect(family).toEqual({ d: depmod, s: expect.stringMatching(/^\/(usr\/)?bin\/sh$/) });
  });

  it.skipIf(!canRunUnprivileged)('an unreadable file is reported as denied, not read', () => {
    const { sections, family } = run(`kf_cat s ${dir}/secret`, true);
    expect(family.s).toBeUndefined();
    expect(family['s#denied']).toBe(`${dir}/secret`);
    expect(deniedPaths(sections)).toEqual([`${dir}/secret`]);
  });
});

describe('families are isolated', () => {
  it('a family that exits, fails, or reads stdin does not stop the others', () => {
    const script = composeScript(NONCE, [
      { name: 'exits', script: 'kf_val a 1\nexit 3\nkf_val never 1' },
      { name: 'reads', script: 'cat\nread x\nkf_val b 2' },
      { name: 'fails', script: 'false\nls /nonexistent\nkf_val c 3' },
      { name: 'last', script: 'kf_val d 4' },
    ]);
    const r = runSh(script);
    expect(r.stderr).toBe('');
    const s = splitSections(r.stdout, NONCE);
    expect(s).toMatchObject({ exits: { a: '1' }, reads: { b: '2' }, fails: { c: '3' }, last: { d: '4' } });
    expect(s.exits?.never).toBeUndefined();
    expect(isComplete(s)).toBe(true);
  });
});
