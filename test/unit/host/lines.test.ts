/** LineCollector: what a command printed, whole, however the stream cut it into chunks. */
import { describe, expect, it } from 'vitest';
import { LineCollector } from '../../../src/host/lines.js';

describe('LineCollector', () => {
  const text = 'ünïcödé line 1\r\n→ second ✓\nlast without newline €';
  const bytes = Buffer.from(text, 'utf8');

  it('keeps a character that two chunks split, in the text and in the lines', () => {
    for (let cut = 1; cut < bytes.length; cut++) {
      const lines: string[] = [];
      const c = new LineCollector((l) => lines.push(l));
      c.push(bytes.subarray(0, cut));
      c.push(bytes.subarray(cut));
      expect(c.end()).toBe(text);
      expect(lines).toEqual(['ünïcödé line 1', '→ second ✓', 'last without newline €']);
    }
  });

  it('collects byte by byte, and strings, the same', () => {
    const c = new LineCollector();
    for (const b of bytes) c.push(Buffer.from([b]));
    c.push(' and a string');
    expect(c.end()).toBe(`${text} and a string`);
  });
});
