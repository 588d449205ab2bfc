/**
 * The MOK enrolment step over real SSH (test/helpers/sshd.ts): a key pair from `kernelfile keygen`,
 * a plan that enrols its certificate, executed on the host. The host's `mokutil` is a stand-in
 * (a shell script in its PATH: the host's tool, so a test double there) that records its argv, its
 * standard input and every process's command line while it runs. Checked: the DER is written, the
 * password reaches mokutil on stdin only (no argv on the host shows it), and no byte of the private
 * key is written anywhere on the host.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Controller, execute } from '../../src/apply/executor.js';
import { keygen } from '../../src/engine/keygen.js';
import { gather } from '../../src/facts/gather.js';
import type { Transport } from '../../src/host/transport.js';
import { plan } from '../../src/plan/planner.js';
import { loadCase, planOptions } from '../helpers/plan-fixtures.js';
import { openRoot, type SshHost, startSshHost } from '../helpers/sshd.js';

const PASSWORD = 'one-time MOK pw 42';

const MOKUTIL = `#!/bin/sh
case $1 in
  --import)
    printf 'argv:%s\\n' "$*" >> /root/mokutil.log
    for p in /proc/[0-9]*; do tr '\\0' ' ' < "$p/cmdline" 2>/dev/null; echo; done > /root/mokutil.ps
    n=0
    while IFS= read -r line; do n=$((n + 1)); printf 'stdin%d:%s\\n' "$n" "$line" >> /root/mokutil.log; done
    printf 'input password: \\ninput password again: \\n'
    ;;
  --list-enrolled|--list-new) ;;
  *) exit 1 ;;
esac
`;

let h: SshHost;
let dir: string;
let t: Transport;
let keys: Awaited<ReturnType<typeof keygen>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-mok-ssh-'));
  h = await startSshHost();
  const r = await h.exec(['sh', '-c', 'cat > /usr/local/bin/mokutil && chmod 755 /usr/local/bin/mokutil'], {
    stdin: MOKUTIL,
  });
  expect(r.code).toBe(0);
  keys = await keygen({ cwd: dir, out: 'keys', cn: 'kernelfile ssh test' });
  t = await openRoot(h, dir);
}, 300_000);
afterAll(async () => {
  await t?.close();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every regular file the host wrote (the overlay's upper directory), with its bytes. */
function writtenFiles(root: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 64 * 1024 * 1024) out.push({ path: p, bytes: readFileSync(p) });
    }
  };
  walk(root);
  return out;
}

describe('the MOK enrolment step over SSH', () => {
  it('writes the DER, gives mokutil the password on stdin only, and never the private key', async () => {
    const facts = await gather(t);
    // The test host shares this machine's firmware: none, so there are no MOKs to list and mokutil
    // is not even looked for (test/integration/facts-secureboot.test.ts runs it against fake efivars).
    expect(facts.secureboot?.mokutil).toBeNull();
    expect(facts.secureboot?.enrolled).toBeNull();
    // Take it as a Secure Boot host whose mokutil (the stand-in) lists no key.
    facts.secureboot = {
      ...(facts.secureboot as NonNullable<typeof facts.secureboot>),
      state: 'enabled',
      mokutil: '/usr/local/bin/mokutil',
      enrolled: { sha1: [], hashes: 0 },
      pending: { sha1: [], hashes: 0 },
    };

    const der = readFileSync(keys.der);
    const cert = new X509Certificate(der);
    const c = loadCase('fresh-grub');
    const desired = structuredClone(c.desired);
    desired.signing = {
      certificateDerBase64: der.toString('base64'),
      sha1: keys.sha1,
      subject: keys.subject,
      enroll: true,
      modules: true,
      dkms: true,
      image: false,
    };
    const full = plan(desired, facts, { ...planOptions(facts), mokPassword: true });
    const enrol = full.changes.filter((x) => x.resource === 'mok-enrollment');
    expect(enrol).toHaveLength(1);
    const refuse = async (): Promise<never> => {
      throw new Error('no build in this test');
    };
    const controller: Controller = {
      build: refuse,
      packSource: refuse,
      dkmsTarball: refuse,
      now: () => new Date().toISOString(),
      mokPassword: PASSWORD,
    };
    const r = await execute(t, { ...full, changes: enrol }, controller);
    expect(r.changes).toBe(1);

    const path = `/var/lib/kernelfile/mok/${keys.sha1}.der`;
    expect(readFileSync(join(h.root, path)).equals(der)).toBe(true);
    expect(cert.fingerprint.replace(/:/g, '').toLowerCase()).toBe(keys.sha1);
    const log = readFileSync(join(h.root, 'root/mokutil.log'), 'utf8');
    expect(log).toBe(`argv:--import ${path}\nstdin1:${PASSWORD}\nstdin2:${PASSWORD}\n`);
    const ps = readFileSync(join(h.root, 'root/mokutil.ps'), 'utf8');
    expect(ps).toContain(`mokutil --import ${path}`); // the listing saw the processes of the step
    expect(ps).not.toContain(PASSWORD);

    // No byte of the private key on the host: not its PEM body, not its DER.
    const key = createPrivateKey(readFileSync(keys.key));
    const keyDer = key.export({ type: 'pkcs8', format: 'der' });
    const pemBody = readFileSync(keys.key, 'utf8')
      .split('\n')
      .find((l) => /^[A-Za-z0-9+/]{64}$/.test(l)) as string;
    expect(pemBody).toBeDefined();
    const files = writtenFiles(join(h.tmpDir, 'upper'));
    expect(files.some((f) => f.path.endsWith(`${keys.sha1}.der`))).toBe(true);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      expect(f.bytes.includes(keyDer), f.path).toBe(false);
      expect(f.bytes.includes(Buffer.from(pemBody)), f.path).toBe(false);
    }
    // The check finds a key where there is one.
    await h.exec(['sh', '-c', 'cat > /tmp/leaked.key'], { stdin: readFileSync(keys.key) });
    expect(writtenFiles(join(h.tmpDir, 'upper')).some((f) => f.bytes.includes(Buffer.from(pemBody)))).toBe(
      true,
    );
  }, 120_000);
});
