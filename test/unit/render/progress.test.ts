/**
 * The progress of stages (listr2): a stage's error reaches the caller as it was thrown, and the
 * progress does not print its message (the command prints every error once, with its hint).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BuildError } from '../../../src/compile/errors.js';
import { runSequence, runStages } from '../../../src/render/progress.js';

let written = '';
afterEach(() => {
  vi.restoreAllMocks();
  written = '';
});
function captureStderr() {
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written += String(chunk);
    return true;
  });
}

describe('runStages', () => {
  it.each([false, true])(
    'tty %s: the stage fails with its own error, whose message the progress leaves out',
    async (tty) => {
      captureStderr();
      const error = new BuildError('`make` failed: see make.log', 'fix the build', ['cc1: error: x']);
      const ran: string[] = [];
      const run = runStages(
        [
          { title: 'Prepare the tree', run: async () => void ran.push('prepare') },
          {
            title: 'Compile the kernel',
            run: async () => {
              ran.push('compile');
              throw error;
            },
          },
          { title: 'Never reached', run: async () => void ran.push('after') },
        ],
        {},
        { tty },
      );
      await expect(run).rejects.toBe(error);
      expect(ran).toEqual(['prepare', 'compile']);
      expect(written).toContain('Compile the kernel');
      expect(written).not.toContain('make` failed');
      expect(written).not.toContain('cc1: error');
    },
  );

  it('a stage that succeeds: its context, every title shown', async () => {
    captureStderr();
    const ctx = await runStages(
      [
        {
          title: 'One',
          run: async (c: { n?: number }) => {
            c.n = 1;
          },
        },
      ],
      {} as { n?: number },
      { tty: false },
    );
    expect(ctx.n).toBe(1);
    expect(written).toContain('One');
  });
});

describe('runSequence', () => {
  it("the work's error reaches the caller as it was thrown, and the progress leaves its message out", async () => {
    captureStderr();
    const error = new Error('mokutil --import exited with 1');
    const run = runSequence(['first change', 'second change'], async (report) => {
      report.start(0);
      report.start(1);
      throw error;
    });
    await expect(run).rejects.toBe(error);
    expect(written).not.toContain('mokutil');
  });
});
