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
