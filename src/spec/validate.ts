/**
 * Kernelfile bytes → a validated Spec, or every problem found, each at file:line:column.
 * Layers: YAML (load.ts), JSON Schema (ajv, the generated schema), semantic checks (semantic.ts).
 */
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type Diagnostic, isError, type Result, sortDiagnostics } from './diagnostic.js';
import { load } from './load.js';
import { KernelfileSchema, type Spec } from './schema.js';
import { translate } from './schema-errors.js';
import { type SemanticEnv, semanticChecks } from './semantic.js';
import type { SourceDoc } from './source.js';

export interface Validated {
  /** The kernelfile with the schema's defaults filled in. */
  spec: Spec;
  source: SourceDoc;
}

let compiled: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  compiled ??= new Ajv2020({
    allErrors: true,
    verbose: true,
    useDefaults: true,
    strict: true,
    // Defaults inside anyOf branches (e.g. a patch's `strip`) document the format for editors and
    // the reference, but ajv cannot apply them; resolve.ts does, from the same constants.
    strictSchema: 'log',
    logger: {
      log: () => {},
      warn: (msg: unknown) => {
        if (!/default is ignored/.test(String(msg))) throw new Error(`kernelfile schema: ${String(msg)}`);
      },
      error: (msg: unknown) => {
        throw new Error(`kernelfile schema: ${String(msg)}`);
      },
    },
  }).compile(KernelfileSchema);
  return compiled;
}

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

  const check = schemaValidator();
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

export type { Diagnostic };
