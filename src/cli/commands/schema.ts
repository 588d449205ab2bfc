/** `kernelfile schema`: the JSON Schema for editors (the committed contract file), or the Markdown reference. */
import { readFileSync } from 'node:fs';
import { renderReference } from '../../render/reference.js';
import type { ExitCode, Io } from '../io.js';

const SCHEMA_FILE = new URL('../../../schemas/kernelfile.schema.json', import.meta.url);

export async function run(opts: { format: 'json' | 'markdown' }, io: Io): Promise<ExitCode> {
  const text = readFileSync(SCHEMA_FILE, 'utf8');
  io.out(opts.format === 'markdown' ? renderReference(JSON.parse(text)) : text);
  return 0;
}
