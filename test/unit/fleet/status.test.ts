/** `kernelfile status`: each host state from a plan and the facts, on the golden plan cases. */
import { describe, expect, it } from 'vitest';
import { hostState, STATE_EXIT, worstExit } from '../../../src/fleet/status.js';
import { plan } from '../../../src/plan/planner.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

function stateOf(name: string, edit?: (f: ReturnType<typeof loadCase>['facts']) => void) {
  const c = loadCase(name);
  const facts = structuredClone(c.facts);
  edit?.(facts);
  return hostState(plan(c.desired, facts, planOptions(facts)), facts);
}

describe('host states', () => {
  it.each([
    ['fresh-grub', 'changes-pending'],
    ['version-bump', 'changes-pending'],
    ['drifted', 'drifted'],
    ['no-dkms', 'error'],
    ['boot-too-small', 'error'],
    ['trial-pending', 'installed-not-booted'],
    ['trial-booted', 'booted-not-default'],
  ])('%s: %s', (name, state) => {
    expect(stateOf(name).state).toBe(state);
  });

  it('converged: installed, the default, and running', () => {
    const c = loadCase('converged');
    const s = stateOf('converged', (f) => {
      f.system.running = c.desired.release;
    });
    expect(s).toEqual({ state: 'converged', detail: `runs ${c.desired.release}` });
  });

  it('installed and the default but not running yet: installed-not-booted, though the plan has no changes', () => {
    const c = loadCase('converged');
    const s = stateOf('converged', (f) => {
      f.system.running = '6.1.0-18-amd64';
    });
    expect(s.state).toBe('installed-not-booted');
    expect(s.detail).toContain(c.desired.release);
  });

  it('installed but rolled back (another kernel the default and running): changes pending, not waiting for a reboot', () => {
    const s = stateOf('converged', (f) => {
      f.system.running = '6.1.0-18-amd64';
      f.boot.default =
        'gnulinux-advanced-8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71>gnulinux-6.1.0-18-amd64-advanced-8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71';
    });
    expect(s).toEqual({ state: 'changes-pending', detail: '1 change pending' });
  });

  it('exit codes: distinct per state, a fleet exits with the worst', () => {
    expect(new Set(Object.values(STATE_EXIT)).size).toBe(Object.keys(STATE_EXIT).length);
    expect(Object.values(STATE_EXIT)).not.toContain(1);
    expect(worstExit([])).toBe(0);
    expect(worstExit(['converged', 'installed-not-booted', 'changes-pending'])).toBe(3);
    expect(worstExit(['converged', 'unreachable', 'drifted'])).toBe(7);
  });
});

describe('an image (root:DIR): no kernel runs there', () => {
  /**
   * The converged case's facts as an image's: nothing running, no command line. Planned without
   * the planner's image option (its GRUB checks want the grub.cfg kernelfile writes into images,
   * which this booted host's fixture does not have): what is tested is the state of a plan with
   * nothing pending on a host where no kernel runs.
   */
  function imageState(name: string) {
    const c = loadCase(name);
    const facts = structuredClone(c.facts);
    facts.system.running = null;
    facts.system.cmdline = null;
    facts.system.kernelVersion = null;
    return hostState(plan(c.desired, facts, planOptions(facts)), facts, { image: true });
  }

  it('installed and the default is converged (exit 0), not installed-not-booted', () => {
    const s = imageState('converged');
    expect(s).toEqual({
      state: 'converged',
      detail: `${loadCase('converged').desired.release} installed and default (an image: no kernel runs)`,
    });
    expect(STATE_EXIT[s.state]).toBe(0);
  });

  it('changes still pending are pending', () => {
    expect(imageState('fresh-grub').state).toBe('changes-pending');
  });
});
