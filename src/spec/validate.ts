/**
 * Kernelfile bytes → a validated Spec, or every problem found, each at file:line:column.
 * Layers: YAML (load.ts), JSON Schema (ajv, the generated schema), semantic checks (semantic.ts).
 */
import type { ValidateFunction } from 'ajv';
import { isError, type Result, sortDiagnostics } from './diagnostic.js';
import schemaValidator from './generated/kernelfile.validator.js';
import { load } from './load.js';
import type { Spec } from './schema.js';
import { translate } from './schema-errors.js';
import { type SemanticEnv, semanticChecks } from './semantic.js';
import type { SourceDoc } from './source.js';

export interface Validated {
  /** The kernelfile with the schema's defaults filled in. */
  spec: Spec;
  source: SourceDoc;
}

/** The schema, precompiled by `npm run gen` (ajv standalone): no compile at start-up. */
const check = schemaValidator as unknown as ValidateFunction;

export function validate(
  bytes: Uint8Array,
  file: string,
  env: SemanticEnv,
  totalSize = bytes.length,
): Result<Validated> {
  const loaded = load(bytes, file, totalSize);
  if (!loaded.ok) return loaded;
  const { source, data } = loaded.value;
  const asWritten = structuredClone(data);

  const schemaOk = check(data) as boolean;
  const schemaDiags = schemaOk ? [] : translate(check.errors ?? [], data, source);
  const semantic = semanticChecks(asWritten, source, env);

  // A semantic check that explains a value better replaces the schema's words for it.
  const explained = new Set(semantic.filter(isError).map((d) => d.path));
  const all = [...schemaDiags.filter((d) => !explained.has(d.path)), ...semantic, ...loaded.warnings];
  const errors = sortDiagnostics(all.filter(isError));
  const warnings = sortDiagnostics(all.filter((d) => !isError(d)));
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, value: { spec: data as Spec, source }, warnings };
}
