import { describe, expect, it } from 'vitest';
import { lockOptions, showLocks } from '../../../src/cli/lock.js';
import type { Loaded } from '../../../src/engine/kernelfile.js';
import { checkLock } from '../../../src/engine/lock.js';
import { STDIN_DISPLAY } from '../../../src/engine/read-kernelfile.js';
import { fakeIo } from '../../helpers/io.js';

describe('--locked and --update-lock', () => {
  it('together are refused, saying which is for what', () => {
    expect(() => lockOptions({ locked: true, updateLock: true })).toThrow(
      '--locked and --update-lock contradict each other',
    );
    expect(lockOptions({ locked: true })).toEqual({ locked: true, update: false });
  });

  it('a kernelfile from standard input has no lock: nothing written, and --locked refuses it by name', async () => {
    const loaded = { kf: { display: STDIN_DISPLAY, abs: '/work/stdin.yaml' } } as unknown as Loaded;
    const quiet = await checkLock(loaded, [], [], {});
    expect(quiet).toEqual({
      kernelfile: STDIN_DISPLAY,
      path: '-',
      state: 'missing',
      differences: [],
      refused: false,
    });
    const io = fakeIo('/');
    expect(showLocks([quiet], io)).toBe(false);
    expect(io.stderr).toBe('');
    const refused = await checkLock(loaded, [], [], { locked: true });
    expect(showLocks([refused], io)).toBe(true);
    expect(io.stderr).toBe(
      "error: a kernelfile read from standard input has no lock file\n  hint: name the kernelfile's path\n" +
        'kernelfile: --locked: the lock does not hold; nothing was built or changed\n',
    );
  });
});
