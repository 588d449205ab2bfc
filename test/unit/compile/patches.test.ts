import { describe, expect, it } from 'vitest';
import { parsePatchOutput } from '../../../src/compile/patches.js';

describe('GNU patch output', () => {
  it('names the files and hunks that failed', () => {
    const out = `checking file init/main.c
Hunk #1 FAILED at 931.
Hunk #3 FAILED at 1010.
2 out of 3 hunks FAILED
checking file mm/vmscan.c
checking file 'dir with space/x.c'
Hunk #2 FAILED at 5.
1 out of 2 hunks FAILED`;
    expect(parsePatchOutput(out)).toEqual([
      { file: 'init/main.c', hunks: [1, 3] },
      { file: 'dir with space/x.c', hunks: [2] },
    ]);
  });

  it('reports a file that is not there (a wrong strip level)', () => {
    expect(
      parsePatchOutput(
        "can't find file to patch at input line 3\nPerhaps you used the wrong -p or --strip option?",
      ),
    ).toEqual([{ file: '?', hunks: [], missing: true }]);
  });
});
