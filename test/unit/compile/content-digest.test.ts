import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentDigest, sha256Text } from '../../../src/compile/hash.js';

const root = mkdtempSync(join(tmpdir(), 'kf-digest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tree(name: string): string {
  const d = join(root, name);
  mkdirSync(join(d, 'src'), { recursive: true });
  writeFileSync(join(d, 'dkms.conf'), 'PACKAGE_NAME=hello\n');
  writeFileSync(join(d, 'src', 'hello world.c'), 'int x;\n');
  symlinkSync('src/hello world.c', join(d, 'link.c'));
  return d;
}

describe('the content digest of a module source (the lock file)', () => {
  it('is the same for the same content, whatever the times; a file is its sha256', async () => {
    const a = tree('a');
    const b = join(root, 'b');
    cpSync(a, b, { recursive: true, verbatimSymlinks: true });
    utimesSync(join(b, 'dkms.conf'), 1, 1);
    expect(await contentDigest(a)).toBe(await contentDigest(b));
    expect(await contentDigest(join(a, 'dkms.conf'))).toBe(sha256Text('PACKAGE_NAME=hello\n'));
  });

  it('changes with a byte, a name, or a link target', async () => {
    const base = await contentDigest(tree('c'));
    const byte = tree('d');
    writeFileSync(join(byte, 'src', 'hello world.c'), 'int y;\n');
    const name = tree('e');
    writeFileSync(join(name, 'extra'), '');
    const link = tree('f');
    rmSync(join(link, 'link.c'));
    symlinkSync('dkms.conf', join(link, 'link.c'));
    const digests = await Promise.all([byte, name, link].map(contentDigest));
    for (const d of digests) expect(d).not.toBe(base);
    expect(new Set(digests).size).toBe(3);
  });
});
