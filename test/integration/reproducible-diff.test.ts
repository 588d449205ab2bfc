/**
 * How `build --check-reproducible` shows what differs between two builds' files: Debian's
 * diffoscope when it is installed (scripts/install-deps.sh --tests installs diffoscope-minimal),
 * else the first differing byte and a hex excerpt of both files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffoscope, hexExplanation } from '../../src/compile/reproducible.js';

const dir = mkdtempSync(join(tmpdir(), 'kf-repro-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('what differs inside two files', () => {
  const a = join(dir, 'a.txt');
  const b = join(dir, 'b.txt');
  writeFileSync(a, 'Linux version 6.1 (kernelfile@qemu-tiny) #1 built at /root/.cache/a\n');
  writeFileSync(b, 'Linux version 6.1 (kernelfile@qemu-tiny) #1 built at /root/.cache/b\n');

  it("diffoscope's report: both files' lines", async () => {
    const report = await diffoscope(a, b);
    expect(report, 'diffoscope is not installed: scripts/install-deps.sh --tests installs it').not.toBeNull();
    expect(report?.join('\n')).toContain(
      '-Linux version 6.1 (kernelfile@qemu-tiny) #1 built at /root/.cache/a',
    );
    expect(report?.join('\n')).toContain(
      '+Linux version 6.1 (kernelfile@qemu-tiny) #1 built at /root/.cache/b',
    );
  }, 120_000);

  it('without it: the offset of the first difference and both files around it', () => {
    const lines = hexExplanation(a, b);
    expect(lines[0]).toBe('first difference at byte 66 (0x42)');
    // From the 16-byte row before the difference to the end of the files: two rows of each.
    expect(lines).toEqual([
      'first difference at byte 66 (0x42)',
      'first build:',
      '  00000030  74 20 61 74 20 2f 72 6f 6f 74 2f 2e 63 61 63 68  |t at /root/.cach|',
      '  00000040  65 2f 61 0a                                      |e/a.|',
      'second build:',
      '  00000030  74 20 61 74 20 2f 72 6f 6f 74 2f 2e 63 61 63 68  |t at /root/.cach|',
      '  00000040  65 2f 62 0a                                      |e/b.|',
    ]);
  });
});
