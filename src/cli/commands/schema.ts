/**
 * `kernelfile schema`: the JSON Schema for editors (the committed contract file), or the Markdown
 * reference; `--write FILE` puts the schema into a project, so the editor modeline of every
 * kernelfile can point at a file of the repository, whatever directory it is in.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { UserError } from '../../engine/errors.js';
import { renderReference } from '../../render/reference.js';
import type { ExitCode, Io } from '../io.js';
import { PACKAGE_ROOT } from '../package-root.js';

const SCHEMA_FILE = new URL('schemas/kernelfile.schema.json', PACKAGE_ROOT);

export interface SchemaFlags {
  format: 'json' | 'markdown';
  /** Write the JSON Schema to this file (created or replaced when it holds a kernelfile schema). */
  write?: string;
}

/** The `$id` of a JSON document, when it is a kernelfile schema (an earlier `--write`). */
function kernelfileSchemaId(text: string): string | null {
  try {
    const j = JSON.parse(text) as { $id?: unknown; title?: unknown };
    return j.title === 'kernelfile' && typeof j.$id === 'string' ? j.$id : null;
  } catch {
    return null;
  }
}

export async function run(opts: SchemaFlags, io: Io): Promise<ExitCode> {
  const text = readFileSync(SCHEMA_FILE, 'utf8');
  if (opts.write === undefined) {
    io.out(opts.format === 'markdown' ? renderReference(JSON.parse(text)) : text);
    return 0;
  }
  if (opts.format !== 'json')
    throw new UserError('--write writes the JSON Schema: leave out --format markdown');
  const file = resolve(opts.write);
  if (!existsSync(dirname(file)))
    throw new UserError(
      `--write ${opts.write}: the directory ${dirname(file)} does not exist`,
      'create it first',
    );
  if (existsSync(file)) {
    let old: string;
    try {
      old = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(`--write ${opts.write}: cannot read the existing file: ${(e as Error).message}`);
    }
    if (!kernelfileSchemaId(old))
      throw new UserError(
        `--write ${opts.write}: the file exists and is not a kernelfile schema; nothing was written`,
        'choose another path, or remove the file',
      );
  }
  writeFileSync(file, text);
  const rel = relative(process.cwd(), file) || file;
  const ref = rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`;
  io.err(
    [
      `wrote ${rel} (${kernelfileSchemaId(text)})`,
      'Point a kernelfile at it with a modeline, the path relative to that kernelfile:',
      `  # yaml-language-server: $schema=${ref}`,
      'or, for every kernelfile of a VS Code workspace, in .vscode/settings.json:',
      `  "yaml.schemas": { "${ref}": ["kernelfile.yaml", "**/kernelfiles/*.yaml"] }`,
      '',
    ].join('\n'),
  );
  return 0;
}
