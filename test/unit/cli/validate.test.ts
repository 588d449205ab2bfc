import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { KERNELFILE_VERSION } from '../../../src/engine/version.js';
import { fakeIo } from '../../helpers/io.js';
import { jsonOutput } from '../../helpers/json-schemas.js';

let dir: string;
const GOOD = `apiVersion: kernelfile/v1
name: cli-test
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
config:
  fragments: [extra.config]
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-'));
  writeFileSync(join(dir, 'linux-6.1.192.tar.xz'), '');
  writeFileSync(join(dir, 'extra.config'), 'CONFIG_A=y\n');
  writeFileSync(join(dir, 'kernelfile.yaml'), GOOD);
  writeFileSync(join(dir, 'bad.yaml'), GOOD.replace('fragments:', 'fragmnets:'));
  writeFileSync(join(dir, 'warn.yaml'), `${GOOD}  set: {CONFIG_A: n}\n`);
  writeFileSync(join(dir, 'frag-bad.yaml'), GOOD.replace('extra.config', 'broken.config'));
  writeFileSync(join(dir, 'broken.config'), 'CONFIG_A=y\nconfig_b=y\n');
  writeFileSync(
    join(dir, 'latin1.yaml'),
    Buffer.concat([Buffer.from('apiVersion: kernelfile/v1\n# caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
  );
  writeFileSync(join(dir, 'huge.yaml'), Buffer.alloc(10 * 1024 * 1024, 0x20));
  mkdirSync(join(dir, 'sub'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = async (args: string[], opts: Parameters<typeof fakeIo>[1] = {}) => {
  const io = fakeIo(dir, opts);
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
};

describe('kernelfile validate', () => {
  it('reads ./kernelfile.yaml by default and exits 0 when it is valid', async () => {
    const r = await cli(['validate']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe('kernelfile.yaml is valid.\n');
  });

  it('prints file:line:column: error: message, the source line, the JSON path and a hint; exit 1', async () => {
    const r = await cli(['validate', 'bad.yaml']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('bad.yaml:7:3: error: unknown key `fragmnets` in `config`\n');
    expect(r.out).toContain(' 7 |   fragmnets: [extra.config]\n   |   ^^^^^^^^^\n');
    expect(r.out).toContain('  at $.config.fragmnets\n');
    expect(r.out).toContain('  hint: did you mean `fragments`?\n');
    expect(r.out).toMatch(/bad\.yaml is not valid: 1 error\.\n$/);
  });

  it('reports problems inside fragment files at their own file:line:column', async () => {
    const r = await cli(['validate', 'frag-bad.yaml']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('broken.config:2:1: error: `config_b` is not a Kconfig symbol');
    expect(r.out).toContain(' 2 | config_b=y\n');
  });

  it('exits 0 with warnings, and 1 with --strict', async () => {
    const lax = await cli(['validate', 'warn.yaml']);
    expect(lax.code).toBe(0);
    expect(lax.out).toContain('warning: CONFIG_A is set to n here and to y at extra.config:1');
    expect(lax.out).toContain('warn.yaml is valid (1 warning).');
    expect((await cli(['validate', '--strict', 'warn.yaml'])).code).toBe(1);
  });

  it('--json prints versioned diagnostics, valid against schemas/kernelfile-validation.schema.json', async () => {
    const r = await cli(['validate', '--json', 'bad.yaml'], { now: new Date('2025-03-01T12:00:00Z') });
    expect(r.code).toBe(1);
    const j = jsonOutput(r.out, 'validation');
    expect(j).toMatchObject({
      formatVersion: 1,
      kind: 'kernelfile-validation',
      kernelfileVersion: KERNELFILE_VERSION,
      generatedAt: '2025-03-01T12:00:00.000Z',
      file: 'bad.yaml',
      valid: false,
      errors: 1,
      warnings: 0,
    });
    expect(j.diagnostics[0]).toMatchObject({
      severity: 'error',
      code: 'unknown-key',
      file: 'bad.yaml',
      line: 7,
      column: 3,
      path: '$.config.fragmnets',
      hint: 'did you mean `fragments`?',
    });
    expect(jsonOutput((await cli(['validate', '--json'])).out, 'validation')).toMatchObject({
      valid: true,
      diagnostics: [],
    });
    expect(jsonOutput((await cli(['validate', '--json', 'warn.yaml'])).out, 'validation')).toMatchObject({
      valid: true,
      warnings: 1,
    });
  });

  it('--json: a kernelfile that cannot be read prints the error document on stdout, the text on stderr, exit 1', async () => {
    const r = await cli(['validate', '--json', 'missing.yaml'], { now: new Date('2025-03-01T12:00:00Z') });
    expect(r.code).toBe(1);
    const e = jsonOutput(r.out, 'error');
    expect(e).toMatchObject({
      formatVersion: 1,
      kind: 'kernelfile-error',
      kernelfileVersion: KERNELFILE_VERSION,
      generatedAt: '2025-03-01T12:00:00.000Z',
      command: 'validate',
      error: { unreachable: false, internal: false, details: [], file: null, line: null, column: null },
    });
    expect(e.error.message).toContain('missing.yaml');
    expect(r.err).toContain(`kernelfile: ${e.error.message}`);
  });

  it('--json: a usage error prints the error document too (commander says what is wrong on stderr)', async () => {
    const r = await cli(['validate', '--json', '--strictt', 'bad.yaml']);
    expect(r.code).toBe(1);
    const e = jsonOutput(r.out, 'error');
    expect(e.command).toBe('validate');
    expect(e.error.message).toMatch(/^unknown option '--strictt'/);
    expect(r.err).toContain("unknown option '--strictt'");
    // Without --json, stdout stays empty.
    expect((await cli(['validate', '--strictt', 'bad.yaml'])).out).toBe('');
  });

  it('reads standard input with -', async () => {
    const r = await cli(['validate', '-'], { stdin: GOOD });
    expect(r.code).toBe(0);
    expect(r.out).toBe('<stdin> is valid.\n');
  });

  it('colours only when asked, and --no-color wins', async () => {
    expect((await cli(['validate', 'bad.yaml'], { color: true })).out).toContain('\u001b[');
    expect((await cli(['--no-color', 'validate', 'bad.yaml'], { color: true })).out).not.toContain('\u001b[');
  });

  it('a file that is not UTF-8 is reported at the bad byte', async () => {
    const r = await cli(['validate', 'latin1.yaml']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('latin1.yaml:2:6: error: the file is not valid UTF-8: byte 0xe9');
  });

  it('a 10 MB file is refused by its size without reading it all', async () => {
    const r = await cli(['validate', 'huge.yaml']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'huge.yaml:1:1: error: the file is 10.0 MiB; a kernelfile may be at most 1.0 MiB',
    );
  });

  it('a missing file is one line with a hint, no stack trace', async () => {
    const r = await cli(['validate', 'nope.yaml']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('kernelfile: cannot read nope.yaml: no such file\n  hint: check the path\n');
    expect(r.out).toBe('');
  });

  it('a directory is refused with the file to name instead', async () => {
    const r = await cli(['validate', 'sub']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'kernelfile: sub is a directory\n  hint: name the kernelfile inside it, e.g. sub/kernelfile.yaml',
    );
  });

  it('an unknown option is a usage error with a suggestion', async () => {
    const r = await cli(['validate', '--jsn']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown option '--jsn'[\s\S]*--json/);
  });

  it('an unknown command suggests the right one', async () => {
    const r = await cli(['valdate']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/unknown command 'valdate'[\s\S]*validate/);
  });
});

describe('kernelfile schema', () => {
  it('prints the JSON Schema', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(JSON.parse(r.out).$id).toBe('https://json.schemastore.org/kernelfile.json');
  });

  it('--write puts it into a project, says how to point kernelfiles at it, and replaces only a kernelfile schema', async () => {
    const file = join(dir, 'kernelfile.schema.json');
    const r = await cli(['schema', '--write', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse((await cli(['schema'])).out));
    expect(r.err).toContain('# yaml-language-server: $schema=');
    expect(r.err).toContain('"yaml.schemas"');
    // Again: an earlier --write is replaced.
    expect((await cli(['schema', '--write', file])).code).toBe(0);
    // Anything else is not.
    const other = join(dir, 'package.json');
    writeFileSync(other, '{"name": "mine"}\n');
    const refused = await cli(['schema', '--write', other]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('is not a kernelfile schema; nothing was written');
    expect(readFileSync(other, 'utf8')).toBe('{"name": "mine"}\n');
    const nodir = await cli(['schema', '--write', join(dir, 'missing', 'schema.json')]);
    expect(nodir.code).toBe(1);
    expect(nodir.err).toContain('does not exist');
    expect((await cli(['schema', '--format', 'markdown', '--write', file])).code).toBe(1);
  });

  it('prints the reference as Markdown', async () => {
    const r = await cli(['schema', '--format', 'markdown']);
    expect(r.out).toMatch(/^\| key \| type \| default \| description \| example \|/);
    expect(r.out).toContain('`boot.keep`');
  });
});
