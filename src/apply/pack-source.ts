/**
 * A DKMS module's source, packed on the controller as a tarball whose top level holds dkms.conf.
 * A tarball is unpacked without its owners, setuid bits or loose modes; device nodes, FIFOs and
 * sockets are refused (compile/extract.ts).
 */
import { mkdtempSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BuildError } from '../compile/errors.js';
import { extractTar, refuseSpecialFiles } from '../compile/extract.js';
import { runLocal } from '../host/local.js';
import { packDir } from './ship.js';

export async function packSource(from: string, scratch: string): Promise<string> {
  const out = join(scratch, `src-${Math.random().toString(36).slice(2)}.tar`);
  if (statSync(from).isDirectory()) {
    await refuseSpecialFiles(from, `the module source ${from}`);
    await packDir(from, out);
    return out;
  }
  const dir = mkdtempSync(join(scratch, 'src-'));
  await extractTar(from, dir, { label: `the module source ${from}` });
  const found = await runLocal(['find', dir, '-maxdepth', '3', '-name', 'dkms.conf', '-type', 'f']);
  const conf = found.stdout
    .split('\n')
    .filter(Boolean)
    .sort((a, b) => a.length - b.length)[0];
  if (!conf) throw new BuildError(`${from} holds no dkms.conf`);
  await packDir(conf.slice(0, -'/dkms.conf'.length), out);
  return out;
}
