/**
 * Values of INI inventory variables, read as Ansible's INI plugin reads them (Python's
 * ast.literal_eval). test/fixtures/inventory/python-literals.json holds what ansible-core's own
 * `_parse_value` made of each text (scripts/record-ansible.ts);
 * test/integration/fleet-inventory-ansible.test.ts checks that recording and thousands of generated
 * texts against the live Python.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { literalEval, pyFloatRepr } from '../../../src/fleet/python-literal.js';

interface Recorded {
  text: string;
  kind: 'text' | 'value' | 'unsupported' | 'error';
  value?: unknown;
}

const RECORDED = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../fixtures/inventory/python-literals.json', import.meta.url)),
    'utf8',
  ),
) as Recorded[];

/** literalEval's answer in the recording's terms. */
function asRecorded(text: string): Recorded {
  const r = literalEval(text);
  if (r.kind === 'value') return { text, kind: 'value', value: JSON.parse(JSON.stringify(r.value)) };
  return { text, kind: r.kind };
}

describe('the recorded values of ansible-core', () => {
  it('covers every kind of answer', () => {
    expect(RECORDED.length).toBeGreaterThanOrEqual(200);
    for (const kind of ['text', 'value', 'unsupported', 'error'])
      expect(RECORDED.some((r) => r.kind === kind)).toBe(true);
  });

  it.each(RECORDED.map((r) => [JSON.stringify(r.text).slice(0, 60), r] as const))('%s', (_, r) => {
    expect(asRecorded(r.text)).toEqual(r);
  });
});

describe('what each literal becomes', () => {
  it.each([
    ['22', 22],
    ['-3', -3],
    ['0x10', 16],
    ['1_000', 1000],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['True', true],
    ['False', false],
    ['None', null],
    ["'a b'", 'a b'],
    ['"x"', 'x'],
    ["'a' 'b'", 'ab'],
    ["u'x'", 'x'],
    ["b'x'", 'x'],
    ["r'\\d'", '\\d'],
    ["'\\x41\\n'", 'A\n'],
    ['[1, 2]', [1, 2]],
    ['(1, 2)', [1, 2]],
    ['1, 2', [1, 2]],
    ['()', []],
    ["{'a': 1, 'b': [None]}", { a: 1, b: [null] }],
    ["{1: 'x', True: 'y'}", { 1: 'y' }],
    ['{1.5: 1, 1e20: 2, None: 3}', { '1.5': 1, '1e+20': 2, null: 3 }],
    ['1 # a comment', 1],
    ['  7', 7],
  ])('%s is %j', (text, value) => {
    expect(literalEval(text)).toEqual({ kind: 'value', value });
  });

  it.each([
    'ops',
    '07',
    'true',
    'yes',
    '~/.ssh/id_ed25519',
    '10.0.0.1',
    '1+2',
    "f'{x}'",
    'x.y',
    '[1 2]',
    "'open",
    '{{ inventory_hostname }}',
    'a # not a comment here',
  ])('%s stays the text', (text) => {
    expect(literalEval(text)).toEqual({ kind: 'text', value: text });
  });

  it.each([
    ['{1, 2}', 'a set'],
    ['set()', 'a set'],
    ['1+2j', 'a complex number'],
    ['...', 'Ellipsis (`...`)'],
    ["[b'x']", 'bytes'],
    ["b'\\xff'", 'bytes that are not UTF-8'],
    ['{(1, 2): 3}', 'a dict with a tuple as a key'],
    ['1e400', 'a float too large for JSON (inf)'],
    ["'\\N{EN DASH}'", 'a string with a `\\N{…}` escape (kernelfile does not carry Unicode character names)'],
  ])('%s has no JSON form (%s): kept as the text', (text, what) => {
    expect(literalEval(text)).toEqual({ kind: 'unsupported', value: text, what });
  });

  it('an unhashable key is an error, as in Ansible; a name before it is not', () => {
    expect(literalEval('{[1]: 2}')).toEqual({ kind: 'error', message: "unhashable type: 'list'" });
    expect(literalEval('{{1}}')).toEqual({ kind: 'error', message: "unhashable type: 'set'" });
    expect(literalEval('{x: 1, [1]: 2}')).toEqual({ kind: 'text', value: '{x: 1, [1]: 2}' });
  });

  it('the tokenizer limits: 200 nested brackets, 4300 digits', () => {
    expect(literalEval(`${'['.repeat(200)}${']'.repeat(200)}`).kind).toBe('value');
    expect(literalEval(`${'['.repeat(201)}${']'.repeat(201)}`).kind).toBe('text');
    // 4300 digits is an integer to Python, too large for a double here; 4301 a syntax error.
    expect(literalEval('1'.repeat(4300)).kind).toBe('unsupported');
    expect(literalEval('1'.repeat(4301)).kind).toBe('text');
    expect(literalEval(`0${'0'.repeat(4400)}`)).toEqual({ kind: 'value', value: 0 });
  });

  it.each([
    [1.5, '1.5'],
    [100, '100.0'],
    [1e16, '1e+16'],
    [1234567890123456, '1234567890123456.0'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [-0, '-0.0'],
    [-2.5e-7, '-2.5e-07'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('repr(%s) is %s', (n, text) => {
    expect(pyFloatRepr(n)).toBe(text);
  });
});
