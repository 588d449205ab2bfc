/**
 * boot.trial with trial records: the plan arms a one-time boot and records it (with the boot id it
 * was armed in); an armed trial on the same boot is pending; one the host has booted past without
 * running the release (another boot id, the one-time entry used up), or one recorded as failed,
 * is a `trial-failed` problem that only --retry-trial (or a new build or command line) gets past;
 * the record goes once the release is the default, or with the release when it is pruned.
 * Starts from the golden cases trial-pending (6.1.120 installed and armed, 6.1.119 running and the
 * default), trial-booted and version-bump-prune, with the facts edited per test.
 */
import { describe, expect, it } from 'vitest';
import type { HostFacts, TrialRecord } from '../../../src/facts/types.js';
import { hostState, STATE_EXIT, STATE_TEXT } from '../../../src/fleet/status.js';
import { plan } from '../../../src/plan/planner.js';
import type { Change, HostPlan } from '../../../src/plan/types.js';
import { decodeTrial } from '../../../src/receipt/decode.js';
import { trialPath } from '../../../src/receipt/paths.js';
import type { Trial } from '../../../src/receipt/types.js';
import type { Step } from '../../../src/resources/change.js';
import { failedTrial } from '../../../src/resources/default-entry.js';
import type { RenderedEntry } from '../../../src/resources/loaders/driver.js';
import { kfEntryId, loadCase, planOptions, setGrubDefault } from '../../helpers/plan-fixtures.js';
import { BOOT_A, BOOT_B, trialData } from '../../helpers/receipt-text.js';

type Case = ReturnType<typeof loadCase>;

/** A golden case with its facts copied for editing. */
function load(name: string): Case {
  const c = loadCase(name);
  return { ...c, facts: structuredClone(c.facts), desired: structuredClone(c.desired) };
}

const planOf = (c: Case): HostPlan => plan(c.desired, c.facts, planOptions(c.facts));
const trialChange = (p: HostPlan) => p.changes.find((x) => x.resource === 'trial');
const defaultChange = (p: HostPlan) => p.changes.find((x) => x.resource === 'default-entry');
const argvOf = (s: Step) => (s.kind === 'run' ? s.argv : null);

/** The GRUB release trial-pending arms (6.1.120) and the one it runs (6.1.119). */
const NEW = loadCase('trial-pending').desired.release;
const OLD = loadCase('trial-pending').facts.system.running as string;

/** trial-pending before the arming: the default is 6.1.119, nothing armed; the host booted as BOOT_A. */
function unarmed(): Case {
  const c = load('trial-pending');
  setGrubDefault(c.facts, kfEntryId(OLD));
  c.facts.system.bootId = BOOT_A;
  return c;
}

/** The write step of the trial change that records the arming, decoded. */
function armedRecordOf(change: Change | undefined): { path: string; trial: Trial } {
  const write = change?.steps.find((s) => s.kind === 'write');
  if (write?.kind !== 'write') throw new Error('no write step in the trial change');
  const name = write.path.split('/').pop() as string;
  const d = decodeTrial(write.content, name);
  if (!d.ok) throw new Error(d.error);
  return { path: write.path, trial: d.value };
}

/** The record as the plan of `unarmed()` wrote it, with edits (what the host keeps in trials/). */
function record(over: Partial<Trial> = {}): TrialRecord {
  const { trial, path } = armedRecordOf(trialChange(planOf(unarmed())));
  return { file: path, release: trial.release, data: { ...trial, ...over } };
}

/** After a reboot (boot id BOOT_B) that used up the one-time entry and came back in 6.1.119. */
function bootedPast(c: Case): Case {
  setGrubDefault(c.facts, kfEntryId(OLD));
  c.facts.system.bootId = BOOT_B;
  return c;
}

const FAILED: Partial<Trial> = {
  state: 'failed',
  failedAt: '2026-12-02T09:14:03.512Z',
  seenRelease: OLD,
  seenBootId: BOOT_B,
  reason: `came back after 85 s running ${OLD}, not ${NEW}`,
};

describe('arming a trial', () => {
  it('(a) no record: the trial change arms the one-time entry, then records it armed with the boot id', () => {
    const c = unarmed();
    const p = planOf(c);
    const t = trialChange(p);
    expect(t?.action).toBe('create');
    expect(p.problems).toEqual([]);
    expect(p.entry).toMatchObject({ id: kfEntryId(NEW), trial: true, default: true });
    // The loader's one-shot (grub-reboot's next_entry), then the record: never a record without it.
    expect(t?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `next_entry=${kfEntryId(NEW)}`],
      null,
    ]);
    const { path, trial } = armedRecordOf(t);
    expect(path).toBe(`/var/lib/kernelfile/trials/${NEW}.json`);
    expect(t?.steps[1]).toMatchObject({ kind: 'write', mode: 0o644, sudo: true });
    expect(trial).toEqual({
      trialVersion: 1,
      ...trialData(NEW, { entry: kfEntryId(NEW), cmdline: p.entry?.cmdline }),
    });
    // The default stays 6.1.119 until the host runs 6.1.120.
    expect(defaultChange(p)).toBeUndefined();
    expect(t?.reason).toContain(`boot ${NEW} once at the next reboot`);
  });

  it('(a) a host whose boot id is unknown arms it with bootId null', () => {
    const c = unarmed();
    c.facts.system.bootId = null;
    expect(armedRecordOf(trialChange(planOf(c))).trial.bootId).toBeNull();
  });

  it('(b) armed record, same boot id, one-time entry still armed: nothing to do, the trial is pending', () => {
    const c = load('trial-pending'); // next_entry armed
    c.facts.system.bootId = BOOT_A;
    c.facts.receipts.trials = [record()];
    const p = planOf(c);
    expect(trialChange(p)).toMatchObject({ action: 'no-op', reason: 'armed: boots once at the next reboot' });
    expect(trialChange(p)?.steps).toEqual([]);
    expect(p.problems).toEqual([]);
    expect(p.notes.join('\n')).toContain(`trial pending: ${kfEntryId(NEW)} boots once at the next reboot`);
    expect(hostState(p, c.facts).state).toBe('installed-not-booted');
  });

  it('an armed record on another boot whose one-time entry is still armed is still pending', () => {
    const c = load('trial-pending');
    c.facts.system.bootId = BOOT_B;
    c.facts.receipts.trials = [record()];
    expect(trialChange(planOf(c))?.action).toBe('no-op');
    expect(planOf(c).problems).toEqual([]);
  });
});

describe('a failed trial', () => {
  it('(c) armed on an earlier boot, one-time entry used up, another release running: trial-failed', () => {
    const c = bootedPast(load('trial-pending'));
    c.facts.receipts.trials = [record()];
    const p = planOf(c);
    expect(p.problems.map((x) => x.code)).toEqual(['trial-failed']);
    const [problem] = p.problems;
    expect(problem?.message).toBe(
      `the trial boot of ${NEW} failed: the host booted since it was armed (boot id ${BOOT_B.slice(0, 8)}, was ${BOOT_A.slice(0, 8)}) and runs ${OLD}: the loader fell back to the default`,
    );
    expect(problem?.hint).toMatch(/--retry-trial/);
    // A no-op trial change that says why; nothing is armed again, the default is not touched.
    expect(trialChange(p)).toMatchObject({ action: 'no-op', reason: problem?.message, steps: [] });
    expect(defaultChange(p)).toBeUndefined();
    const s = hostState(p, c.facts);
    expect(s).toEqual({ state: 'trial-failed', detail: problem?.message });
    expect(STATE_EXIT[s.state]).toBe(8);
    expect(STATE_TEXT[s.state]).toBe('trial failed');
  });

  it('(c) without a boot id on either side it cannot be told: the trial is armed again', () => {
    const c = bootedPast(load('trial-pending'));
    c.facts.system.bootId = null;
    c.facts.receipts.trials = [record()];
    expect(planOf(c).problems).toEqual([]);
    expect(trialChange(planOf(c))?.action).toBe('create');
    c.facts.system.bootId = BOOT_B;
    c.facts.receipts.trials = [record({ bootId: null })];
    expect(trialChange(planOf(c))?.action).toBe('create');
  });

  it('(d) a record that says failed: the same problem, with when and why', () => {
    const c = unarmed(); // even on the boot it was armed in: the record is what counts
    c.facts.receipts.trials = [record(FAILED)];
    const p = planOf(c);
    expect(p.problems).toHaveLength(1);
    expect(p.problems[0]).toMatchObject({
      code: 'trial-failed',
      message: `the trial boot of ${NEW} failed at ${FAILED.failedAt}: ${FAILED.reason}`,
    });
    expect(trialChange(p)).toMatchObject({ action: 'no-op', steps: [] });
    expect(hostState(p, c.facts).state).toBe('trial-failed');
  });

  it('(d) a failed record without a reason or time still refuses', () => {
    const c = unarmed();
    c.facts.receipts.trials = [record({ state: 'failed' })];
    expect(planOf(c).problems[0]?.message).toBe(`the trial boot of ${NEW} failed: it failed`);
  });

  it('the trial-failed state wins over the other problems of the plan', () => {
    const c = unarmed();
    c.facts.receipts.trials = [record(FAILED)];
    const p = planOf(c);
    const more = { ...p, problems: [{ code: 'boot-too-small', message: 'full', hint: '' }, ...p.problems] };
    expect(hostState(more, c.facts).state).toBe('trial-failed');
  });

  it('(e) --retry-trial arms it again, and records a fresh armed trial', () => {
    for (const failed of [record(FAILED), record()]) {
      const c = bootedPast(load('trial-pending'));
      c.facts.receipts.trials = [failed];
      c.desired.boot.retryTrial = true;
      const p = planOf(c);
      expect(p.problems).toEqual([]);
      const t = trialChange(p);
      expect(t?.action).toBe('create');
      expect(t?.reason).toContain(`boot ${NEW} once more (--retry-trial) at the next reboot`);
      expect(t?.steps.map(argvOf)[0]).toEqual([
        'grub-editenv',
        '/boot/grub/grubenv',
        'set',
        `next_entry=${kfEntryId(NEW)}`,
      ]);
      expect(armedRecordOf(t).trial).toMatchObject({ state: 'armed', bootId: BOOT_B, failedAt: null });
    }
  });

  it('(e) --retry-trial with nothing failed changes nothing', () => {
    const c = unarmed();
    c.desired.boot.retryTrial = true;
    const retried = planOf(c);
    c.desired.boot.retryTrial = false;
    expect(retried).toEqual(planOf(c));
  });

  it('(f) a failed trial of another command line or entry is not this trial: a new one is armed', () => {
    const p0 = planOf(unarmed());
    for (const other of [{ cmdline: `${p0.entry?.cmdline} nomodeset` }, { entry: 'kernelfile-other' }]) {
      const c = bootedPast(load('trial-pending'));
      c.facts.receipts.trials = [record({ ...FAILED, ...other })];
      const p = planOf(c);
      expect(p.problems).toEqual([]);
      expect(trialChange(p)?.action).toBe('create');
      // Not "once more": it is a first trial of this entry.
      expect(trialChange(p)?.reason).not.toContain('--retry-trial');
    }
  });

  it('(f) a failed trial of another release does not concern this one', () => {
    const c = unarmed();
    c.facts.receipts.trials = [{ ...record(FAILED), release: OLD }];
    expect(planOf(c).problems).toEqual([]);
  });
});

describe('a failed trial, planned without a trial (boot.trial off, no --reboot or --trial)', () => {
  // `apply --reboot` makes any apply a trial, whatever the kernelfile says; the next `plan`,
  // `status` or plain `apply` plans without one. The trial's failure still stands: the kernel did
  // not come up, and must not become the default (nor its record be removed) unnoticed.
  function planned(over: Partial<Trial>, retry = false) {
    const c = bootedPast(load('trial-pending'));
    c.desired.boot.trial = false;
    c.desired.boot.retryTrial = retry;
    c.facts.receipts.trials = [record(over)];
    return { c, p: planOf(c) };
  }

  it('a recorded failure is the same problem, and the default is not changed', () => {
    const { c, p } = planned(FAILED);
    expect(p.problems.map((x) => x.code)).toEqual(['trial-failed']);
    expect(p.problems[0]?.message).toBe(
      `the trial boot of ${NEW} failed at ${FAILED.failedAt}: ${FAILED.reason}`,
    );
    expect(
      p.changes.filter((x) => x.resource === 'default-entry' || x.resource === 'trial').map((x) => x.action),
    ).toEqual(['no-op']);
    expect(
      p.changes.flatMap((x) => x.steps).some((s) => argvOf(s)?.some((a) => a.includes('saved_entry='))),
    ).toBe(false);
    expect(hostState(p, c.facts).state).toBe('trial-failed');
  });

  it('so is an armed trial the host has booted past', () => {
    expect(planned({}).p.problems.map((x) => x.code)).toEqual(['trial-failed']);
  });

  it('--retry-trial: made the default as asked, and the record forgotten', () => {
    const { p } = planned(FAILED, true);
    expect(p.problems).toEqual([]);
    expect(defaultChange(p)?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `saved_entry=${kfEntryId(NEW)}`],
      ['rm', '-f', trialPath(NEW)],
    ]);
  });
});

describe('failedTrial', () => {
  const entry = (): RenderedEntry => {
    const e = planOf(unarmed()).entry;
    return {
      id: e?.id as string,
      release: NEW,
      title: e?.title as string,
      cmdline: e?.cmdline as string,
      linux: `/boot/vmlinuz-${NEW}`,
      initrd: null,
      default: true,
    };
  };
  /** failedTrial on trial-pending booted past its trial (armed record, BOOT_B), edited. */
  const judged = (edit: (f: HostFacts) => void = () => {}) => {
    const c = bootedPast(load('trial-pending'));
    c.facts.receipts.trials = [record()];
    edit(c.facts);
    return failedTrial(c.facts, entry());
  };

  it('names the record it judged', () => {
    const r = judged();
    expect(r?.record).toEqual(record());
    expect(r?.why).toMatch(/the loader fell back to the default$/);
  });

  it('null: no record, the same boot, the one-time entry still armed, or the release running', () => {
    expect(judged((f) => (f.receipts.trials = []))).toBeNull();
    expect(judged((f) => (f.system.bootId = BOOT_A))).toBeNull();
    expect(judged((f) => (f.boot.oneshot = kfEntryId(NEW)))).toBeNull();
    expect(judged((f) => (f.system.running = NEW))).toBeNull();
  });

  it('facts from before trial records (no trials list, no boot id) are read as none', () => {
    const golden = loadCase('trial-pending').facts;
    expect('trials' in golden.receipts).toBe(false);
    expect(failedTrial(golden, entry())).toBeNull();
  });
});

describe('the record once the trial is over', () => {
  /** trial-booted: the host runs 6.1.120 after its trial boot; 6.1.119 is still the default. */
  function booted(withRecord: boolean): HostPlan {
    const c = load('trial-booted');
    c.facts.system.bootId = BOOT_B;
    if (withRecord) c.facts.receipts.trials = [record()];
    return planOf(c);
  }

  it('(g) the default-entry change removes the trial record after setting the default', () => {
    const p = booted(true);
    const d = defaultChange(p);
    expect(d?.action).toBe('update');
    expect(d?.reason).toBe(`${NEW} came up in its trial boot`);
    expect(d?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `saved_entry=${kfEntryId(NEW)}`],
      ['rm', '-f', trialPath(NEW)],
    ]);
    expect(p.problems).toEqual([]);
  });

  it('(g) without a record there is nothing to remove', () => {
    const d = defaultChange(booted(false));
    expect(d?.steps.map(argvOf)).toEqual([
      ['grub-editenv', '/boot/grub/grubenv', 'set', `saved_entry=${kfEntryId(NEW)}`],
    ]);
  });

  it('(h) after a trial that passed, keep: 1 prunes the old default in the same plan that replaces it', () => {
    const c = load('trial-booted');
    c.facts.system.bootId = BOOT_B;
    c.facts.receipts.trials = [record()];
    const kept = planOf(c);
    expect(kept.changes.find((x) => x.id === `prune[${OLD}]`)).toBeUndefined();
    c.desired.boot.keep = 1;
    const p = planOf(c);
    const prune = p.changes.find((x) => x.id === `prune[${OLD}]`);
    expect(prune?.action).toBe('delete');
    // After the default moved: the resources run in order, default-entry before prune.
    const order = p.changes.map((x) => x.resource);
    expect(order.indexOf('default-entry')).toBeLessThan(order.indexOf('prune'));
    expect(p.notes.join('\n')).not.toContain(`${OLD} is beyond boot.keep but stays`);
    // Not while the old kernel still runs, nor when the kernelfile does not make the new one the default.
    const running = load('trial-booted');
    running.desired.boot.keep = 1;
    running.facts.system.running = OLD;
    expect(planOf(running).changes.find((x) => x.id === `prune[${OLD}]`)).toBeUndefined();
    const noDefault = load('trial-booted');
    noDefault.desired.boot.keep = 1;
    noDefault.desired.boot.entries = noDefault.desired.boot.entries.map((e) => ({ ...e, default: false }));
    const nd = planOf(noDefault);
    expect(nd.changes.find((x) => x.id === `prune[${OLD}]`)).toBeUndefined();
    expect(nd.notes.join('\n')).toContain(`${OLD} is beyond boot.keep but stays: it is the current default`);
  });

  it('(h) pruning a release also forgets its trial record', () => {
    const c = load('version-bump-prune');
    const pruned = c.facts.receipts.receipts.map((r) => r.release).find((r) => r.startsWith('6.1.118'));
    if (!pruned) throw new Error('version-bump-prune has no 6.1.118');
    const forget = (p: HostPlan) =>
      p.changes
        .find((x) => x.id === `prune[${pruned}]`)
        ?.steps.map(argvOf)
        .find((a) => a?.[2] === `/var/lib/kernelfile/${pruned}.json`);
    expect(forget(planOf(c))).toEqual([
      'rm',
      '-rf',
      `/var/lib/kernelfile/${pruned}.json`,
      `/var/lib/kernelfile/${pruned}.sha256`,
      `/var/lib/kernelfile/${pruned}.stat`,
      `/var/lib/kernelfile/pending/${pruned}.json`,
    ]);
    c.facts.receipts.trials = [
      { file: trialPath(pruned), release: pruned, data: { ...record(FAILED).data, release: pruned } },
    ];
    expect(forget(planOf(c))).toEqual([
      'rm',
      '-rf',
      `/var/lib/kernelfile/${pruned}.json`,
      `/var/lib/kernelfile/${pruned}.sha256`,
      `/var/lib/kernelfile/${pruned}.stat`,
      `/var/lib/kernelfile/pending/${pruned}.json`,
      trialPath(pruned),
    ]);
  });
});
