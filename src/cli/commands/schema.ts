/** `kernelfile schema`: the JSON Schema for editors, or the Markdown reference. */
import { renderReference } from '../../render/reference.js';
import { KernelfileSchema } from '../../spec/schema.js';
import type { ExitCode, Io } from '../io.js';

export async function run(opts: { format: 'json' | 'markdown' }, io: Io): Promise<ExitCode> {
  io.out(
    opts.format === 'markdown'
      ? renderReference(KernelfileSchema)
      : `${JSON.stringify(KernelfileSchema, null, 2)}\n`,
  );
  return 0;
}
