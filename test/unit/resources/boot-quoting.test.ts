/**
 * Issue 12, defect 4: boot entry text reaches grub.cfg quoted by GRUB's script grammar, or validate
 * refuses it at its line. Round trip: render → the facts' grub.cfg parser → the same title and
 * kernel arguments → the next plan has nothing to do for the entry.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGrubCfg } from '../../../src/facts/grub-cfg.js';
import { buildMenu, flatten } from '../../../src/facts/grub-menu.js';
import { kernelArgs, splitKernelArgs } from '../../../src/facts/kernel-cmdline.js';
import type { HostFacts } from '../../../src/facts/types.js';
import { plan } from '../../../src/plan/planner.js';
import type { Step } from '../../../src/resources/change.js';
import type { Desired } from '../../../src/resources/desired.js';
import { explicitGrubCfg } from '../../../src/resources/loaders/grub-common.js';
import { grubQuote } from '../../../src/resources/loaders/grub-quote.js';
import { validate } from '../../../src/spec/validate.js';
import { ENTRY_LINE, unquotedGrub } from '../../helpers/grub.js';
import { memfs } from '../../helpers/memfs.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

interface Corpus {
  accepted: { titles: string[]; cmdlines: string[]; roots: string[] };
  refused: { titles: string[]; cmdlines: string[]; roots: string[] };
}
const corpus = JSON.parse(
  readFileSync(new URL('../../fixtures/hostile/boot/entries.json', import.meta.url), 'utf8'),
) as Corpus;

const HEAD = `apiVersion: kernelfile/v1
name: t
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
boot:
  entries:
    - default: true
`;
const env = { fs: memfs({ '/p/linux-6.1.192.tar.xz': '' }), kernelfile: '/p/kernelfile.yaml', home: '/root' };
const check = (field: string, value: string) =>
  validate(
    new TextEncoder().encode(`${HEAD}      ${field}: ${JSON.stringify(value)}\n`),
    'kernelfile.yaml',
    env,
  );

const grubCfgWrite = (steps: readonly Step[]) =>
  steps.find((s): s is Extract<Step, { kind: 'write' }> => s.kind === 'write' && /grub\.cfg/.test(s.path));

/** The grub-explicit case with entry 0 given these values. */
function hostile(title: string, cmdline: string, root: string) {
  const c = loadCase('grub-explicit');
  const d: Desired = structuredClone(c.desired);
  const e = d.boot.entries[0];
  if (!e) throw new Error('the case has an entry');
  Object.assign(e, { title, cmdline, root });
  return { d, facts: c.facts };
}

/** Every accepted value at least once, in a few combinations. */
const combos = corpus.accepted.titles.map((t, i) => ({
  title: t,
  cmdline: corpus.accepted.cmdlines[i % corpus.accepted.cmdlines.length] as string,
  root: corpus.accepted.roots[i % corpus.accepted.roots.length] as string,
}));
for (const [i, c] of corpus.accepted.cmdlines.entries())
  combos.push({ title: `t${i}`, cmdline: c, root: corpus.accepted.roots[i] as string });
for (const r of corpus.accepted.roots) combos.push({ title: 'r', cmdline: 'ro', root: r });

describe('validate: what cannot reach the loader as written is refused at its line', () => {
  for (const [field, values] of [
    ['title', corpus.refused.titles],
    ['cmdline', corpus.refused.cmdlines],
    ['root', corpus.refused.roots],
  ] as const)
    for (const v of values)
      it(`refuses ${field}: ${JSON.stringify(v)}`, () => {
        const r = check(field, v);
        expect(r.ok).toBe(false);
        const e = r.ok ? undefined : r.errors.find((x) => x.path === `$.boot.entries[0].${field}`);
        expect(e?.code).toBe(`invalid-${field}`);
        expect(e?.line).toBe(9);
        expect(e?.hint).toBeTruthy();
      });

  for (const [field, values] of [
    ['title', corpus.accepted.titles],
    ['cmdline', corpus.accepted.cmdlines],
    ['root', corpus.accepted.roots],
  ] as const)
    for (const v of values)
      it(`accepts ${field}: ${JSON.stringify(v)}`, () => {
        const r = check(field, v);
        expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([]);
      });
});

describe('grub-explicit: the grub.cfg round trip over hostile values', () => {
  for (const { title, cmdline, root } of combos)
    it(`title ${JSON.stringify(title)}, cmdline ${JSON.stringify(cmdline)}, root ${root}`, () => {
      const { d, facts } = hostile(title, cmdline, root);
      const p = plan(d, facts, planOptions(facts));
      expect(p.problems).toEqual([]);
      const entry = p.changes.find((x) => x.resource === 'boot-entry');
      const write = grubCfgWrite(entry?.steps ?? []);
      if (!write) throw new Error('no grub.cfg written');
      const cfg = write.content;

      // Nothing outside single quotes but the commands kernelfile writes.
      const body = cfg.slice(cfg.indexOf('menuentry '));
      for (const line of body.split('\n').filter(Boolean)) {
        expect(unquotedGrub(line).trim()).toMatch(ENTRY_LINE);
      }

      // The facts read back what was written.
      const items = parseGrubCfg(cfg).items;
      const read = flatten(buildMenu(items, '/boot/grub/grub.cfg', []));
      expect(read).toHaveLength(1);
      const [got] = read;
      expect(got?.title).toBe(title.replace(/\{release\}/g, d.release));
      expect(kernelArgs(got?.options)).toEqual(kernelArgs(`root=${root} ${cmdline}`));
      expect(got?.kernel).toBe(`/boot/vmlinuz-${d.release}`);

      // The next plan: the entry is there.
      const after: HostFacts = structuredClone(facts);
      after.boot.entries = read;
      const again = plan(d, after, planOptions(after));
      expect(again.changes.find((x) => x.resource === 'boot-entry')?.action).toBe('no-op');
    });

  it('writes the new grub.cfg beside the old one and checks it before it replaces the old one', () => {
    const { d, facts } = hostile('t', 'ro', '/dev/vda1');
    const steps = plan(d, facts, planOptions(facts)).changes.find((x) => x.resource === 'boot-entry')?.steps;
    const write = grubCfgWrite(steps ?? []);
    expect(write?.path).toBe('/boot/grub/grub.cfg.kf-check');
    const run = steps?.find((s) => s.kind === 'run' && s.argv.includes('/boot/grub/grub.cfg'));
    expect(run?.kind === 'run' && run.argv.slice(-2)).toEqual([
      '/boot/grub/grub.cfg.kf-check',
      '/boot/grub/grub.cfg',
    ]);
    expect(run?.kind === 'run' && run.argv[2]).toMatch(/grub-script-check/);
  });
});

describe('GRUB words', () => {
  it('single-quotes every value, a quote as close-escape-reopen', () => {
    expect(grubQuote("it's $x; {y}")).toBe(`'it'\\''s $x; {y}'`);
  });

  it('gives the kernel the arguments it would read from the command line as written', () => {
    const cfg = explicitGrubCfg([
      {
        id: 'kernelfile-1',
        release: '1',
        title: 't',
        cmdline: 'root=/dev/vda1 dyndbg="file a.c +p" "x y" ro',
        linux: '/boot/vmlinuz-1',
        initrd: null,
        default: true,
      },
    ]);
    expect(cfg).toContain(`\tlinux\t'/boot/vmlinuz-1' 'root=/dev/vda1' 'dyndbg=file a.c +p' 'x y' 'ro'\n`);
    const [e] = flatten(buildMenu(parseGrubCfg(cfg).items, 'f', []));
    expect(splitKernelArgs(e?.options ?? '')).toEqual([
      'root=/dev/vda1',
      '"dyndbg=file a.c +p"',
      '"x y"',
      'ro',
    ]);
  });
});

describe('the host’s own text', () => {
  it('refuses in the plan a title whose {distro} holds a line break', () => {
    const { d, facts } = hostile('{distro}', 'ro', '/dev/vda1');
    const f: HostFacts = structuredClone(facts);
    f.system.distro.prettyName = 'Debian\n}\nmenuentry evil {';
    const p = plan(d, f, planOptions(f));
    expect(p.problems.map((x) => x.code)).toContain('entry-text');
  });
});
