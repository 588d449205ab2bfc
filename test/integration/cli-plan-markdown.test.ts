/**
 * `kernelfile plan --format markdown` as a CI job runs it, through the real command line (commander,
 * the planning session, the fleet's connections): a fleet whose one host is a real SSH host
 * (test/helpers/sshd.ts) on which the kernelfile cannot be prepared (its source tarball is empty,
 * so no kernel is built or configured), and one that refuses connections. The document is the
 * comment: a summary table with both hosts and their states, and each host's error with its hint.
 * The planned case (changes, Kconfig difference) is covered by the renderer's golden files
 * (test/unit/render/plan-markdown.test.ts) on real planner output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn } from '../helpers/cli-in-process.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { freePort, type SshHost, startSshHost } from '../helpers/sshd.js';

let dir: string;
let h: SshHost;
let down: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-cli-plan-md-'));
  h = await startSshHost();
  down = await freePort();
  writeFileSync(join(dir, 'known_hosts'), `${h.knownHostsLine()}\n`);
  writeFileSync(join(dir, 'linux-6.1.192.tar.xz'), '');
  writeFileSync(
    join(dir, 'kernelfile.yaml'),
    'apiVersion: kernelfile/v1\nname: md-test\nkernel:\n  version: "6.1.192"\n  source: {path: linux-6.1.192.tar.xz}\n',
  );
  writeFileSync(
    join(dir, 'inventory.yml'),
    [
      'web:',
      '  hosts:',
      '    web-1:',
      `      ansible_host: 127.0.0.1`,
      `      ansible_port: ${h.port}`,
      '      ansible_user: root',
      `      ansible_ssh_private_key_file: ${h.keys.root.privateKeyPath}`,
      '    web-2:',
      '      ansible_host: 127.0.0.1',
      `      ansible_port: ${down}`,
      '',
    ].join('\n'),
  );
}, 300_000);
afterAll(async () => {
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => cliIn(dir, args);

describe('plan --format markdown', () => {
  it('a fleet with an error and an unreachable host: the table, each error and hint, exit 1', async () => {
    const r = await cli(
      'plan',
      'kernelfile.yaml',
      '--inventory',
      'inventory.yml',
      '--ssh-config',
      'none',
      '--known-hosts',
      join(dir, 'known_hosts'),
      '--format',
      'markdown',
    );
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out.startsWith('<!-- kernelfile plan -->\n## kernelfile plan\n')).toBe(true);
    expect(r.out).toContain('**2 hosts** from `inventory.yml`: none could be planned.');
    expect(r.out).toContain(
      '| host | running | target | changes | state |\n| --- | --- | --- | --- | --- |\n| `web-1` | – | – | – | ❌ error |\n| `web-2` | – | – | – | ❌ unreachable |\n',
    );
    expect(r.out).toMatch(
      /### `web-1`\n\n\*\*Could not be planned:\*\* cannot unpack the kernel source \S+linux-6\.1\.192\.tar\.xz\\:/,
    );
    expect(r.out).toContain(
      `### \`web-2\`\n\n**Unreachable:** ssh\\://kf-test@\u2060127.0.0.1\\:${down}\\: connection refused on 127.0.0.1\\:${down}\n\nhint: check the address, the port, and that sshd runs there\n`,
    );
    // the comment, nothing else: no progress or text plan on stdout
    expect(r.out).not.toContain('Fleet plan:');
  });

  it('--json is --format json: the two together only when they agree', async () => {
    const both = await cli(
      'plan',
      '--host',
      `ssh://root@127.0.0.1:${down}`,
      '--json',
      '--format',
      'markdown',
    );
    expect(both.code).toBe(1);
    expect(both.err).toContain(
      '--json is short for --format json and cannot be combined with --format markdown: give one of them',
    );
    // --json asked for JSON: the error document on stdout.
    expect(jsonOutput(both.out, 'error').error.message).toBe(
      '--json is short for --format json and cannot be combined with --format markdown: give one of them',
    );
    const bad = await cli('plan', '--format', 'html');
    expect(bad.code).toBe(1);
    expect(bad.out).toBe('');
    expect(bad.err).toMatch(/argument 'html' is invalid\. Allowed choices are text, json, markdown/);
  });
});
