/** `--debug`: an error's stack trace after its message; without it, the message and hint alone. */
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { fakeIo } from '../../helpers/io.js';

async function cli(...args: string[]) {
  const io = fakeIo('/nonexistent-dir');
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, err: io.stderr };
}

describe('--debug', () => {
  const message = 'kernelfile: --limit selects or batches hosts of an inventory: give --inventory FILE too\n';

  it('without it: the one line, no stack', async () => {
    const r = await cli('apply', '--limit', 'web');
    expect(r.code).toBe(1);
    expect(r.err).toBe(message);
  });

  it.each([
    ['--debug', 'apply'],
    ['apply', '--debug'],
  ])('%s %s: the same line, then where it was raised', async (a, b) => {
    const r = await cli(a, b, '--limit', 'web');
    expect(r.code).toBe(1);
    expect(r.err.startsWith(message)).toBe(true);
    const stack = r.err.slice(message.length);
    expect(stack).toMatch(/^UserError: --limit selects or batches hosts/);
    expect(stack).toMatch(/\n {4}at requireInventory \(.*src\/cli\/host-options\.ts:\d+:\d+\)/);
  });
});
