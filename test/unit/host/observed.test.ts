/**
 * The one observer hook of the transports (`kernelfile -v`): every command and transfer of a
 * transport opened with an observer is reported once it ends, with its exit code and time, and
 * never with what was sent along (standard input, environment values).
 */
import { describe, expect, it } from 'vitest';
import { type HostKind, hostRegistry } from '../../../src/host/kind.js';
import {
  type HostCommand,
  HostError,
  type HostTransfer,
  observed,
  type Transport,
} from '../../../src/host/transport.js';
import { commandLog, MAX_OUTPUT_LINES, transferLog } from '../../../src/render/command-log.js';
import { FakeTransport } from '../../helpers/fake-transport.js';

const PASSWORD = 'Secret-Mok-1';
const PIN = 'sign-pin-42';

function watch(t: Transport) {
  const commands: HostCommand[] = [];
  const transfers: HostTransfer[] = [];
  const o = observed(t, { command: (c) => commands.push(c), transfer: (x) => transfers.push(x) });
  return { o, commands, transfers };
}

describe('observed(transport)', () => {
  it('reports each command once it ended: argv, exit code, time, output; stdin counted, env by name', async () => {
    const fake = new FakeTransport('ssh://root@web-1:22', (argv) =>
      argv[0] === 'mokutil' ? { code: 3, stdout: 'input password:\n', stderr: 'failed\n' } : undefined,
    );
    const { o, commands } = watch(fake);
    const r = await o.run(['mokutil', '--import', '/var/lib/kernelfile/mok.der'], {
      sudo: true,
      stdin: `${PASSWORD}\n${PASSWORD}\n`,
      env: { KBUILD_SIGN_PIN: PIN },
    });
    expect(r.code).toBe(3);
    expect(fake.calls).toHaveLength(1); // the command ran once, through the transport
    expect(commands).toHaveLength(1);
    const c = commands[0] as HostCommand;
    expect(c).toMatchObject({
      host: 'ssh://root@web-1:22',
      argv: ['mokutil', '--import', '/var/lib/kernelfile/mok.der'],
      sudo: true,
      envNames: ['KBUILD_SIGN_PIN'],
      stdinBytes: Buffer.byteLength(`${PASSWORD}\n${PASSWORD}\n`),
      outcome: { result: { code: 3, stdout: 'input password:\n', stderr: 'failed\n' } },
    });
    expect(c.ms).toBeGreaterThanOrEqual(0);
    // Neither secret is anywhere in what the observer got, nor in what -vv prints of it.
    expect(JSON.stringify(c)).not.toContain(PASSWORD);
    expect(JSON.stringify(c)).not.toContain(PIN);
    const shown = commandLog(c, 2).join('\n');
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(PIN);
    expect(shown).toMatch(
      /^ssh:\/\/root@web-1:22 \$ mokutil --import \/var\/lib\/kernelfile\/mok\.der \(as root; stdin 26 bytes; env KBUILD_SIGN_PIN\) → exit 3 in \d+\.\d\d s\n {4}out\| input password:\n {4}err\| failed$/,
    );
  });

  it('a command that echoes a small standard input back: the observer sees it masked, the caller gets it as it was', async () => {
    const fake = new FakeTransport('ssh://root@web-1:22', () => ({
      stdout: `input password: ${PASSWORD}\n`,
      stderr: `confirm: ${PASSWORD}\n`,
    }));
    const { o, commands } = watch(fake);
    const r = await o.run(['mokutil', '--import', 'x.der'], { stdin: `${PASSWORD}\n${PASSWORD}\n` });
    expect(r.stdout).toBe(`input password: ${PASSWORD}\n`);
    expect(commands[0]?.outcome).toEqual({
      result: { code: 0, stdout: 'input password: ********\n', stderr: 'confirm: ********\n' },
    });
  });

  it('a large standard input (a script, a file) is not searched for in the output', async () => {
    const script = `echo one\n${'# padding\n'.repeat(500)}`;
    const fake = new FakeTransport('local', () => ({ stdout: 'echo one\n' }));
    const { o, commands } = watch(fake);
    await o.run(['sh', '-s'], { stdin: script });
    expect(commands[0]?.outcome).toMatchObject({ result: { stdout: 'echo one\n' } });
  });

  it('a command the transport failed (a dropped connection) is reported, and the error still thrown', async () => {
    const fake = new FakeTransport().failWhen((call) => call.kind === 'run', 'disconnected');
    const { o, commands } = watch(fake);
    await expect(o.run(['true'])).rejects.toBeInstanceOf(HostError);
    expect(commands).toHaveLength(1);
    expect(commands[0]?.outcome).toEqual({ error: 'ssh://root@web-1:22: the connection dropped (fake)' });
    expect(commandLog(commands[0] as HostCommand, 1)[0]).toMatch(
      /^ssh:\/\/root@web-1:22 \$ true → failed after \d+\.\d\d s: ssh:\/\/root@web-1:22: the connection dropped \(fake\)$/,
    );
  });

  it('reports transfers with their path and size, never their bytes', async () => {
    const fake = new FakeTransport();
    const { o, transfers } = watch(fake);
    await o.write('/etc/kernelfile/x', `${PASSWORD}`, 0o600);
    await o.put('/tmp/local-file', '/var/lib/kernelfile/staging/vmlinuz');
    expect(transfers.map((t) => [t.op, t.path, t.bytes])).toEqual([
      ['write', '/etc/kernelfile/x', PASSWORD.length],
      ['put', '/var/lib/kernelfile/staging/vmlinuz', null],
    ]);
    expect(JSON.stringify(transfers)).not.toContain(PASSWORD);
    expect(transferLog(transfers[0] as HostTransfer)).toMatch(
      /^ssh:\/\/root@web-1:22 wrote \/etc\/kernelfile\/x \(12 bytes\) in \d+\.\d\d s$/,
    );
    expect(fake.calls.map((c) => c.kind)).toEqual(['write', 'put']);
  });

  it('an observer that throws changes nothing for the caller', async () => {
    const o = observed(new FakeTransport(), {
      command: () => {
        throw new Error('observer bug');
      },
    });
    expect((await o.run(['true'])).code).toBe(0);
  });

  it('keeps the name, kind and capabilities of the transport', () => {
    const fake = new FakeTransport('ssh://deploy@db-1:2222');
    const o = observed(fake, {});
    expect([o.name, o.kind, o.capabilities]).toEqual([fake.name, fake.kind, fake.capabilities]);
  });
});

describe('hostRegistry.open', () => {
  const fake = new FakeTransport('fake:one');
  const kind: HostKind<{ kind: 'fake' }> = {
    kind: 'fake',
    parse: (s) => (s === 'fake:one' ? { kind: 'fake' } : undefined),
    format: () => 'fake:one',
    capabilities: () => fake.capabilities,
    open: async () => fake,
  };
  const registry = hostRegistry([kind]);

  it('applies the observer of the host options to every kind, in one place', async () => {
    const seen: string[] = [];
    const t = await registry.open('fake:one', { observer: { command: (c) => seen.push(c.argv.join(' ')) } });
    await t.run(['uname', '-r']);
    expect(seen).toEqual(['uname -r']);
  });

  it('without an observer, the transport itself', async () => {
    expect(await registry.open('fake:one', {})).toBe(fake);
  });
});

describe('commandLog', () => {
  const base: HostCommand = {
    host: 'ssh://root@web-1:22',
    argv: ['sh', '-c', 'echo hi'],
    sudo: false,
    envNames: [],
    stdinBytes: null,
    ms: 1234,
    outcome: { result: { code: 0, stdout: '', stderr: '' } },
  };

  it('quotes arguments as sh reads them and escapes what a host could use to mislead the terminal', () => {
    const c: HostCommand = {
      ...base,
      host: 'ssh://root@evil\u001b[2J:22',
      argv: ['cat', "it's \u202emine"],
      outcome: { result: { code: 0, stdout: 'ok\u001b]0;title\u0007\n', stderr: '' } },
    };
    expect(commandLog(c, 2)).toEqual([
      "ssh://root@evil\\x1b[2J:22 $ cat 'it'\\''s \\u202emine' → exit 0 in 1.23 s",
      '    out| ok\\x1b]0;title\\x07',
    ]);
  });

  it('-v cuts a long argument (a script), -vv shows it whole', () => {
    const script = 'x'.repeat(500);
    const c = { ...base, argv: ['sh', '-c', script] };
    expect(commandLog(c, 1)[0]).toBe(
      `ssh://root@web-1:22 $ sh -c ${'x'.repeat(120)}…[380 more] → exit 0 in 1.23 s`,
    );
    expect(commandLog(c, 2)[0]).toContain(`sh -c ${script} → exit 0`);
  });

  it('-v shows no output; -vv at most MAX_OUTPUT_LINES lines per stream, then how many more', () => {
    const out = Array.from({ length: MAX_OUTPUT_LINES + 5 }, (_, i) => `line ${i}`).join('\n');
    const c = { ...base, outcome: { result: { code: 1, stdout: `${out}\n`, stderr: 'bad\n' } } };
    expect(commandLog(c, 1)).toHaveLength(1);
    const lines = commandLog(c, 2);
    expect(lines).toHaveLength(1 + MAX_OUTPUT_LINES + 1 + 1);
    expect(lines.at(-2)).toBe('    out| … 5 more lines');
    expect(lines.at(-1)).toBe('    err| bad');
  });
});
