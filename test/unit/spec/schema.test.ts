/** The schema is the contract: generated files are current, and every property is documented. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  REFERENCE_FILE,
  SCHEMA_FILE,
  schemaJson,
  VALIDATOR_FILE,
  validatorSource,
  withReference,
} from '../../../scripts/gen.js';

interface Node {
  properties?: Record<string, Node>;
  patternProperties?: Record<string, Node>;
  items?: Node;
  anyOf?: Node[];
  description?: string;
  examples?: unknown[];
}

function properties(n: Node, path: string, out: [string, Node][]): void {
  for (const [k, p] of Object.entries(n.properties ?? {})) {
    out.push([`${path}.${k}`, p]);
    properties(p, `${path}.${k}`, out);
  }
  for (const [k, p] of Object.entries(n.patternProperties ?? {})) {
    out.push([`${path}[${k}]`, p]);
    properties(p, `${path}[${k}]`, out);
  }
  if (n.items) properties(n.items, `${path}[]`, out);
  for (const b of n.anyOf ?? []) properties(b, path, out);
}

describe('schemas/kernelfile.schema.json', () => {
  const committed = readFileSync(SCHEMA_FILE, 'utf8');

  it('is what src/spec/schema.ts generates (run `npm run gen` after changing the format)', () => {
    expect(committed).toBe(schemaJson());
  });

  it('is what the precompiled validator was generated from (run `npm run gen`)', () => {
    expect(readFileSync(VALIDATOR_FILE, 'utf8')).toBe(validatorSource());
  });

  it('is JSON Schema 2020-12', () => {
    expect(JSON.parse(committed).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('documents every property with a description and an example', () => {
    const all: [string, Node][] = [];
    properties(JSON.parse(committed), '$', all);
    expect(all.length).toBeGreaterThan(40);
    const undocumented = all.filter(([, p]) => !p.description || !p.examples?.length).map(([k]) => k);
    expect(undocumented).toEqual([]);
  });
});

describe('docs/kernelfile.md', () => {
  it('holds the reference generated from the schema (run `npm run gen`)', () => {
    const doc = readFileSync(REFERENCE_FILE, 'utf8');
    expect(doc).toBe(withReference(doc));
  });
});
