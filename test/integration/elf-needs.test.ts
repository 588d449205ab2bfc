/** elfNeeds against binutils' readelf on this machine's own executables (never run them). */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { elfNeeds } from '../../src/compile/elf-needs.js';
import { requireCommands } from '../helpers/proc.js';

const FILES = ['/bin/sh', '/usr/bin/tar', '/usr/bin/ssh-keygen', '/usr/bin/make', '/usr/bin/xz'].filter((f) =>
  existsSync(f),
);

const readelf = (args: string[]) => {
  const r = spawnSync('readelf', ['-W', ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
};

describe('elfNeeds reads what readelf reads', () => {
  it.each(FILES)('%s', (file) => {
    requireCommands('elf-needs.test.ts', [['readelf', 'binutils']]);
    const got = elfNeeds(readFileSync(file));
    const needed = [...readelf(['-d', file]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
      (m) => m[1],
    );
    const interp = /Requesting program interpreter: ([^\]]+)\]/.exec(readelf(['-l', file]))?.[1] ?? null;
    const glibc = [...readelf(['-V', file]).matchAll(/Name: GLIBC_(\d+(?:\.\d+)+)/g)]
      .map((m) => m[1] as string)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .pop();
    expect(got).toEqual({ interp, needed, glibc: glibc ?? null });
  });
});
