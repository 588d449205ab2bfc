/** The section protocol's pure parts (test/integration/facts-protocol.test.ts runs the prelude under sh). */
import { describe, expect, it } from 'vitest';
import { isComplete, prelude, splitSections } from '../../../src/facts/protocol.js';

const NONCE = 'kfTEST0123456789';

describe('splitSections', () => {
  it('ignores what comes before the first header (a login banner, a chatty .bashrc)', () => {
    const out = `Welcome to web-1\n${NONCE} system arch\nx86_64\n${NONCE} - end\nok\n`;
    expect(splitSections(out, NONCE)).toEqual({ system: { arch: 'x86_64' }, '-': { end: 'ok' } });
  });

  it('keeps keys with spaces and slashes whole', () => {
    const out = `${NONCE} boot entry:/boot/loader/entries/a b.conf\ntitle A\n\n`;
    expect(splitSections(out, NONCE).boot?.['entry:/boot/loader/entries/a b.conf']).toBe('title A\n');
  });

  it('is incomplete without the trailer', () => {
    expect(isComplete(splitSections(`${NONCE} system arch\nx86_64\n`, NONCE))).toBe(false);
  });
});

describe('the nonce', () => {
  it('rejects a nonce that could break the script', () => {
    expect(() => prelude("x'; rm -rf /; '")).toThrow(/bad nonce/);
    expect(() => prelude('short')).toThrow(/bad nonce/);
  });
});
