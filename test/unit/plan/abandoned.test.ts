/** An apply of an older build that never finished is this kernelfile's to clean up (and only it). */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/plan/planner.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const OLD = '6.1.119-web-kf00c0ffee';

function withJournal(name: string, running = false) {
  const c = loadCase('converged');
  const facts = structuredClone(c.facts);
  facts.receipts.pending.push({
    file: `/var/lib/kernelfile/pending/${OLD}.json`,
    release: OLD,
    data: {
      release: OLD,
      buildId: 'c0ffee'.padEnd(64, '0'),
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
  it('are pruned: files, journal and staging, with the reason', () => {
    const { c, p } = withJournal(loadCase('converged').desired.name);
    const prune = p.changes.find((x) => x.id === `prune[${OLD}]`);
    expect(prune?.action).toBe('delete');
    expect(prune?.reason).toBe(
      'an interrupted apply (started 2026-11-01T10:00:00.000Z) that the kernelfile no longer wants',
    );
    const forget = prune?.steps.at(-1);
    expect(forget?.kind === 'run' && forget.argv).toEqual([
      'rm',
      '-rf',
      `/var/lib/kernelfile/${OLD}.json`,
      `/var/lib/kernelfile/${OLD}.sha256`,
      `/var/lib/kernelfile/pending/${OLD}.json`,
      `/var/lib/kernelfile/staging/${'c0ffee'.padEnd(64, '0')}`,
    ]);
    // the release being converged is untouched
    expect(p.changes.filter((x) => x.action !== 'noop').map((x) => x.id)).toEqual([`prune[${OLD}]`]);
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
