import { describe, expect, it } from 'vitest';
import { canSyncAhead } from '../../../src/compile/seed-early.js';

describe('canSyncAhead: an early copy is synchronised ahead where `make syncconfig` is what Kbuild runs', () => {
  it('from Linux 4.17 on (syncconfig; silentoldconfig before), rc versions too', () => {
    expect(canSyncAhead('6.1.192', false)).toBe(true);
    expect(canSyncAhead('6.13-rc3', false)).toBe(true);
    expect(canSyncAhead('5.0', false)).toBe(true);
    expect(canSyncAhead('4.17', false)).toBe(true);
    expect(canSyncAhead('4.17-rc1', false)).toBe(true);
    expect(canSyncAhead('4.16.18', false)).toBe(false);
    expect(canSyncAhead('4.9.337', false)).toBe(false);
    expect(canSyncAhead('3.18', false)).toBe(false);
  });

  it("never through distcc: its make runs Kconfig's compiler probes through distcc", () => {
    expect(canSyncAhead('6.1.192', true)).toBe(false);
  });
});
