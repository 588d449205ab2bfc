/** `kernelfile import --host H [--out DIR] [--adopt]`: a kernelfile for a host's running kernel. */
import { importHost } from '../../engine/import.js';
import { renderImport } from '../../render/import-text.js';
import { colored, plain } from '../../render/style.js';
import type { HostFlags } from '../host-options.js';
import { hostOptions } from '../host-settings.js';
import type { ExitCode, Io } from '../io.js';

export interface ImportFlags extends HostFlags {
  out?: string;
  force?: boolean;
  name?: string;
  source?: string;
  adopt?: boolean;
  sudo?: boolean;
}

export async function run(flags: ImportFlags, io: Io): Promise<ExitCode> {
  const r = await importHost({
    host: flags.host,
    hostOptions: hostOptions(flags, io),
    sudo: flags.sudo === true,
    cwd: io.cwd,
    force: flags.force === true,
    adopt: flags.adopt === true,
    ...(flags.out !== undefined ? { out: flags.out } : {}),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.source !== undefined ? { source: flags.source } : {}),
  });
  io.out(renderImport(r, io.cwd, io.color ? colored : plain));
  return 0;
}
