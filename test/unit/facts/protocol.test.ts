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

  it('cuts what a line-by-line reading cuts, on any mix of headers, near-headers and content', () => {
    // The reference: every line read in turn, a header line starts a section, the rest is content.
    const byLines = (output: string) => {
      const out: Record<string, Record<string, string>> = {};
      let cur: { family: string; key: string; lines: string[] } | null = null;
      const flush = () => {
        if (cur) out[cur.family] = { ...(out[cur.family] ?? {}), [cur.key]: cur.lines.join('\n') };
      };
      for (const line of (output.endsWith('\n') ? output.slice(0, -1) : output).split('\n')) {
        const rest = line.startsWith(`${NONCE} `) ? line.slice(NONCE.length + 1) : null;
        const sp = rest?.indexOf(' ') ?? -1;
        if (rest !== null && sp > 0) {
          flush();
          cur = { family: rest.slice(0, sp), key: rest.slice(sp + 1), lines: [] };
        } else cur?.lines.push(line);
      }
      flush();
      return out;
    };
    const pieces = [
      `${NONCE} f k`,
      `${NONCE} g a b`,
      `${NONCE} f k2`,
      `${NONCE} nospace`,
      `${NONCE}  lead`,
      `x${NONCE} f z`,
      '',
      'text',
      'two words',
    ];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const lines = Array.from({ length: rand(9) }, () => pieces[rand(pieces.length)] as string);
      const output = lines.join('\n') + (rand(2) ? '\n' : '');
      expect(splitSections(output, NONCE), JSON.stringify(output)).toEqual(byLines(output));
    }
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
