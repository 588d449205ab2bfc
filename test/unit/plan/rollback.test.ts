/**
 * `kernelfile rollback` (src/plan/rollback.ts): which kernels are kept (this kernelfile's, with a
 * boot entry, newest first), which one a rollback chooses, and the plan that makes it the default
 * (by the host's loader driver) or, with a trial, boots it once first and records the trial.
 * Hosts: the golden cases prune-running (web 6.1.117, 6.1.118 running, 6.1.119 the default, on
 * Debian's GRUB), converged, fresh-grub and bls-host (Arch, systemd-boot), edited per test.
 */
import { describe, expect, it } from 'vitest';
import type { BootEntry, HostFacts } from '../../../src/facts/types.js';
import { plan } from '../../../src/plan/planner.js';
import { keptKernels, planRollback, rollbackChoice } from '../../../src/plan/rollback.js';
import type { HostPlan } from '../../../src/plan/types.js';
import { decodeTrial } from '../../../src/receipt/decode.js';
import { trialPath } from '../../../src/receipt/paths.js';
import { renderHostPlan } from '../../../src/render/plan-text.js';
import { plain } from '../../../src/render/style.js';
import type { Step } from '../../../src/resources/change.js';
import { kfEntryId, loadCase, planOptions } from '../../helpers/plan-fixtures.js';
import { BOOT_A, trialData } from '../../helpers/receipt-text.js';

type Case = ReturnType<typeof loadCase>;

function load(name: string): Case {
  const c = loadCase(name);
  return { ...c, facts: structuredClone(c.facts) };
}

const planOf = (c: Case): HostPlan => plan(c.desired, c.facts, planOptions(c.facts));
const argvOf = (s: Step) => (s.kind === 'run' ? s.argv : null);

/** prune-running's web kernels, oldest first (installed in this order). */
const PR = load('prune-running');
const [R117, R118, R119] = PR.facts.receipts.receipts.map((r) => r.release) as [string, string, string];
const DISTRO = '6.1.0-13-amd64';

function rollback(c: Case, o: { to?: string; trial?: boolean } = {}) {
  return planRollback(c.desired, c.facts, { to: o.to, trial: o.trial ?? false, base: planOf(c) });
}

function ok(r: ReturnType<typeof rollback>) {
  if (!r.ok) throw new Error(`${r.problem.code}: ${r.problem.message}`);
  return r;
}

const entryById = (f: HostFacts, id: string) => f.boot.entries.find((e) => e.id === id);

describe('kept kernels', () => {
  it('this kernelfile’s kernels with a boot entry, newest install first, with default and running marked', () => {
    expect(PR.facts.receipts.receipts.map((r) => r.data.installedAt)).toEqual(
      [...PR.facts.receipts.receipts.map((r) => r.data.installedAt)].sort(),
    );
    expect(keptKernels('web', PR.facts)).toEqual([
      { release: R119, installedAt: '2025-01-20T10:16:41Z', default: true, running: false },
      { release: R118, installedAt: '2024-12-09T08:02:13Z', default: false, running: true },
      { release: R117, installedAt: '2024-11-04T14:30:00Z', default: false, running: false },
    ]);
  });

  it('ordered by install time before version', () => {
    const c = load('prune-running');
    const r117 = c.facts.receipts.receipts.find((r) => r.release === R117);
    if (r117) r117.data.installedAt = '2025-06-01T00:00:00Z'; // reinstalled last
    expect(keptKernels('web', c.facts).map((k) => k.release)).toEqual([R117, R119, R118]);
  });

  it('the same install time: by version, newest first', () => {
    const c = load('prune-running');
    for (const r of c.facts.receipts.receipts) r.data.installedAt = '2025-01-20T10:16:41Z';
    expect(keptKernels('web', c.facts).map((k) => k.release)).toEqual([R119, R118, R117]);
  });

  it('a release listed twice is kept once', () => {
    const c = load('prune-running');
    const again = c.facts.receipts.receipts.find((r) => r.release === R118);
    if (!again) throw new Error('no 6.1.118');
    c.facts.receipts.receipts.push(structuredClone(again));
    expect(keptKernels('web', c.facts).map((k) => k.release)).toEqual([R119, R118, R117]);
  });

  it('only releases that still have a boot entry', () => {
    const c = load('prune-running');
    c.facts.boot.entries = c.facts.boot.entries.filter((e) => e.release !== R117);
    expect(keptKernels('web', c.facts).map((k) => k.release)).toEqual([R119, R118]);
  });

  it('only this kernelfile’s receipts', () => {
    const c = load('prune-running');
    const other = c.facts.receipts.receipts.find((r) => r.release === R118);
    if (other) other.data.name = 'db';
    expect(keptKernels('web', c.facts).map((k) => k.release)).toEqual([R119, R117]);
    expect(keptKernels('db', c.facts).map((k) => k.release)).toEqual([R118]);
    expect(keptKernels('nobody', c.facts)).toEqual([]);
  });

  it('the plan carries them and the choice', () => {
    const p = planOf(PR);
    expect(p.kept).toEqual(keptKernels('web', PR.facts));
    expect(p.rollback).toBe(R118);
  });
});

describe('rollbackChoice', () => {
  it('the newest kept kernel that is not the default', () => {
    expect(rollbackChoice('web', PR.facts)).toBe(R118);
  });

  it('none when the only kept kernel is the default, or there are none', () => {
    expect(rollbackChoice('web', loadCase('converged').facts)).toBeNull();
    expect(rollbackChoice('web', loadCase('fresh-grub').facts)).toBeNull();
  });
});

describe('rollbackChoice after a trial boot', () => {
  /** trial-pending (6.1.119 the default, 6.1.120 installed and armed) with 6.1.120's trial record. */
  function underTrial(state: 'armed' | 'failed'): Case {
    const c = load('trial-pending');
    const release = c.desired.release;
    c.facts.receipts.trials = [
      {
        file: trialPath(release),
        release,
        data: {
          trialVersion: 1,
          release,
          entry: kfEntryId(release),
          cmdline: 'root=UUID=8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71 ro quiet',
          bootId: BOOT_A,
          state,
          failedAt: state === 'failed' ? '2026-12-02T09:14:03.512Z' : null,
          seenRelease: null,
          seenBootId: null,
          reason: state === 'failed' ? 'came back running the previous default' : null,
          health: null,
        },
      },
    ];
    return c;
  }

  it('a kernel whose trial failed is kept, but never what a rollback chooses', () => {
    // The failed trial's hint suggests `kernelfile rollback`: it must not make the kernel that
    // just failed to boot the default.
    const c = underTrial('failed');
    expect(keptKernels('web', c.facts).map((k) => k.release)).toContain(c.desired.release);
    expect(rollbackChoice('web', c.facts)).toBeNull();
    const r = rollback(c);
    expect(r.ok || r.problem.code).toBe('no-rollback');
  });

  it('nor one whose trial is armed and has not come up', () => {
    expect(rollbackChoice('web', underTrial('armed').facts)).toBeNull();
  });

  it('--to names it all the same', () => {
    const c = underTrial('failed');
    expect(ok(rollback(c, { to: c.desired.release })).to).toBe(c.desired.release);
  });
});

describe('planRollback', () => {
  it('without --to: the choice, made the default by GRUB saved_entry, nothing else', () => {
    const r = ok(rollback(PR));
    expect(r.to).toBe(R118);
    const [change, ...rest] = r.plan.changes;
    expect(rest).toEqual([]);
    expect(change).toMatchObject({ resource: 'default-entry', action: 'update' });
    const entry = entryById(PR.facts, r.plan.entry?.id as string);
    // The entry is one that boots 6.1.118, not its recovery entry.
    expect(entry?.release).toBe(R118);
    expect(entry?.title).not.toMatch(/recovery/);
    expect(change?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `saved_entry=${entry?.id}`],
    ]);
    expect(change?.reason).toBe(
      `roll back to ${R118} (was "${entryById(PR.facts, kfEntryId(R119))?.title}")`,
    );
    expect(r.plan).toMatchObject({
      buildIds: [],
      modules: [],
      problems: [],
      entry: { id: entry?.id, title: entry?.title, cmdline: entry?.options, default: true, trial: false },
    });
    // What identifies the host and its facts is the forward plan's.
    const base = planOf(PR);
    expect(r.plan.host).toBe(base.host);
    expect(r.plan.factsDigest).toBe(base.factsDigest);
  });

  it('--to a distribution kernel: any kernel with an entry', () => {
    const r = ok(rollback(PR, { to: DISTRO }));
    expect(r.to).toBe(DISTRO);
    expect(entryById(PR.facts, r.plan.entry?.id as string)?.release).toBe(DISTRO);
    expect(r.plan.changes[0]?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `saved_entry=${r.plan.entry?.id}`],
    ]);
  });

  it('--to an unknown release: a problem listing the kernels that have an entry', () => {
    const r = rollback(PR, { to: '6.1.99-nope' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.code).toBe('no-such-kernel');
    expect(r.problem.message).toBe(`${PR.facts.host} has no boot entry for 6.1.99-nope`);
    const releases = [...new Set(PR.facts.boot.entries.map((e) => e.release))];
    expect(releases).toEqual([R119, R118, R117, '6.1.0-18-amd64', DISTRO]);
    expect(r.problem.hint).toBe(`kernels with an entry: ${releases.join(', ')}`);
  });

  it('nothing to roll back to: a problem that lists the kept kernels', () => {
    const c = load('converged');
    const r = rollback(c);
    expect(r.ok || r.problem).toMatchObject({
      code: 'no-rollback',
      message: `${c.facts.host} has no other kernel of web to roll back to (kept: ${c.facts.receipts.receipts[0]?.release} (default))`,
    });
    const none = rollback(load('fresh-grub'));
    expect(none.ok || none.problem.message).toMatch(/\(kept: none\)$/);
  });

  it('--reboot (trial): the one-time entry, then the armed record of the release rolled back to', () => {
    const c = load('prune-running');
    c.facts.system.bootId = BOOT_A;
    const r = ok(rollback(c, { to: R117, trial: true }));
    const [change] = r.plan.changes;
    expect(change).toMatchObject({ resource: 'trial', action: 'create' });
    expect(r.plan.entry?.trial).toBe(true);
    const id = r.plan.entry?.id as string;
    expect(entryById(c.facts, id)?.release).toBe(R117);
    expect(change?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `next_entry=${id}`],
      null,
    ]);
    const write = change?.steps[1];
    if (write?.kind !== 'write') throw new Error('no record written');
    expect(write.path).toBe(trialPath(R117));
    expect(decodeTrial(write.content, `${R117}.json`)).toEqual({
      ok: true,
      value: {
        trialVersion: 1,
        ...trialData(R117, { entry: id, cmdline: entryById(c.facts, id)?.options as string }),
      },
    });
    expect(change?.reason).toMatch(
      new RegExp(`^roll back: boot ${R117.replace(/\./g, '\\.')} once at the next reboot`),
    );
  });

  it('--reboot to an entry GRUB names by its title (no --id, a "/" in it): the record reads back', () => {
    // grub.cfg entries without --id are addressed by their titles (submenu>entry), as the facts
    // name them; Debian's titles say "GNU/Linux".
    const c = load('prune-running');
    const e = c.facts.boot.entries.find((x) => x.release === DISTRO && !/recovery/.test(x.title));
    if (!e) throw new Error('no entry for the distribution kernel');
    e.id = `Advanced options for Debian GNU/Linux>${e.title}`;
    const r = ok(rollback(c, { to: DISTRO, trial: true }));
    expect(r.plan.changes[0]?.steps.map(argvOf)[0]).toEqual([
      'grub-editenv',
      '/boot/grub/grubenv',
      'set',
      `next_entry=${e.id}`,
    ]);
    const write = r.plan.changes[0]?.steps[1];
    if (write?.kind !== 'write') throw new Error('no record written');
    const d = decodeTrial(write.content, `${DISTRO}.json`);
    expect(d.ok && d.value.entry).toBe(e.id);
  });

  it('--reboot to the running kernel needs no trial: it is made the default at once', () => {
    const r = ok(rollback(PR, { to: R118, trial: true }));
    expect(r.plan.changes.map((x) => x.resource)).toEqual(['default-entry']);
    expect(r.plan.entry?.trial).toBe(false);
  });

  it('a trial record of the release is removed when it is made the default', () => {
    const c = load('prune-running');
    c.facts.receipts.trials = [
      {
        file: trialPath(R118),
        release: R118,
        data: {
          trialVersion: 1,
          release: R118,
          entry: kfEntryId(R118),
          cmdline: 'x',
          bootId: BOOT_A,
          state: 'armed',
          failedAt: null,
          seenRelease: null,
          seenBootId: null,
          reason: null,
          health: null,
        },
      },
    ];
    const steps = ok(rollback(c, { to: R118 })).plan.changes[0]?.steps.map(argvOf);
    expect(steps?.at(-1)).toEqual(['rm', '-f', trialPath(R118)]);
  });
});

describe('the entry a rollback uses (Debian GRUB lists 10_linux’s entries before kernelfile’s)', () => {
  it('--to the default’s release: already the default, though other entries boot it too', () => {
    // prune-running: "Debian GNU/Linux" (GRUB's first entry, the newest kernel by version) and the
    // advanced menu's entry boot 6.1.119 too; the default is kernelfile's own entry.
    expect(PR.facts.boot.default).toBe(kfEntryId(R119));
    expect(PR.facts.boot.entries.findIndex((e) => e.release === R119)).toBeLessThan(
      PR.facts.boot.entries.findIndex((e) => e.id === kfEntryId(R119)),
    );
    const r = rollback(PR, { to: R119 });
    expect(r.ok || r.problem).toMatchObject({
      code: 'already-default',
      message: `${R119} already is the default on ${PR.facts.host}`,
    });
    const c = load('converged');
    const again = rollback(c, { to: c.desired.release });
    expect(again.ok || again.problem.code).toBe('already-default');
  });

  it('a kernel of this kernelfile: the entry kernelfile wrote for it (its receipt’s), never GRUB’s "newest kernel" entry', () => {
    // After a rollback from 6.1.119 to 6.1.118, rolling forward to 6.1.119 (the newest by version)
    // must not make "Debian GNU/Linux" the default: that entry boots whatever kernel is newest, and
    // would boot the next kernel installed before its trial.
    const c = load('prune-running');
    c.facts.boot.default = kfEntryId(R118);
    if (c.facts.boot.grub) c.facts.boot.grub.env.saved_entry = kfEntryId(R118);
    const r = ok(rollback(c, { to: R119 }));
    expect(r.plan.entry?.id).toBe(kfEntryId(R119));
    expect(r.plan.changes[0]?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `saved_entry=${kfEntryId(R119)}`],
    ]);
    expect(ok(rollback(PR, { to: R117 })).plan.entry?.id).toBe(kfEntryId(R117));
  });
});

describe('planRollback on systemd-boot (bls-host, with an LTS kernel beside Arch’s)', () => {
  const LTS = '6.1.70-1-lts';
  function blsHost(): Case {
    const c = load('bls-host');
    const arch = entryById(c.facts, 'arch') as BootEntry;
    c.facts.boot.entries.push({
      ...arch,
      id: 'arch-lts',
      title: 'Arch Linux (linux-lts)',
      file: '/boot/loader/entries/arch-lts.conf',
      kernel: '/vmlinuz-linux-lts',
      initrd: ['/initramfs-linux-lts.img'],
      release: LTS,
    });
    return c;
  }

  it('bootctl set-default with the entry file', () => {
    const r = ok(rollback(blsHost(), { to: LTS }));
    expect(r.plan.changes[0]?.steps.map(argvOf)).toEqual([['bootctl', 'set-default', 'arch-lts.conf']]);
  });

  it('with a trial: bootctl set-oneshot, then the record', () => {
    const r = ok(rollback(blsHost(), { to: LTS, trial: true }));
    const steps = r.plan.changes[0]?.steps ?? [];
    expect(steps.map(argvOf)).toEqual([['bootctl', 'set-oneshot', 'arch-lts.conf'], null]);
    expect(steps[1]).toMatchObject({ kind: 'write', path: trialPath(LTS) });
  });

  it('the default itself: already the default, whichever of its entries (arch, arch-fallback) comes first', () => {
    const r = rollback(blsHost(), { to: '6.6.1-arch1-1' });
    expect(r.ok || r.problem).toMatchObject({
      code: 'already-default',
      message: `6.6.1-arch1-1 already is the default on ${blsHost().facts.host}`,
    });
  });

  it('a loader kernelfile cannot drive: its problem', () => {
    const c = blsHost();
    c.facts.boot.loader = null;
    const r = rollback(c, { to: LTS });
    expect(r.ok || r.problem.code).toBe('no-loader');
  });
});

describe('the plan text', () => {
  const text = (p: HostPlan) => renderHostPlan(p, { style: plain, configDiff: 'summary' });

  it('lists the kept kernels, marked, and what a rollback would choose', () => {
    expect(text(planOf(PR)).split('\n')).toContain(
      `  Kept kernels: ${R119} (default), ${R118} (running), ${R117}; a rollback would choose ${R118}`,
    );
  });

  it('"none" when nothing would be chosen; no line without kept kernels', () => {
    const c = load('converged');
    c.facts.system.running = c.facts.receipts.receipts[0]?.release ?? null;
    const kept = c.facts.receipts.receipts[0]?.release;
    expect(text(planOf(c))).toContain(
      `  Kept kernels: ${kept} (default, running); a rollback would choose none`,
    );
    expect(text(planOf(load('fresh-grub')))).not.toContain('Kept kernels');
  });
});
