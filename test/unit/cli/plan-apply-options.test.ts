/**
 * plan, apply and status refuse bad options and inputs before they connect to anything: each
 * error names the option, file or host and says what to do (exit 1).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { fakeIo } from '../../helpers/io.js';
import { jsonOutput } from '../../helpers/json-schemas.js';

let dir: string;
const KF = `apiVersion: kernelfile/v1
name: opts-test
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-opts-'));
  writeFileSync(join(dir, 'linux-6.1.192.tar.xz'), '');
  writeFileSync(join(dir, 'kernelfile.yaml'), KF);
  writeFileSync(join(dir, 'bad.yaml'), KF.replace('kernel:', 'kernl:'));
  writeFileSync(
    join(dir, 'inv.yml'),
    'web:\n  hosts:\n    web-1:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n',
  );
  writeFileSync(join(dir, 'inv.ini'), '[web]\nweb-1 ansible_host=127.0.0.1\n');
  writeFileSync(join(dir, 'plan.json'), '{"kind": "kernelfile-plan", "formatVersion": 99}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...args: string[]) {
  const io = fakeIo(dir);
  const code = await main(['node', 'kernelfile', ...args], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('plan, apply and status: bad input', () => {
  it('an invalid kernelfile: its diagnostics, and nothing is planned', async () => {
    for (const cmd of ['plan', 'apply']) {
      const r = await cli(cmd, 'bad.yaml');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/bad\.yaml:\d+:\d+: error: .*kernl/);
      expect(r.err).toContain('bad.yaml is not valid: fix it first (kernelfile validate bad.yaml).');
    }
  });

  it('--config-diff takes summary, full or none, on plan and on apply (not on rollback)', async () => {
    for (const cmd of ['plan', 'apply']) {
      const r = await cli(cmd, '--config-diff', 'all');
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        "error: option '--config-diff <mode>' argument 'all' is invalid. Allowed choices are summary, full, none.",
      );
    }
    const rollback = await cli('rollback', '--config-diff', 'full');
    expect(rollback.code).toBe(1);
    expect(rollback.err).toContain("error: unknown option '--config-diff'");
  });

  it('apply --reboot refuses a root filesystem directory and this machine', async () => {
    const root = await cli('apply', '--host', `root:${dir}`, '--reboot', '--yes');
    expect(root.code).toBe(1);
    expect(root.err).toContain(
      `kernelfile: --reboot needs a host reached over SSH; root:${dir} is a root filesystem directory`,
    );
    const local = await cli('apply', '--reboot', '--yes');
    expect(local.code).toBe(1);
    expect(local.err).toContain('--reboot would reboot this machine, and kernelfile could not wait for it');
    expect(local.err).toContain('hint: apply to this machine without --reboot, then reboot it yourself');
  });

  it('apply --reboot-timeout must be a positive number of seconds', async () => {
    const r = await cli(
      'apply',
      '--host',
      'ssh://root@127.0.0.1:1',
      '--reboot',
      '--reboot-timeout',
      'soon',
      '--yes',
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('--reboot-timeout must be a positive number of seconds, got `soon`');
  });

  it('a saved plan of another format version is refused, saying to make it again', async () => {
    const r = await cli('apply', 'plan.json');
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'plan.json is not a usable plan: plan format 99; this kernelfile reads format 2: make the plan again',
    );
    expect(r.err).toContain('hint: make a new one with `kernelfile plan … --out FILE`');
  });

  it('--limit without --inventory, --host with --inventory', async () => {
    const limit = await cli('plan', '--limit', 'web');
    expect(limit.code).toBe(1);
    expect(limit.err).toContain(
      '--limit selects or batches hosts of an inventory: give --inventory FILE too',
    );
    const batches = await cli('apply', '--serial', '1', '--max-fail', '10%');
    expect(batches.code).toBe(1);
    expect(batches.err).toContain(
      '--serial, --max-fail select or batch hosts of an inventory: give --inventory FILE too',
    );
    const both = await cli('status', '--inventory', 'inv.yml', '--host', 'ssh://root@example.org');
    expect(both.code).toBe(1);
    expect(both.err).toContain('--host and --inventory cannot be used together');
    expect(both.err).toContain('hint: select hosts of the inventory with --limit');
  });

  it('an inventory that cannot be read, an INI inventory, a limit that matches nothing', async () => {
    const missing = await cli('plan', '--inventory', 'nope.yml', 'kernelfile.yaml');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('cannot read the inventory nope.yml: it does not exist');
    // Read: its group and host are known to the pattern, which leaves none of them.
    const ini = await cli('plan', '--inventory', 'inv.ini', '--limit', 'web:!web-1', 'kernelfile.yaml');
    expect(ini.code).toBe(1);
    expect(ini.err).toContain('the pattern `web:!web-1` leaves no hosts to target in inv.ini');
    const none = await cli('plan', '--inventory', 'inv.yml', '--limit', 'db', 'kernelfile.yaml');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/db/);
  });

  it('hosts without a kernelfile are named', async () => {
    const r = await cli('plan', '--inventory', 'inv.yml');
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'no kernelfile for web-1: the inventory sets no `kernelfile` var for it and none was given',
    );
  });

  it('--serial, --max-fail and --parallel say what they take', async () => {
    const serial = await cli('apply', '--inventory', 'inv.yml', '--serial', 'half', 'kernelfile.yaml');
    expect(serial.err).toContain('--serial takes a number of hosts (1, 5) or a percentage (25%), got `half`');
    const fail = await cli('apply', '--inventory', 'inv.yml', '--max-fail', '120%', 'kernelfile.yaml');
    expect(fail.err).toContain('--max-fail takes a percentage from 0% to 100%, got `120%`');
    const par = await cli('plan', '--inventory', 'inv.yml', '--parallel', '0', 'kernelfile.yaml');
    expect(par.err).toContain('--parallel takes a number of hosts from 1 to 1000, got `0`');
    for (const r of [serial, fail, par]) expect(r.code).toBe(1);
  });
});

describe('under --json (or --format json) an error prints the error document on stdout, the exit code unchanged', () => {
  it('an invalid kernelfile: the document holds its diagnostics, the first error says where', async () => {
    const r = await cli('plan', '--json', 'bad.yaml');
    expect(r.code).toBe(1);
    const e = jsonOutput(r.out, 'error');
    expect(e).toMatchObject({
      kind: 'kernelfile-error',
      command: 'plan',
      error: {
        message: 'bad.yaml is not valid',
        hint: 'fix it first (kernelfile validate bad.yaml)',
        file: 'bad.yaml',
        line: expect.any(Number),
        column: expect.any(Number),
        unreachable: false,
        internal: false,
      },
    });
    expect(e.error.diagnostics?.some((d) => d.severity === 'error' && /kernl/.test(d.message))).toBe(true);
    // The text is on stderr as without --json.
    expect(r.err).toMatch(/bad\.yaml:\d+:\d+: error: .*kernl/);
  });

  it('an error thrown by the engine: message and hint', async () => {
    const missing = await cli('plan', '--format', 'json', '--inventory', 'nope.yml', 'kernelfile.yaml');
    expect(missing.code).toBe(1);
    expect(jsonOutput(missing.out, 'error').error.message).toContain(
      'cannot read the inventory nope.yml: it does not exist',
    );
    const both = await cli('status', '--json', '--inventory', 'inv.yml', '--host', 'ssh://root@example.org');
    expect(both.code).toBe(1);
    const e = jsonOutput(both.out, 'error');
    expect(e.command).toBe('status');
    expect(e.error.message).toContain('--host and --inventory cannot be used together');
    expect(e.error.hint).toContain('select hosts of the inventory with --limit');
    expect(both.err).toContain('--host and --inventory cannot be used together');
  });

  it('options that contradict --json', async () => {
    const r = await cli('plan', '--json', '--format', 'markdown', 'kernelfile.yaml');
    expect(r.code).toBe(1);
    expect(jsonOutput(r.out, 'error').error.message).toBe(
      '--json is short for --format json and cannot be combined with --format markdown: give one of them',
    );
  });

  it('without --json stdout stays empty; apply has no JSON output', async () => {
    for (const args of [
      ['plan', '--inventory', 'nope.yml', 'kernelfile.yaml'],
      ['plan', 'bad.yaml'],
      ['apply', 'plan.json'],
    ]) {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
    }
  });
});
