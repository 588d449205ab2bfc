/**
 * Every JSON document kernelfile prints is checked against its published schema
 * (schemas/kernelfile-NAME.schema.json) by the tests that read it: `validDocument(name, doc)`, or
 * `jsonOutput(stdout)`, which parses what a command printed and picks the schema by the document's
 * `kind` (and `formatVersion`: a saved plan is `kernelfile-plan` of format 2). ajv, JSON Schema
 * 2020-12, strict: a field the code writes and the schema does not know fails the test.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { OutputDocuments } from '../../src/render/json-documents.js';

export type SchemaName = keyof OutputDocuments;

export const SCHEMA_NAMES: readonly SchemaName[] = [
  'plan',
  'fleet-plan',
  'saved-plan',
  'status',
  'facts',
  'build',
  'verify',
  'validation',
  'inventory',
  'error',
];

/** The stamp of documents made in tests whose output is compared with a golden file. */
export const TEST_STAMP = { kernelfileVersion: '0.0.0-test', generatedAt: '2000-01-01T00:00:00.000Z' };

export function schemaPath(name: SchemaName): string {
  return fileURLToPath(new URL(`../../schemas/kernelfile-${name}.schema.json`, import.meta.url));
}

let ajv: Ajv2020 | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

export function validatorOf(name: SchemaName): ValidateFunction {
  ajv ??= new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(schemaPath(name), 'utf8')));
    compiled.set(name, v);
  }
  return v;
}

/** Throws, listing every way `doc` differs from the schema (at most 20), unless it is valid. */
export function validDocument<N extends SchemaName>(name: N, doc: unknown): OutputDocuments[N] {
  const v = validatorOf(name);
  if (!v(doc)) {
    const errors = (v.errors ?? [])
      .slice(0, 20)
      .map((e) => `  ${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
    throw new Error(
      `not a valid ${name} document (schemas/kernelfile-${name}.schema.json):\n${errors.join('\n')}`,
    );
  }
  return doc as OutputDocuments[N];
}

/** The schema a document names by its `kind` (and `formatVersion`). */
export function schemaOf(doc: unknown): SchemaName {
  const d = (doc ?? {}) as { kind?: unknown; formatVersion?: unknown };
  switch (d.kind) {
    case 'kernelfile-plan':
      return d.formatVersion === 2 ? 'saved-plan' : 'plan';
    case 'kernelfile-fleet-plan':
      return 'fleet-plan';
    case 'kernelfile-status':
      return 'status';
    case 'kernelfile-facts':
      return 'facts';
    case 'kernelfile-build':
      return 'build';
    case 'kernelfile-verify':
      return 'verify';
    case 'kernelfile-validation':
      return 'validation';
    case 'kernelfile-inventory':
      return 'inventory';
    case 'kernelfile-error':
      return 'error';
    default:
      throw new Error(`not a kernelfile document: kind ${JSON.stringify(d.kind)}`);
  }
}

/**
 * What a command printed on standard output: parsed, of the kind expected (when given), and valid
 * against that kind's schema.
 */
export function jsonOutput<N extends SchemaName>(stdout: string, expected?: N): OutputDocuments[N] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (e) {
    throw new Error(`the command printed no JSON (${(e as Error).message}):\n${stdout.slice(0, 2000)}`);
  }
  const name = schemaOf(doc);
  if (expected !== undefined && name !== expected) {
    const error = name === 'error' ? `: ${JSON.stringify((doc as { error?: unknown }).error)}` : '';
    throw new Error(`expected a ${expected} document, the command printed a ${name} document${error}`);
  }
  return validDocument(name, doc) as OutputDocuments[N];
}
