/**
 * The reproduction (issue 12, defect 2): `kernel.source.git: "--upload-pack=…"` passed
 * validate and `build --config-only` ran the command as root. Now both refuse it at its line
 * and nothing runs.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/io.js';

let dir: string;
let markers: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-hostile-git-'));
  markers = join(dir, 'markers');
  mkdirSync(markers);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const io = fakeIo(dir, { env: { HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') } });
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe.each([`--upload-pack=x@y:;touch ${'MARKERS'}/upload-pack;`, `ext::sh -c touch% ${'MARKERS'}/ext`])(
  'kernel.source.git: %s',
  (hostile) => {
    beforeAll(() => {
      const git = hostile.replace('MARKERS', markers);
      writeFileSync(
        join(dir, 'kernelfile.yaml'),
        `apiVersion: kernelfile/v1\nname: hostile\nkernel:\n  version: "6.1.0"\n  source:\n    git: ${JSON.stringify(git)}\n    ref: ${'c'.repeat(40)}\n`,
      );
    });

    it('validate refuses it at its line', async () => {
      const r = await cli('validate', join(dir, 'kernelfile.yaml'));
      expect(r.code).not.toBe(0);
      expect(r.out + r.err).toMatch(/kernelfile\.yaml:6:\d+: .*(starts with `-`|`ext::` asks git)/);
      expect(readdirSync(markers)).toEqual([]);
    });

    it('build --config-only refuses it and runs nothing', async () => {
      const r = await cli('build', '--config-only', join(dir, 'kernelfile.yaml'));
      expect(r.code).not.toBe(0);
      expect(r.out + r.err).toMatch(/kernelfile\.yaml/);
      expect(readdirSync(markers)).toEqual([]);
    });
  },
);
