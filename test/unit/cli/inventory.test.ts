/**
 * `kernelfile inventory FILE [--limit P] [--json]` in process: the text view and the JSON document
 * of the fixtures (goldens in test/fixtures/inventory/cli/; `UPDATE_GOLDEN=1 npx vitest run
 * test/unit/cli/inventory.test.ts` rewrites them), each document valid against its schema, the exit
 * code, warnings on stderr.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { golden as goldenFile } from '../../helpers/golden.js';
import { fakeIo } from '../../helpers/io.js';
import { jsonOutput, TEST_STAMP } from '../../helpers/json-schemas.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const GOLDEN = join(FIXTURES, 'inventory', 'cli');
const golden = (file: string, actual: string) =>
  goldenFile(join(GOLDEN, file), actual, {
    updateVar: 'UPDATE_GOLDEN',
    command: 'npx vitest run test/unit/cli/inventory.test.ts',
  });

const tmp = mkdtempSync(join(tmpdir(), 'kf-cli-inventory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(cwd: string, ...args: string[]) {
  const io = fakeIo(cwd, { env: { HOME: '/home/kf' }, now: new Date(TEST_STAMP.generatedAt) });
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('kernelfile inventory', () => {
  it.each([
    ['ini-connection', ['inventory/ini-connection.ini']],
    ['ini-vars', ['inventory-dirs/ini-vars/hosts.ini']],
    ['yaml-vars-limit', ['inventory-dirs/yaml-vars/inventory.yml', '--limit', 'web:!web-2*']],
  ])('%s: text and JSON', async (name, args) => {
    const text = await cli(FIXTURES, 'inventory', ...args);
    expect(text.code, text.err).toBe(0);
    expect(text.err).toBe('');
    expect(text.out).toBe(golden(`${name}.txt`, text.out));
    const json = await cli(FIXTURES, 'inventory', ...args, '--json');
    expect(json.code, json.err).toBe(0);
    const doc = jsonOutput(json.out, 'inventory');
    const stable = `${JSON.stringify({ ...doc, kernelfileVersion: TEST_STAMP.kernelfileVersion }, null, 2)}\n`;
    expect(stable).toBe(golden(`${name}.json`, stable));
  });

  it('a host kernelfile cannot reach: its row, the error and hint, exit 1', async () => {
    writeFileSync(join(tmp, 'winrm.ini'), '[w]\nwin1 ansible_connection=winrm\nlinux1\n');
    const r = await cli(tmp, 'inventory', 'winrm.ini');
    expect(r.code).toBe(1);
    expect(r.out).toContain('error: host `win1`: kernelfile cannot connect with `ansible_connection: winrm`');
    expect(r.out).toMatch(/^linux1\s+ssh:\/\/linux1\s/m);
    const j = jsonOutput((await cli(tmp, 'inventory', 'winrm.ini', '--json')).out, 'inventory');
    expect(j.hosts[0]?.address).toBeNull();
    expect(j.hosts[0]?.error?.hint).toMatch(/kernelfile connects with/);
  });

  it('warnings go to stderr', async () => {
    writeFileSync(join(tmp, 'warn.ini'), '[w]\nh1 s="{1, 2}"\n');
    const r = await cli(tmp, 'inventory', 'warn.ini');
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      'warn.ini:2:4: warning: `s` of host `h1`: Python reads `{1, 2}` as a set, which kernelfile keeps as the text written\n',
    );
  });

  it('an inventory that does not parse, a pattern that matches nothing: the error, exit 1', async () => {
    writeFileSync(join(tmp, 'bad.ini'), '[w]\nh1\n[w:kids]\n');
    const bad = await cli(tmp, 'inventory', 'bad.ini');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('bad.ini:3:1: section [w:kids] has an unknown type `kids`');
    writeFileSync(join(tmp, 'good.ini'), '[w]\nh1\n');
    const none = await cli(tmp, 'inventory', 'good.ini', '--limit', 'nope');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/`nope` matches no host or group/);
  });

  it('a key file: ~ is the home directory, a relative path is relative to the working directory', async () => {
    writeFileSync(
      join(tmp, 'keys.ini'),
      '[w]\nh1 ansible_ssh_private_key_file=~/.ssh/id_a\nh2 ansible_private_key_file=keys/id_b\n',
    );
    const j = jsonOutput((await cli(tmp, 'inventory', 'keys.ini', '--json')).out, 'inventory');
    expect(j.hosts.map((h) => h.identity)).toEqual(['/home/kf/.ssh/id_a', join(tmp, 'keys/id_b')]);
  });
});
