/**
 * Secure Boot in the plan (resources/mok-enrollment.ts), with fixture facts: Secure Boot on, off,
 * not EFI, unknown; the build's certificate enrolled, not enrolled, pending; enroll true or false;
 * a password given or not; `installed: true` modules with or without the host's own dkms key. The
 * rendered plans (text, JSON, Markdown) of the enrolment case are golden files:
 * `UPDATE_GOLDEN=1 npx vitest run test/unit/plan/secure-boot.test.ts` rewrites them.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { HostFacts, SecureBootFacts } from '../../../src/facts/types.js';
import { plan } from '../../../src/plan/planner.js';
import { planFile, planJson } from '../../../src/render/plan-json.js';
import { renderPlanMarkdown } from '../../../src/render/plan-markdown.js';
import { renderHostPlan } from '../../../src/render/plan-text.js';
import { plain } from '../../../src/render/style.js';
import type { Desired, SigningFacts } from '../../../src/resources/desired.js';
import { mokCertPath } from '../../../src/resources/mok-enrollment.js';
import { golden as goldenFile } from '../../helpers/golden.js';
import { TEST_STAMP, validDocument } from '../../helpers/json-schemas.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const DIR = fileURLToPath(new URL('../../fixtures/secure-boot/', import.meta.url));
const golden = (file: string, actual: string) =>
  goldenFile(join(DIR, file), actual, {
    updateVar: 'UPDATE_GOLDEN',
    command: 'npx vitest run test/unit/plan/secure-boot.test.ts',
  });

/** A stand-in DER (any bytes do for the plan: it only carries them) and its SHA-1. */
const DER = Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x0a]), Buffer.alloc(266, 0x5a)]);
const SHA1 = createHash('sha1').update(DER).digest('hex');
const OTHER = 'aa'.repeat(20);
const HOST_DKMS_SHA1 = 'bb'.repeat(20);

const signing = (o: Partial<SigningFacts> = {}): SigningFacts => ({
  certificateDerBase64: DER.toString('base64'),
  sha1: SHA1,
  subject: 'kernelfile test key',
  enroll: true,
  modules: true,
  dkms: true,
  image: false,
  ...o,
});

const noDkms: SecureBootFacts['dkms'] = {
  from: null,
  key: null,
  certificate: null,
  keyExists: null,
  certificateExists: null,
  certificateSha1: null,
};

const sbFacts = (o: Partial<SecureBootFacts> = {}): SecureBootFacts => ({
  state: 'enabled',
  source: 'efivars',
  shimValidationDisabled: false,
  mokutil: '/usr/bin/mokutil',
  enrolled: { sha1: [OTHER], hashes: 0 },
  pending: { sha1: [], hashes: 0 },
  dkms: noDkms,
  ...o,
});

interface Case {
  signing?: Partial<SigningFacts> | null;
  sb?: SecureBootFacts | null;
  password?: boolean;
  installed?: boolean;
  image?: boolean;
}

function planWith(c: Case = {}) {
  const base = loadCase('fresh-grub');
  const facts: HostFacts = structuredClone(base.facts);
  if (c.sb !== null) facts.secureboot = c.sb ?? sbFacts();
  const desired: Desired = structuredClone(base.desired);
  if (c.signing !== null) desired.signing = signing(c.signing ?? {});
  if (c.installed) desired.modules = [{ name: 'acpi-call', version: '1.2.2', path: null, installed: true }];
  const p = plan(desired, facts, {
    ...planOptions(facts),
    mokPassword: c.password === true,
    ...(c.image ? { image: true } : {}),
  });
  return { base, p };
}

const enrolment = (p: ReturnType<typeof planWith>['p']) =>
  p.changes.filter((c) => c.resource === 'mok-enrollment');

describe('Secure Boot on', () => {
  it('the certificate neither enrolled nor pending: an enrolment change first, writing the DER and running mokutil --import', () => {
    const { p } = planWith({ password: true });
    expect(p.problems).toEqual([]);
    expect(p.changes[0]?.resource).toBe('mok-enrollment');
    const [c] = enrolment(p);
    expect(c).toMatchObject({ id: `mok-enrollment[${SHA1}]`, action: 'create', dependsOn: [] });
    expect(c?.reason).toContain(
      'at the next boot the MOK manager asks on the console for the one-time password',
    );
    expect(c?.steps).toEqual([
      {
        kind: 'mok-import',
        title: expect.stringContaining(`mokutil --import ${mokCertPath(SHA1)}`),
        path: `/var/lib/kernelfile/mok/${SHA1}.der`,
        certificate: DER.toString('base64'),
        sha1: SHA1,
        sudo: true,
      },
    ]);
    expect(p.secureBoot).toEqual({
      state: 'enabled',
      certificate: { subject: 'kernelfile test key', sha1: SHA1 },
      enrolment: 'enrol',
      passwordGiven: true,
      hostDkms: null,
    });
    expect(p.notes.join('\n')).toMatch(
      /choose "Enroll MOK", check the fingerprint .* from --mok-password-file/,
    );
    expect(p.notes.join('\n')).not.toContain('needs a one-time password');
  });

  it('without --mok-password-file the plan says it will need one', () => {
    const { p } = planWith();
    expect(enrolment(p)).toHaveLength(1);
    expect(p.secureBoot?.passwordGiven).toBe(false);
    expect(p.notes).toContain(
      'the enrolment needs a one-time password: give it with --mok-password-file FILE (apply refuses without it, before changing anything)',
    );
  });

  it('enrolled: no change, a note', () => {
    const { p } = planWith({ sb: sbFacts({ enrolled: { sha1: [OTHER, SHA1], hashes: 1 } }) });
    expect(enrolment(p)).toEqual([]);
    expect(p.secureBoot?.enrolment).toBe('enrolled');
    expect(p.notes.join('\n')).toContain('is enrolled: the signed modules load');
  });

  it('pending: no change; the note says the console confirms it at the next boot', () => {
    const { p } = planWith({ sb: sbFacts({ pending: { sha1: [SHA1], hashes: 0 } }) });
    expect(enrolment(p)).toEqual([]);
    expect(p.secureBoot?.enrolment).toBe('pending');
    expect(p.notes.join('\n')).toContain('pending: at the next boot the MOK manager asks on the console');
  });

  it('enroll: false and not enrolled: a problem saying the modules will not load and how to fix it', () => {
    const { p } = planWith({ signing: { enroll: false } });
    expect(enrolment(p)).toEqual([]);
    expect(p.problems).toEqual([
      {
        code: 'mok-not-enrolled',
        message: expect.stringMatching(
          /Secure Boot is on and .* is not enrolled on .*: the new kernel's modules will not load/,
        ),
        hint: expect.stringMatching(/enrol it by hand .*mokutil --import.* or set signing.enroll: true/),
      },
    ]);
    expect(p.secureBoot?.enrolment).toBe('refused');
  });

  it('enroll: false and enrolled: no problem', () => {
    const { p } = planWith({
      signing: { enroll: false },
      sb: sbFacts({ enrolled: { sha1: [SHA1], hashes: 0 } }),
    });
    expect(p.problems).toEqual([]);
  });

  it('no mokutil on the host: a problem (cannot tell, cannot enrol); with enroll: false a warning', () => {
    const sb = sbFacts({ mokutil: null, enrolled: null, pending: null });
    const { p } = planWith({ sb });
    expect(p.problems.map((x) => x.code)).toEqual(['no-mokutil']);
    expect(p.problems[0]?.hint).toContain('install mokutil');
    const off = planWith({ sb, signing: { enroll: false } }).p;
    expect(off.problems).toEqual([]);
    expect(off.warnings?.join('\n')).toContain('mokutil is not installed');
  });

  it('mokutil could not list the enrolled keys: the enrolment is planned (mokutil skips a key already enrolled)', () => {
    const { p } = planWith({ sb: sbFacts({ enrolled: null }) });
    expect(enrolment(p)[0]?.reason).toContain('not known to be enrolled');
  });
});

describe('Secure Boot off', () => {
  it.each([
    ['disabled', 'Secure Boot is off: signatures are not enforced'],
    ['setup-mode', 'Secure Boot is off (the firmware is in setup mode): signatures are not enforced'],
    ['not-efi', 'Secure Boot is off (the host does not boot through UEFI): signatures are not enforced'],
  ] as const)('%s: no enrolment, a note that enforcement is off (signing still done)', (state, note) => {
    const { p } = planWith({
      sb: sbFacts({ state, enrolled: null, mokutil: null }),
      signing: { enroll: false },
    });
    expect(enrolment(p)).toEqual([]);
    expect(p.problems).toEqual([]);
    expect(p.notes).toContain(`${note}; the kernel and modules are signed all the same`);
    expect(p.secureBoot?.enrolment).toBe('not-needed');
  });

  it('unknown (variables unreadable, no mokutil): a note; facts from before the family: the same', () => {
    for (const sb of [sbFacts({ state: 'unknown', source: null, mokutil: null, enrolled: null }), null]) {
      const { p } = planWith({ sb });
      expect(enrolment(p)).toEqual([]);
      expect(p.problems).toEqual([]);
      expect(p.notes.join('\n')).toContain('whether Secure Boot is on is not known');
    }
  });

  it('an image: nothing enrolled there; the note says to enrol on the machine that boots it', () => {
    const { p } = planWith({ image: true });
    expect(enrolment(p)).toEqual([]);
    expect(p.notes.join('\n')).toContain(
      'the Secure Boot state of the machine that boots it is not known here',
    );
  });
});

describe('installed: true modules (built by dkms on the host)', () => {
  const hostKey = (o: Partial<SecureBootFacts['dkms']> = {}): SecureBootFacts['dkms'] => ({
    from: '/etc/dkms/framework.conf',
    key: '/var/lib/shim-signed/mok/MOK.priv',
    certificate: '/var/lib/shim-signed/mok/MOK.der',
    keyExists: true,
    certificateExists: true,
    certificateSha1: HOST_DKMS_SHA1,
    ...o,
  });

  it('no dkms key on the host and Secure Boot on: "will not load with Secure Boot on: unsigned"', () => {
    const { p } = planWith({ installed: true, sb: sbFacts({ enrolled: { sha1: [SHA1], hashes: 0 } }) });
    expect(p.warnings).toEqual([
      expect.stringMatching(
        /^acpi-call 1\.2\.2 \(installed: true\) will not load with Secure Boot on: unsigned/,
      ),
    ]);
  });

  it('the host signs with its own enrolled key: a note naming the key', () => {
    const { p } = planWith({
      installed: true,
      sb: sbFacts({ enrolled: { sha1: [SHA1, HOST_DKMS_SHA1], hashes: 0 }, dkms: hostKey() }),
    });
    expect(p.warnings).toBeUndefined();
    expect(p.notes).toContain(
      'acpi-call 1.2.2 (installed: true) are built by dkms on the host, which signs them with its own key /var/lib/shim-signed/mok/MOK.priv; its certificate is enrolled',
    );
    expect(p.secureBoot?.hostDkms).toEqual({
      key: '/var/lib/shim-signed/mok/MOK.priv',
      certificate: '/var/lib/shim-signed/mok/MOK.der',
      enrolled: true,
    });
  });

  it('the host key is not enrolled: a warning; its certificate unreadable: unknown, a note', () => {
    const notEnrolled = planWith({
      installed: true,
      sb: sbFacts({ enrolled: { sha1: [SHA1], hashes: 0 }, dkms: hostKey() }),
    }).p;
    expect(notEnrolled.warnings?.[0]).toContain('its certificate is NOT enrolled');
    const unknown = planWith({
      installed: true,
      sb: sbFacts({ enrolled: { sha1: [SHA1], hashes: 0 }, dkms: hostKey({ certificateSha1: null }) }),
    }).p;
    expect(unknown.warnings).toBeUndefined();
    expect(unknown.notes.join('\n')).toContain('whether its certificate is enrolled is not known');
  });

  it('Secure Boot off: no warning for unsigned modules', () => {
    const { p } = planWith({ installed: true, sb: sbFacts({ state: 'disabled' }) });
    expect(p.warnings).toBeUndefined();
  });
});

describe('a build that does not sign', () => {
  it('plans as before: no Secure Boot section, no notes about it', () => {
    const { base, p } = planWith({ signing: null });
    const before = plan(base.desired, base.facts, planOptions(base.facts));
    expect(p.secureBoot).toBeUndefined();
    expect(p.notes).toEqual(before.notes);
    expect(enrolment(p)).toEqual([]);
  });
});

describe('rendered', () => {
  const { base, p } = planWith({ installed: true });

  it('text', () => {
    const text = renderHostPlan(p, { style: plain, configDiff: 'none' });
    expect(text).toContain(`+ mok-enrollment[${SHA1}]`);
    expect(text).toContain('Secure Boot: on; certificate kernelfile test key');
    expect(text).toContain(
      'warning: acpi-call 1.2.2 (installed: true) will not load with Secure Boot on: unsigned',
    );
    expect(text).toBe(golden('plan.txt', text));
  });

  it('JSON (a valid plan document)', () => {
    const doc = validDocument(
      'plan',
      planJson(planFile({ ...base.kernelfile, name: base.spec.name }, [p]), TEST_STAMP),
    );
    const json = `${JSON.stringify(doc, null, 2)}\n`;
    expect(doc.hosts[0]?.secureBoot?.enrolment).toBe('enrol');
    expect(json).toBe(golden('plan.json', json));
  });

  it('Markdown', () => {
    const md = renderPlanMarkdown([{ name: 'web-1', plan: p }]);
    expect(md).toContain('**Secure Boot:** on; certificate kernelfile test key');
    expect(md).toContain('**Warnings**');
    expect(md).toBe(golden('plan.md', md));
  });
});
