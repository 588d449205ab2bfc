/** The unit project's guard (test/unit/setup.ts): starting a process fails, however it is started. */
import * as childProcess from 'node:child_process';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { runLocal } from '../../src/host/local.js';
import { ATTEMPTS, PURE_MESSAGE } from './setup.js';

const attempts = () => (globalThis as typeof globalThis & { [ATTEMPTS]?: string[] })[ATTEMPTS] ?? [];
const MESSAGE = /unit tests are pure: move this test to test\/integration/;

// Each test here starts a process on purpose: take its attempts back before the guard's own check.
afterEach(() => {
  attempts().splice(0);
});

describe('the unit guard', () => {
  it.each([
    ['spawn', () => childProcess.spawn('true', ['x'])],
    ['spawnSync', () => childProcess.spawnSync('true')],
    ['exec', () => childProcess.exec('true')],
    ['execSync', () => childProcess.execSync('true')],
    ['execFile', () => childProcess.execFile('true')],
    ['execFileSync', () => childProcess.execFileSync('true')],
    ['fork', () => childProcess.fork('/dev/null')],
  ])('child_process.%s throws, naming the command', (name, start) => {
    expect(start).toThrow(MESSAGE);
    expect(attempts()).toEqual([expect.stringContaining(`child_process.${name}: `)]);
    expect(attempts()[0]).toContain(PURE_MESSAGE);
  });

  it('names the command and its arguments', () => {
    expect(() => childProcess.spawn('tar', ['-xf', 'a.tar'])).toThrow('child_process.spawn: tar -xf a.tar');
  });

  it('execa (spawn inside) fails', async () => {
    await expect(async () => execa('true')).rejects.toThrow(MESSAGE);
  });

  it('runLocal, which reports a start failure as exit 127, is caught all the same', async () => {
    const r = await runLocal(['true']);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(MESSAGE);
    expect(attempts()).toHaveLength(1); // the setup file's afterEach fails the test with it
  });
});
