/**
 * Validation never throws and always says where: every value of a real kernelfile is replaced, in
 * turn, by every YAML type, and each result must be diagnostics with positions (or a valid file).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';

const example = readFileSync(new URL('../../../kernelfile.example.yaml', import.meta.url), 'utf8');
const env = { fs: memfs({}), kernelfile: '/proj/kernelfile.yaml', home: '/root' };
const REPLACEMENTS: unknown[] = [null, 0, -1, 1.5, '', 'x', true, [], [1], {}, { a: 1 }];

function allPaths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => [[...prefix, i], ...allPaths(x, [...prefix, i])]);
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => [[...prefix, k], ...allPaths(x, [...prefix, k])]);
  return [];
}

describe('validation is total', () => {
  const paths = allPaths(parseDocument(example).toJS());

  it('visits every value of the example', () => {
    expect(paths.length).toBeGreaterThan(40);
  });

  it('returns positioned diagnostics for every type at every path', () => {
    let mutants = 0;
    for (const path of paths) {
      for (const replacement of REPLACEMENTS) {
        const doc = parseDocument(example);
        doc.setIn(path, doc.createNode(replacement));
        const r = validate(new TextEncoder().encode(doc.toString()), 'k.yaml', env);
        const all = r.ok ? r.warnings : [...r.errors, ...r.warnings];
        for (const d of all) {
          expect(d.message.length, JSON.stringify(d)).toBeGreaterThan(0);
          expect(d.line, JSON.stringify(d)).toBeGreaterThanOrEqual(1);
          expect(d.column, JSON.stringify(d)).toBeGreaterThanOrEqual(1);
        }
        mutants++;
      }
    }
    expect(mutants).toBe(paths.length * REPLACEMENTS.length);
  });
});

describe('YAML resource limits', () => {
  it('refuses a billion-laughs alias bomb without expanding it', { timeout: 5000 }, () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const r = validate(new TextEncoder().encode(`${levels.join('\n')}\n`), 'bomb.yaml', env);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ code: 'alias-bomb', file: 'bomb.yaml', line: 2 });
  });

  it('allows a few aliases (anchors are ordinary YAML)', () => {
    const text = `apiVersion: kernelfile/v1
name: anchors
kernel:
  version: "6.1.192"
  source: {path: /src/linux-6.1.192.tar.xz}
boot:
  entries:
    - {cmdline: &cmd "ro quiet", default: true}
    - {title: rescue, cmdline: *cmd}
`;
    const r = validate(new TextEncoder().encode(text), 'k.yaml', {
      ...env,
      fs: memfs({ '/src/linux-6.1.192.tar.xz': '' }),
    });
    expect(r.ok ? r.value.spec.boot?.entries?.[1]?.cmdline : r.errors).toBe('ro quiet');
  });
});
