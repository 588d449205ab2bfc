/** verify's console parser: the markers the test initramfs prints, mixed with kernel text. */
import { describe, expect, it } from 'vitest';
import { MARKER } from '../../../src/verify/initramfs-image.js';
import { parseConsole } from '../../../src/verify/verify.js';

describe('verify: console markers', () => {
  it('reads the release, module verdicts and panics, with kernel text on the same line', () => {
    const r = parseConsole([
      '[    0.5] Run /init as init process\r',
      `${MARKER} start`,
      `${MARKER} uname 6.1.192-kfverify\r`,
      `[    0.9] random: crng init done${MARKER} module a ok loaded by modprobe`,
      `${MARKER} module b failed modprobe: module b not found in modules.dep (exit 1)`,
      'kf-dmesg: [    1.0] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000',
      `${MARKER} done`,
    ]);
    expect(r.started).toBe(true);
    expect(r.done).toBe(true);
    expect(r.uname).toBe('6.1.192-kfverify');
    expect(r.modules.get('a')).toEqual({ ok: true, detail: 'loaded by modprobe' });
    expect(r.modules.get('b')).toEqual({
      ok: false,
      detail: 'modprobe: module b not found in modules.dep (exit 1)',
    });
    expect(r.panics).toEqual(['Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000']);
  });

  it('reads whether signatures were enforced and which copies were refused', () => {
    const r = parseConsole([
      `${MARKER} start`,
      `${MARKER} sigenforce Y`,
      `${MARKER} refuse unsigned refused insmod: can't insert '/lib/kf-verify/unsigned.ko': Key was rejected by service (exit 1); kernel: Loading of unsigned module is rejected`,
      `${MARKER} refuse other-key accepted`,
      `${MARKER} done`,
    ]);
    expect(r.sigEnforce).toBe('Y');
    expect(r.refusals.get('unsigned')).toEqual({
      refused: true,
      detail:
        "insmod: can't insert '/lib/kf-verify/unsigned.ko': Key was rejected by service (exit 1); kernel: Loading of unsigned module is rejected",
    });
    expect(r.refusals.get('other-key')).toEqual({ refused: false, detail: '' });
    expect(parseConsole([`${MARKER} start`]).sigEnforce).toBeNull();
  });
});
