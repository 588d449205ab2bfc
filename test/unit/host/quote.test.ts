/** quoteArg, quoteArgv and withEnv without a shell (test/integration/quote-sh.test.ts runs /bin/sh on them). */
import { describe, expect, it } from 'vitest';
import { quoteArg, quoteArgv, withEnv } from '../../../src/host/quote.js';

describe('quoteArgv', () => {
  it('leaves plain words unquoted and quotes the rest', () => {
    expect(quoteArgv(['dkms', 'build', '-k', '6.1.192-kf1', '/usr/src/a-1.0'])).toBe(
      'dkms build -k 6.1.192-kf1 /usr/src/a-1.0',
    );
    expect(quoteArg('')).toBe("''");
    expect(quoteArg("it's")).toBe("'it'\\''s'");
    expect(quoteArg('$(reboot)')).toBe("'$(reboot)'");
  });

  it('refuses what cannot be an argument', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/);
    expect(() => quoteArgv([])).toThrow(/empty/);
  });

  it('passes environment through env(1), checking names', () => {
    expect(withEnv(['make'], { KBUILD_BUILD_USER: 'kf user' })).toEqual([
      'env',
      'KBUILD_BUILD_USER=kf user',
      'make',
    ]);
    expect(() => withEnv(['make'], { 'A;B': '1' })).toThrow(/not an environment variable name/);
  });
});
