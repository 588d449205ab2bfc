/**
 * Issue 12, defect 4, against GRUB's own parser: `grub-script-check` (Debian's grub-common) reads
 * the grub.cfg kernelfile writes (grub-explicit) and the menu entries /etc/grub.d/41_kernelfile
 * prints (grub-mkconfig) for the hostile values validate accepts, and the facts read back the same
 * title and kernel arguments. The step that puts a new grub.cfg in place keeps the old one when the
 * check fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGrubCfg } from '../../src/facts/grub-cfg.js';
import { buildMenu, flatten } from '../../src/facts/grub-menu.js';
import { kernelArgs } from '../../src/facts/kernel-cmdline.js';
import { plan } from '../../src/plan/planner.js';
import type { Step } from '../../src/resources/change.js';
import type { Desired } from '../../src/resources/desired.js';
import { GRUB_CFG_HEADER, GRUB_SCRIPT, INSTALL_GRUB_CFG } from '../../src/resources/scripts.js';
import { ENTRY_LINE, unquotedGrub } from '../helpers/grub.js';
import { loadCase, planOptions } from '../helpers/plan-fixtures.js';
import { requireCommands } from '../helpers/proc.js';

interface Corpus {
  accepted: { titles: string[]; cmdlines: string[]; roots: string[] };
}
const corpus = JSON.parse(
  readFileSync(new URL('../fixtures/hostile/boot/entries.json', import.meta.url), 'utf8'),
) as Corpus;
const { titles, cmdlines, roots } = corpus.accepted;
const combos = titles.map((title, i) => ({
  title,
  cmdline: cmdlines[i % cmdlines.length] as string,
  root: roots[i % roots.length] as string,
}));

type Write = Extract<Step, { kind: 'write' }>;
const writes = (steps: readonly Step[]) => steps.filter((s): s is Write => s.kind === 'write');

function planFor(name: string, title: string, cmdline: string, root: string) {
  const c = loadCase(name);
  const d: Desired = structuredClone(c.desired);
  Object.assign(d.boot.entries[0] as object, { title, cmdline, root });
  const p = plan(d, c.facts, planOptions(c.facts));
  expect(p.problems).toEqual([]);
  const steps = p.changes.find((x) => x.resource === 'boot-entry')?.steps ?? [];
  return { d, steps };
}

let dir = '';
beforeAll(() => {
  requireCommands('the grub.cfg quoting test', [['grub-script-check', 'grub-common']]);
  dir = mkdtempSync(join(tmpdir(), 'kf-grub-check-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function scriptCheck(file: string) {
  const r = spawnSync('grub-script-check', [file], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The menu entries hold nothing outside quotes but kernelfile's own commands (no `; reboot`, no `$x`). */
function onlyQuotedValues(cfg: string): void {
  const body = cfg.slice(cfg.indexOf('menuentry '));
  for (const line of body.split('\n').filter(Boolean)) expect(unquotedGrub(line).trim()).toMatch(ENTRY_LINE);
}

function readBack(cfg: string) {
  return flatten(buildMenu(parseGrubCfg(cfg).items, '/boot/grub/grub.cfg', []));
}

describe('grub-explicit: the grub.cfg kernelfile writes', () => {
  for (const [i, { title, cmdline, root }] of combos.entries())
    it(`passes grub-script-check and reads back: ${JSON.stringify(title)} / ${JSON.stringify(cmdline)}`, () => {
      const { d, steps } = planFor('grub-explicit', title, cmdline, root);
      const w = writes(steps).find((s) => s.path.includes('grub.cfg'));
      if (!w) throw new Error('no grub.cfg written');
      const file = join(dir, `explicit-${i}.cfg`);
      writeFileSync(file, w.content);
      expect(scriptCheck(file)).toEqual({ code: 0, out: '' });
      onlyQuotedValues(w.content);
      const [e] = readBack(w.content);
      expect(e?.title).toBe(title);
      expect(kernelArgs(e?.options)).toEqual(kernelArgs(`root=${root} ${cmdline}`));
      expect(e?.kernel).toBe(`/boot/vmlinuz-${d.release}`);
    });
});

describe('the step that puts a new grub.cfg in place', () => {
  const install = (next: string, cfg: string) =>
    spawnSync('sh', ['-c', INSTALL_GRUB_CFG, 'kernelfile', next, cfg], { encoding: 'utf8', timeout: 20_000 });

  it('keeps the old grub.cfg when grub-script-check finds an error, and says so', () => {
    const cfg = join(dir, 'keep.cfg');
    const next = `${cfg}.kf-new`;
    writeFileSync(cfg, 'set timeout=5\n');
    writeFileSync(next, "menuentry 'unclosed {\n");
    const r = install(next, cfg);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/grub-script-check found errors in the new grub\.cfg; .*keep\.cfg is unchanged/);
    expect(readFileSync(cfg, 'utf8')).toBe('set timeout=5\n');
    expect(existsSync(next)).toBe(false);
  });

  it('replaces it when the new one parses', () => {
    const cfg = join(dir, 'replace.cfg');
    const next = `${cfg}.kf-new`;
    writeFileSync(cfg, 'set timeout=5\n');
    writeFileSync(next, "menuentry 'x' {\n\techo 'y'\n}\n");
    const r = install(next, cfg);
    expect(r.status).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toContain("menuentry 'x'");
    expect(existsSync(next)).toBe(false);
  });
});

/**
 * /etc/grub.d/41_kernelfile run by sh over the entry files the plan writes, in a directory of its
 * own: the paths moved under it, and grub-mkconfig_lib's two functions it calls stubbed (they probe
 * this machine's disks).
 */
function runGrubScript(root: string, entries: readonly Write[]): string {
  const stubs = [
    'prepare_grub_to_access_device() { echo "insmod ext2"; }',
    `make_system_path_relative_to_its_root() { printf %s "\${1#${root}}"; }`,
  ].join('\n');
  const script = GRUB_SCRIPT.replace('. "$datarootdir/grub/grub-mkconfig_lib"', stubs).replaceAll(
    '/etc/kernelfile/grub/',
    `${root}/etc/kernelfile/grub/`,
  );
  mkdirSync(join(root, 'etc/kernelfile/grub'), { recursive: true });
  mkdirSync(join(root, 'boot'), { recursive: true });
  for (const w of entries) {
    const content = w.content.replace(/^(linux|initrd)=\/boot\//gm, `$1=${root}/boot/`);
    writeFileSync(join(root, w.path), content);
    for (const m of content.matchAll(/^(?:linux|initrd)=(.+)$/gm)) writeFileSync(m[1] as string, '');
  }
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('grub-mkconfig: the menu entries 41_kernelfile prints', () => {
  for (const [i, { title, cmdline, root }] of combos.entries())
    it(`pass grub-script-check and read back: ${JSON.stringify(title)} / ${JSON.stringify(cmdline)}`, () => {
      const { d, steps } = planFor('fresh-grub', title, cmdline, root);
      const entries = writes(steps).filter((s) => s.path.endsWith('.entry'));
      expect(entries).toHaveLength(1);
      const out = runGrubScript(join(dir, `mk-${i}`), entries);
      const cfg = `${GRUB_CFG_HEADER}${out}`;
      const file = join(dir, `mk-${i}.cfg`);
      writeFileSync(file, cfg);
      expect(scriptCheck(file)).toEqual({ code: 0, out: '' });
      onlyQuotedValues(out);
      const [e] = readBack(cfg);
      expect(e?.title).toBe(title);
      expect(kernelArgs(e?.options)).toEqual(kernelArgs(`root=${root} ${cmdline}`));
      expect(e?.kernel).toBe(`/boot/vmlinuz-${d.release}`);
      expect(e?.initrd).toEqual([`/boot/initrd.img-${d.release}`]);
    });

  it('quotes each word of an entry file from before `arg=` lines (options= only)', () => {
    const root = join(dir, 'mk-old');
    const entry: Write = {
      kind: 'write',
      title: 'old',
      path: '/etc/kernelfile/grub/kernelfile-1.entry',
      content:
        'id=kernelfile-1\ntitle=old\nlinux=/boot/vmlinuz-1\ninitrd=\noptions=root=/dev/vda1 ro $prefix ; reboot\n',
      mode: 0o644,
      sudo: false,
    };
    const out = runGrubScript(root, [entry]);
    expect(out).toContain(`\tlinux\t'/boot/vmlinuz-1' 'root=/dev/vda1' 'ro' '$prefix' ';' 'reboot'\n`);
    const file = join(dir, 'mk-old.cfg');
    writeFileSync(file, out);
    expect(scriptCheck(file).code).toBe(0);
  });
});
