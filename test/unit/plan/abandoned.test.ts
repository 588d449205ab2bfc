/**
 * An apply of an older build that never finished is this kernelfile's to clean up (and only it):
 * its journal and staging are forgotten, but without a receipt its kernel is never removed.
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/plan/planner.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const OLD = '6.1.119-web-kf00c0ffee';
const BUILD = '00c0ffee'.padEnd(64, '0');

function withJournal(name: string, running = false) {
  const c = loadCase('converged');
  const facts = structuredClone(c.facts);
  facts.receipts.pending.push({
    file: `/var/lib/kernelfile/pending/${OLD}.json`,
    release: OLD,
    data: {
      release: OLD,
      buildId: BUILD,
      name,
      startedAt: '2026-11-01T10:00:00.000Z',
      host: facts.host,
    },
    drift: null,
  });
  if (running) facts.system.running = OLD;
  return { c, p: plan(c.desired, facts, planOptions(facts)) };
}

describe('interrupted applies of another release', () => {
  it('are forgotten: journal and staging, with the reason; the kernel (no receipt) stays', () => {
    const { c, p } = withJournal(loadCase('converged').desired.name);
    const prune = p.changes.find((x) => x.id === `prune[${OLD}]`);
    expect(prune?.action).toBe('delete');
    expect(prune?.reason).toBe(
      "an interrupted apply (started 2026-11-01T10:00:00.000Z) that the kernelfile no longer wants: its journal and staging are forgotten; the release's files, if any, stay (no receipt)",
    );
    expect(prune?.steps.map((s) => s.kind === 'run' && s.argv)).toEqual([
      ['rm', '-rf', `/var/lib/kernelfile/pending/${OLD}.json`, `/var/lib/kernelfile/staging/${BUILD}`],
    ]);
    expect(p.notes.join('\n')).toContain(
      `${OLD}: an interrupted apply of this kernelfile left it without a receipt`,
    );
    // the release being converged is untouched
    expect(p.changes.filter((x) => x.action !== 'no-op').map((x) => x.id)).toEqual([`prune[${OLD}]`]);
    expect(c.desired.release).not.toBe(OLD);
  });

  it('another kernelfile’s journal is not ours to remove', () => {
    const { p } = withJournal('someone-else');
    expect(p.changes.some((x) => x.resource === 'prune')).toBe(false);
  });

  it('never the running kernel', () => {
    const { p } = withJournal(loadCase('converged').desired.name, true);
    expect(p.changes.some((x) => x.resource === 'prune')).toBe(false);
    expect(p.notes.join('\n')).toContain(`${OLD} is beyond boot.keep but stays: it is the running kernel`);
  });
});
