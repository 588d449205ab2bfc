/** The loader drivers where they differ from the golden cases: grubby's one-time boot, GRUB's one grub-mkconfig command. */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/plan/planner.js';
import type { Step } from '../../../src/resources/change.js';
import { grubMkconfigArgv } from '../../../src/resources/loaders/grub-common.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const argvs = (steps: readonly Step[]) => steps.flatMap((s) => (s.kind === 'run' ? [s.argv] : []));

describe('grubby', () => {
  it('boots the new BLS entry once as grub2-reboot does: grub2-editenv next_entry on the host’s grubenv', () => {
    const c = loadCase('grubby-host');
    const d = structuredClone(c.desired);
    d.boot.trial = true;
    const p = plan(d, c.facts, planOptions(c.facts));
    const id = `${c.facts.system.machineId}-${d.release}`;
    const trial = p.changes.find((x) => x.resource === 'trial');
    expect(trial?.after).toBe(id);
    expect(argvs(trial?.steps ?? [])).toEqual([
      ['grub2-editenv', '/boot/grub2/grubenv', 'set', `next_entry=${id}`],
    ]);
  });

  it('uses grub2-editenv and /boot/grub2/grubenv when the facts do not name them', () => {
    const c = loadCase('grubby-host');
    const d = structuredClone(c.desired);
    d.boot.trial = true;
    const f = structuredClone(c.facts);
    f.boot.tools['grub2-editenv'] = null;
    if (f.boot.grub) f.boot.grub.envFile = null;
    const trial = plan(d, f, planOptions(f)).changes.find((x) => x.resource === 'trial');
    expect(argvs(trial?.steps ?? [])[0]?.slice(0, 2)).toEqual(['grub2-editenv', '/boot/grub2/grubenv']);
  });
});

describe('grub-mkconfig', () => {
  it('regenerates grub.cfg with the same command to add entries and to set the default', () => {
    const c = loadCase('fresh-grub');
    const f = structuredClone(c.facts);
    f.boot.tools['update-grub'] = null;
    f.boot.tools['grub-mkconfig'] = null;
    f.boot.tools['grub2-mkconfig'] = '/usr/sbin/grub2-mkconfig';
    // The current default unknown: nothing pinned, so setting the default regenerates grub.cfg too.
    f.boot.default = null;
    if (f.boot.grub) {
      f.boot.grub.cfg = null;
      f.boot.grub.envFile = '/boot/grub2/grubenv';
    }
    const want = ['grub2-mkconfig', '-o', '/boot/grub2/grub.cfg'];
    expect(grubMkconfigArgv({ ...c, d: c.desired, f, sudo: true, image: false, notes: [] })).toEqual(want);
    const p = plan(c.desired, f, planOptions(f));
    const runs = argvs(p.changes.flatMap((x) => x.steps)).filter((a) => a[0] === 'grub2-mkconfig');
    expect(runs.length).toBe(2);
    for (const a of runs) expect(a).toEqual(want);
  });
});

describe('grub-mkconfig: pinning the default before an entry is added', () => {
  const pinSteps = (f: ReturnType<typeof loadCase>['facts']) => {
    const c = loadCase('fresh-grub');
    const p = plan(c.desired, f, planOptions(f));
    return argvs(p.changes.flatMap((x) => x.steps)).filter((a) =>
      a.some((w) => w.startsWith('saved_entry=')),
    );
  };
  const withSaved = (env: Record<string, string>) => {
    const f = structuredClone(loadCase('fresh-grub').facts);
    if (f.boot.grub) {
      f.boot.grub.settings = { ...f.boot.grub.settings, GRUB_DEFAULT: 'saved' };
      f.boot.grub.env = env;
    }
    return f;
  };
  const advanced = (f: ReturnType<typeof withSaved>) =>
    f.boot.entries.find((e) => e.submenu !== null && e.release === '6.1.0-18-amd64')?.id as string;

  it('GRUB_DEFAULT=saved without a saved entry: Debian’s first entry would boot the new kernel, so the running release is pinned by its submenu entry', () => {
    const f = withSaved({});
    const pins = pinSteps(f);
    expect(pins[0]?.at(-1)).toBe(`saved_entry=${advanced(f)}`);
  });

  it('GRUB_DEFAULT=saved naming Debian’s top-level entry (it follows the newest kernel): pinned the same way', () => {
    const f = withSaved({ saved_entry: 'gnulinux-simple-8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71' });
    expect(pinSteps(f)[0]?.at(-1)).toBe(`saved_entry=${advanced(f)}`);
  });

  it('GRUB_DEFAULT=saved naming an entry of the submenu: nothing to pin', () => {
    const f = withSaved({});
    if (f.boot.grub) f.boot.grub.env = { saved_entry: advanced(f) };
    f.boot.default = advanced(f);
    // Only the new default is set (after the entry is added), never a pin first.
    expect(pinSteps(f).map((a) => a.at(-1))).toEqual([expect.stringMatching(/^saved_entry=kernelfile-/)]);
  });
});
