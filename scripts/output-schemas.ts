/**
 * The JSON Schemas of kernelfile's output documents (schemas/kernelfile-NAME.schema.json), generated
 * from their TypeScript types in src/render/json-documents.ts by ts-json-schema-generator (which
 * writes draft-07), then brought to JSON Schema 2020-12 (`$defs`, `prefixItems`) with an `$id`.
 * `npm run gen` writes them; test/unit/spec/output-schemas.test.ts fails when one is stale.
 */
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';
import type { OutputDocuments } from '../src/render/json-documents.js';

const ROOT = new URL('../', import.meta.url);

/** Each document: its schema file's name, the type it is generated from, its format version. */
export const OUTPUT_SCHEMAS: Record<keyof OutputDocuments, { type: string; version: number; title: string }> =
  {
    plan: { type: 'PlanJson', version: 1, title: 'kernelfile plan --json' },
    'fleet-plan': { type: 'FleetPlanJson', version: 1, title: 'kernelfile plan --inventory --json' },
    'saved-plan': { type: 'SavedPlanJson', version: 2, title: 'kernelfile plan --out (a saved plan)' },
    status: { type: 'StatusJson', version: 1, title: 'kernelfile status --json' },
    facts: { type: 'FactsJson', version: 1, title: 'kernelfile facts --json' },
    build: { type: 'BuildJson', version: 1, title: 'kernelfile build --json' },
    verify: { type: 'VerifyJson', version: 1, title: 'kernelfile verify --json' },
    validation: { type: 'ValidateJson', version: 1, title: 'kernelfile validate --json' },
    inventory: { type: 'InventoryJson', version: 1, title: 'kernelfile inventory --json' },
    error: { type: 'ErrorJson', version: 1, title: 'kernelfile error (any --json command that fails)' },
  };

export type OutputSchemaName = keyof OutputDocuments;

/**
 * A schema's `$id`: a URN, not a URL. Nothing is served at any address for these schemas (the
 * kernelfile schema's SchemaStore URL is for editors, and SchemaStore holds input formats): they
 * ship in the package (`schemas/`), and the URN names the document and its format version.
 */
export function outputSchemaId(name: OutputSchemaName): string {
  return `urn:kernelfile:schema:${name}:${OUTPUT_SCHEMAS[name].version}`;
}

export function outputSchemaFile(name: OutputSchemaName): string {
  return fileURLToPath(new URL(`schemas/kernelfile-${name}.schema.json`, ROOT));
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** draft-07 as the generator writes it → 2020-12: `definitions` → `$defs`, tuple `items` → `prefixItems`. */
function to202012(node: Json): Json {
  if (Array.isArray(node)) return node.map(to202012);
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace(/^#\/definitions\//, '#/$defs/');
    else if (k === 'definitions') out.$defs = to202012(v);
    else if (k === 'items' && Array.isArray(v)) out.prefixItems = to202012(v);
    else if (k === 'additionalItems') out.items = to202012(v);
    else out[k] = to202012(v);
  }
  return out;
}

let generator: ReturnType<typeof createGenerator> | undefined;

/** The schema of one document, as the file holds it (pretty-printed, with a final newline). */
export function outputSchemaJson(name: OutputSchemaName): string {
  generator ??= createGenerator({
    path: fileURLToPath(new URL('src/render/json-documents.ts', ROOT)),
    tsconfig: fileURLToPath(new URL('tsconfig.json', ROOT)),
    type: '*',
    expose: 'export',
    topRef: false,
    jsDoc: 'extended',
    // Every object is closed, so a field the code adds without its type fails the tests.
    additionalProperties: false,
    // tsc checks the types (npm run typecheck); the generator only reads them.
    skipTypeCheck: true,
  });
  const { type, title } = OUTPUT_SCHEMAS[name];
  const {
    $schema: _draft07,
    description,
    ...rest
  } = generator.createSchema(type) as {
    [k: string]: Json;
  };
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: outputSchemaId(name),
    title,
    ...(description !== undefined ? { description } : {}),
    ...(to202012(rest) as { [k: string]: Json }),
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export const OUTPUT_SCHEMA_NAMES = Object.keys(OUTPUT_SCHEMAS) as OutputSchemaName[];
