/**
 * The one-time MOK password: read bounded and validated (never echoed in a message), and the
 * rollout's refusal, before any host is touched, of a plan that enrols a certificate without it;
 * with it, the mok-import step writes the DER and hands the password to mokutil on stdin only.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Prepared } from '../../../src/compile/build.js';
import { Rollout } from '../../../src/engine/apply.js';
import { UserError } from '../../../src/engine/errors.js';
import type { Loaded } from '../../../src/engine/kernelfile.js';
import { readMokPassword } from '../../../src/engine/mok-password.js';
import type { PlannedHost } from '../../../src/engine/planning.js';
import { parseHostAddress } from '../../../src/host/address.js';
import { plan } from '../../../src/plan/planner.js';
import { fakeArtifactsDir, fakeManifest } from '../../helpers/fake-artifacts.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'kf-mokpw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
};
const SECRET = 'correct horse battery';

describe('readMokPassword', () => {
  it('the first line, without its line end', () => {
    expect(readMokPassword(file('ok', `${SECRET}\n`))).toBe(SECRET);
    expect(readMokPassword(file('crlf', `${SECRET}\r\nsecond line\n`))).toBe(SECRET);
    expect(readMokPassword(file('bare', SECRET))).toBe(SECRET);
  });

  it.each([
    ['empty', '\n', /first line is empty/],
    ['long', `${'x'.repeat(257)}\n`, /257 characters; mokutil takes at most 256/],
    ['utf8', 'pässwort\n', /other than printable ASCII/],
    ['tab', 'a\tb\n', /other than printable ASCII/],
    ['big', `${SECRET}\n${'#'.repeat(5000)}`, /more than a password file holds/],
  ])('refuses %s, naming the option and never the password', (name, content, message) => {
    const p = file(name, content);
    let error: unknown;
    try {
      readMokPassword(p);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`--mok-password-file ${p}`);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('refuses a missing file and a directory', () => {
    expect(() => readMokPassword(join(tmp, 'absent'))).toThrow(
      /--mok-password-file .*absent: cannot read it \(ENOENT\)/,
    );
    mkdirSync(join(tmp, 'dir'));
    expect(() => readMokPassword(join(tmp, 'dir'))).toThrow(/not a regular file|EISDIR/);
  });
});

const DER = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x0a]), Buffer.alloc(266, 0x11)]);
const SHA1 = createHash('sha1').update(DER).digest('hex');

function enrollingHost(): { h: { ok: true } & PlannedHost; t: FakeTransport } {
  const c = loadCase('fresh-grub');
  const facts = structuredClone(c.facts);
  facts.secureboot = {
    state: 'enabled',
    source: 'efivars',
    shimValidationDisabled: false,
    mokutil: '/usr/bin/mokutil',
    enrolled: { sha1: [], hashes: 0 },
    pending: { sha1: [], hashes: 0 },
    dkms: {
      from: null,
      key: null,
      certificate: null,
      keyExists: null,
      certificateExists: null,
      certificateSha1: null,
    },
  };
  const desired = structuredClone(c.desired);
  desired.signing = {
    certificateDerBase64: DER.toString('base64'),
    sha1: SHA1,
    subject: 'test key',
    enroll: true,
    modules: true,
    // This apply is about the enrolment: the module is built by the host's dkms (with signing.dkms
    // it would be built and signed on the controller: test/unit/plan/no-compiler.test.ts).
    dkms: false,
    image: false,
  };
  const t = new FakeTransport('ssh://root@web-1:22');
  const h = {
    ok: true as const,
    target: {
      name: 'web-1',
      address: parseHostAddress('ssh://root@web-1'),
      hostOptions: {},
      sudo: false,
      kernelfile: 'kernelfile.yaml',
    },
    loaded: {} as Loaded,
    transport: t,
    facts,
    prepared: { buildId: desired.buildId, release: desired.release } as Prepared,
    desired,
    plan: plan(desired, facts, { ...planOptions(facts), mokPassword: true }),
    diagnostics: [],
  };
  return { h, t };
}

function rollout(mokPasswordFile?: string) {
  const built: string[] = [];
  const r = new Rollout(
    {
      gather: async () => Promise.reject(new Error('no reconnect expected')),
      connect: async () => Promise.reject(new Error('no reconnect expected')),
      planTarget: async () => Promise.reject(new Error('no replan expected')),
    },
    { yes: true, ...(mokPasswordFile ? { mokPasswordFile } : {}) },
    {
      build: async (p) => {
        built.push(p.buildId);
        return { dir: fakeArtifactsDir(tmp, p.buildId), manifest: fakeManifest(p.buildId, p.release, 1000) };
      },
      packSource: async () => file('source.tar', 'a module source\n'),
      sleep: async () => {},
    },
  );
  return { r, built };
}

describe('apply of a plan that enrols a MOK', () => {
  it('without --mok-password-file: refused before any build or host command, naming the option', async () => {
    const { h, t } = enrollingHost();
    const { r, built } = rollout();
    await expect(r.run([h])).rejects.toThrow(/needs a one-time password .*Nothing was changed/);
    await expect(rollout().r.run([h])).rejects.toMatchObject({
      hint: expect.stringContaining('--mok-password-file FILE'),
    });
    expect(t.calls).toEqual([]);
    expect(built).toEqual([]);
  });

  it('an unreadable password file: refused the same way, before anything', async () => {
    const { h, t } = enrollingHost();
    const p = file('pw-bad', '\n');
    chmodSync(p, 0o600);
    await expect(rollout(p).r.run([h])).rejects.toThrow(/first line is empty/);
    expect(t.calls).toEqual([]);
  });

  it('with it: the DER is written, then mokutil --import reads the password twice on stdin, never in argv', async () => {
    const { h, t } = enrollingHost();
    const res = await rollout(file('pw', `${SECRET}\n`)).r.run([h]);
    expect(res.failed).toBe(0);
    const path = `/var/lib/kernelfile/mok/${SHA1}.der`;
    const write = t.calls.findIndex((c) => c.kind === 'run' && c.wrote?.path === path);
    const mokutil = t.calls.findIndex((c) => c.kind === 'run' && c.inner?.[0] === 'mokutil');
    expect(write).toBeGreaterThanOrEqual(0);
    expect(mokutil).toBeGreaterThan(write);
    const call = t.calls[mokutil];
    expect(call?.kind === 'run' && call.inner).toEqual(['mokutil', '--import', path]);
    expect(call?.kind === 'run' && call.opts?.stdin).toBe(`${SECRET}\n${SECRET}\n`);
    const w = t.calls[write];
    expect(w?.kind === 'run' && Buffer.isBuffer(w.opts?.stdin) && w.opts?.stdin.equals(DER)).toBe(true);
    // The enrolment comes before the kernel, and the password is in no argv.
    const kernelShip = t.calls.findIndex((c) => c.kind === 'put');
    expect(kernelShip === -1 || kernelShip > mokutil).toBe(true);
    for (const c of t.calls) if (c.kind === 'run') expect(c.argv.join(' ')).not.toContain(SECRET);
  });
});
