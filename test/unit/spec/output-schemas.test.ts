/**
 * The output schemas (schemas/kernelfile-NAME.schema.json) are generated from the document types
 * (src/render/json-documents.ts): each committed file is what `npm run gen` writes now, is JSON
 * Schema 2020-12 with its `$id`, compiles in ajv's strict mode, and is closed (no object without
 * `additionalProperties`, so a field the code adds without its type is caught by the tests that
 * validate the CLI's output against it).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  OUTPUT_SCHEMA_NAMES,
  outputSchemaFile,
  outputSchemaId,
  outputSchemaJson,
} from '../../../scripts/output-schemas.js';
import { SCHEMA_NAMES, validatorOf } from '../../helpers/json-schemas.js';

interface Node {
  type?: string | string[];
  properties?: Record<string, Node>;
  additionalProperties?: boolean | Node;
  [k: string]: unknown;
}

/** Every object schema (with properties) that is not closed, by its path in the schema. */
function open(n: unknown, path: string, out: string[]): void {
  if (Array.isArray(n)) {
    for (const [i, x] of n.entries()) open(x, `${path}[${i}]`, out);
  } else if (n !== null && typeof n === 'object') {
    const o = n as Node;
    if (o.properties && o.additionalProperties !== false) out.push(path);
    for (const [k, v] of Object.entries(o)) open(v, `${path}/${k}`, out);
  }
}

describe('the output schemas', () => {
  it('the tests know every schema', () => {
    expect([...SCHEMA_NAMES].sort()).toEqual([...OUTPUT_SCHEMA_NAMES].sort());
  });

  describe.each(OUTPUT_SCHEMA_NAMES)('schemas/kernelfile-%s.schema.json', (name) => {
    const committed = readFileSync(outputSchemaFile(name), 'utf8');
    const schema = JSON.parse(committed);

    it('is what src/render/json-documents.ts generates (run `npm run gen` after changing a document)', () => {
      expect(committed).toBe(outputSchemaJson(name));
    });

    it('is JSON Schema 2020-12 with its $id and a title', () => {
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toBe(outputSchemaId(name));
      expect(schema.$id).toMatch(/^urn:kernelfile:schema:[a-z-]+:\d+$/);
      expect(schema.title).toMatch(/^kernelfile /);
      expect(JSON.stringify(schema)).not.toContain('#/definitions/');
    });

    it('compiles in strict mode, and every object is closed', () => {
      expect(() => validatorOf(name)).not.toThrow();
      const notClosed: string[] = [];
      open(schema, '#', notClosed);
      expect(notClosed).toEqual([]);
    });

    it('requires the stamp: the version of kernelfile and when the document was made', () => {
      expect(schema.required).toEqual(expect.arrayContaining(['kernelfileVersion', 'generatedAt', 'kind']));
      const v = validatorOf(name);
      expect(v({})).toBe(false);
    });
  });
});
