/**
 * Trial records (/var/lib/kernelfile/trials/<release>.json): what the plan's arm step and a failed
 * trial boot write reads back the same; a record a host cannot be trusted with is refused, and
 * the facts report it instead of using it. The boot id the planner compares them with comes from
 * the system facts.
 */
import { describe, expect, it } from 'vitest';
import { receipts } from '../../../src/facts/receipts.js';
import { system } from '../../../src/facts/system.js';
import { decodeTrial, MAX_TRIAL_CHARS } from '../../../src/receipt/decode.js';
import { encodeTrial } from '../../../src/receipt/encode.js';
import { TRIALS_DIR, trialPath } from '../../../src/receipt/paths.js';
import { MAX_HEALTH_OUTPUT, TRIAL_VERSION } from '../../../src/receipt/types.js';
import { BOOT_A, BOOT_B, trialData, trialText } from '../../helpers/receipt-text.js';
import { fixtureSections } from '../facts/fixtures.js';

const R = '6.1.120-web-kf65da743d';
const FILE = `${R}.json`;

const FAILED = {
  state: 'failed' as const,
  failedAt: '2026-12-02T09:14:03.512Z',
  seenRelease: '6.1.119-web-kff0ca3e73',
  seenBootId: BOOT_B,
  reason: 'came back after 85 s running 6.1.119-web-kff0ca3e73, not 6.1.120-web-kf65da743d',
  health: null,
};

/** The record's JSON with one field replaced (or removed: undefined). */
function edited(key: string, value: unknown, over: Parameters<typeof trialText>[1] = {}): string {
  const o = JSON.parse(trialText(R, over)) as Record<string, unknown>;
  o[key] = value;
  return JSON.stringify(o);
}

function refusal(d: { ok: true } | { ok: false; error: string }): string {
  if (d.ok) throw new Error('accepted');
  return d.error;
}

describe('encodeTrial → decodeTrial', () => {
  it('an armed record reads back as written, with the format version', () => {
    const text = trialText(R);
    expect(decodeTrial(text, FILE)).toEqual({
      ok: true,
      value: { trialVersion: TRIAL_VERSION, ...trialData(R) },
    });
    expect(JSON.parse(text).trialVersion).toBe(TRIAL_VERSION);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('a failed record with a failed health check reads back as written (its output keeps its lines)', () => {
    const health = { command: 'systemctl is-system-running --wait', code: 1, output: 'degraded\nline 2\n' };
    const data = trialData(R, { ...FAILED, health });
    expect(decodeTrial(encodeTrial(data), FILE)).toEqual({
      ok: true,
      value: { trialVersion: TRIAL_VERSION, ...data },
    });
  });

  it('a health check without an exit status (it could not run) reads back with code null', () => {
    const health = { command: 'true', code: null, output: 'could not run: connection lost' };
    const d = decodeTrial(trialText(R, { ...FAILED, health }), FILE);
    expect(d.ok && d.value.health).toEqual(health);
  });

  it('an entry GRUB names by its title path reads back ("/" and ">" in it: only ever compared)', () => {
    const entry = 'Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-13-amd64';
    const d = decodeTrial(trialText(R, { entry }), FILE);
    expect(d.ok && d.value.entry).toBe(entry);
  });

  it('a record without health, reason or seen fields (an older writer) reads them as null', () => {
    const {
      health: _h,
      reason: _r,
      seenRelease: _s,
      seenBootId: _b,
      failedAt: _f,
      ...rest
    } = JSON.parse(trialText(R)) as Record<string, unknown>;
    const d = decodeTrial(JSON.stringify(rest), FILE);
    expect(d.ok && d.value).toMatchObject({
      health: null,
      reason: null,
      seenRelease: null,
      seenBootId: null,
      failedAt: null,
    });
  });

  it('the health output is cut to its last MAX_HEALTH_OUTPUT characters, and the record still reads', () => {
    const output = `${'early line\n'.repeat(500)}the end: exit 3\n`;
    expect(output.length).toBeGreaterThan(MAX_HEALTH_OUTPUT);
    const text = encodeTrial(trialData(R, { ...FAILED, health: { command: 'check', code: 3, output } }));
    const d = decodeTrial(text, FILE);
    if (!d.ok) throw new Error(d.error);
    expect(d.value.health?.output).toHaveLength(MAX_HEALTH_OUTPUT);
    expect(d.value.health?.output).toBe(output.slice(-MAX_HEALTH_OUTPUT));
    expect(d.value.health?.output.endsWith('the end: exit 3\n')).toBe(true);
  });
  it('what a failed health check printed, NUL bytes included, still gives a record that reads back', () => {
    // A health check may print anything (`cat` of a binary file, a tool's NUL-separated output).
    // A record the decoder refuses is reported in the facts' errors and otherwise ignored: the
    // next plan would arm the failed trial again.
    const output = 'status\u0000degraded\u0000\n';
    const d = decodeTrial(
      encodeTrial(trialData(R, { ...FAILED, health: { command: 'c', code: 1, output } })),
      FILE,
    );
    if (!d.ok) throw new Error(d.error);
    expect(d.value.health?.output).not.toContain('\u0000');
    expect(d.value.health?.output).toMatch(/^status.degraded.\n$/);
  });

  it('a health command longer than a record field is cut, not a reason to refuse the record', () => {
    const command = `set -e\n${'test -e /run/ready-flag || exit 1\n'.repeat(200)}`;
    expect(command.length).toBeGreaterThan(MAX_HEALTH_OUTPUT);
    const d = decodeTrial(
      encodeTrial(trialData(R, { ...FAILED, health: { command, code: 1, output: '' } })),
      FILE,
    );
    if (!d.ok) throw new Error(d.error);
    expect(d.value.health?.command).toBe(command.slice(0, MAX_HEALTH_OUTPUT));
  });
});

describe('refusals', () => {
  it('not JSON, truncated, not an object', () => {
    expect(refusal(decodeTrial('{"trialVersion": 1, "state": x}', FILE))).toMatch(/^not valid JSON: /);
    expect(refusal(decodeTrial(trialText(R).slice(0, 40), FILE))).toMatch(/^truncated JSON: /);
    expect(refusal(decodeTrial('', FILE))).toBe('truncated JSON: the file is empty');
    expect(refusal(decodeTrial('["armed"]', FILE))).toBe('not a JSON object but an array');
  });

  it('a state other than armed or failed', () => {
    expect(refusal(decodeTrial(edited('state', 'passed'), FILE))).toBe(
      "state 'passed' is not 'armed' or 'failed'",
    );
    expect(refusal(decodeTrial(edited('state', undefined), FILE))).toMatch(/^state .* is not 'armed'/);
  });

  it('a release that is not the file name, or not a release', () => {
    expect(refusal(decodeTrial(trialText(R), '6.1.119-web-kff0ca3e73.json'))).toBe(
      `release field '${R}' does not match the file name '6.1.119-web-kff0ca3e73.json'`,
    );
    expect(refusal(decodeTrial(edited('release', '../../etc'), FILE))).toMatch(/is not a kernel release/);
    expect(refusal(decodeTrial(trialText(R), `x/${FILE}`))).toMatch(/not the name of a \.json file/);
  });

  it('a boot id that is not a UUID as the kernel prints it, armed or seen', () => {
    for (const id of ['not-a-boot-id', BOOT_A.toUpperCase(), `${BOOT_A}\n`, '', 42])
      expect(refusal(decodeTrial(edited('bootId', id), FILE))).toMatch(/^bootId .* is not a boot id$/);
    expect(refusal(decodeTrial(edited('seenBootId', 'x', FAILED), FILE))).toBe(
      "seenBootId 'x' is not a boot id",
    );
  });

  it('a newer, missing or nonsense format version, checked before the fields', () => {
    expect(refusal(decodeTrial(edited('trialVersion', TRIAL_VERSION + 1), FILE))).toBe(
      `trialVersion ${TRIAL_VERSION + 1} is newer than this kernelfile understands (${TRIAL_VERSION})`,
    );
    expect(refusal(decodeTrial(edited('trialVersion', undefined), FILE))).toBe('trialVersion is missing');
    expect(refusal(decodeTrial(edited('trialVersion', 0), FILE))).toMatch(/is not a format version/);
    // A newer format may have changed what `state` means: the version is what is reported.
    expect(refusal(decodeTrial('{"trialVersion": 2, "state": "quarantined"}', FILE))).toMatch(/newer/);
  });

  it('a file larger than MAX_TRIAL_CHARS, before it is parsed', () => {
    const huge = `${trialText(R).slice(0, -2)}, "pad": "${'x'.repeat(MAX_TRIAL_CHARS)}"}`;
    expect(refusal(decodeTrial(huge, FILE))).toBe(
      `larger than ${MAX_TRIAL_CHARS} characters (${huge.length})`,
    );
  });

  it('NUL bytes in any text field; line breaks where one line is expected', () => {
    expect(refusal(decodeTrial(edited('reason', 'a\u0000b', FAILED), FILE))).toBe(
      "reason 'a\\u0000b' contains a NUL byte",
    );
    const health = { command: 'c', code: 1, output: 'x\u0000' };
    expect(refusal(decodeTrial(edited('health', health, FAILED), FILE))).toMatch(/^health\.output .* NUL/);
    expect(refusal(decodeTrial(edited('cmdline', 'ro\nquiet'), FILE))).toBe(
      "cmdline 'ro\\nquiet' contains a line break",
    );
    expect(refusal(decodeTrial(edited('failedAt', '2026-12-02\r', FAILED), FILE))).toMatch(/line break/);
    expect(refusal(decodeTrial(edited('seenRelease', '6.1\n', FAILED), FILE))).toMatch(/line break/);
  });

  it('field types: entry, cmdline, health', () => {
    expect(refusal(decodeTrial(edited('entry', 42), FILE))).toBe('entry must be a string, not a number');
    expect(refusal(decodeTrial(edited('entry', 'a\nb'), FILE))).toBe("entry 'a\\nb' contains a line break");
    expect(refusal(decodeTrial(edited('cmdline', null), FILE))).toBe('cmdline must be a string, not null');
    expect(refusal(decodeTrial(edited('health', 'failed', FAILED), FILE))).toBe(
      'health must be an object, not a string',
    );
    for (const code of [1.5, '1', -0.5])
      expect(
        refusal(decodeTrial(edited('health', { command: 'c', code, output: '' }, FAILED), FILE)),
      ).toMatch(/^health\.code .* is not an exit status$/);
  });

  it('messages show a hostile value escaped and cut short', () => {
    const e = refusal(decodeTrial(edited('state', `\u001b[31m${'x'.repeat(200)}`), FILE));
    expect(e).not.toContain('\u001b');
    expect(e.length).toBeLessThan(140);
  });
});

describe('facts', () => {
  it('receipts: trials/*.json are decoded into trials; refused, unreadable and odd ones are errors', () => {
    const other = '6.1.121-web-kf0badc0de';
    const f = receipts.parse({
      'trials-dir': `f ${FILE}\nf 6.1.118-web-kf1.json\nf 6.1.117-web-kf2.json\nd 6.1.116-web-kf3.json\nf notes.txt\nf ${other}.json\n`,
      [`trial:${FILE}`]: trialText(R),
      'trial:6.1.118-web-kf1.json': edited('state', 'passed'),
      [`trial:${other}.json`]: trialText(other, FAILED),
    });
    expect(f.trials).toEqual([
      { file: trialPath(R), release: R, data: { trialVersion: 1, ...trialData(R) } },
      { file: trialPath(other), release: other, data: { trialVersion: 1, ...trialData(other, FAILED) } },
    ]);
    expect(f.errors).toEqual([
      { file: `${TRIALS_DIR}/6.1.116-web-kf3.json`, error: 'not a regular file (dir)' },
      { file: `${TRIALS_DIR}/6.1.117-web-kf2.json`, error: 'not readable by the gathering user' },
      { file: `${TRIALS_DIR}/6.1.118-web-kf1.json`, error: "state 'passed' is not 'armed' or 'failed'" },
    ]);
    expect(f.receipts).toEqual([]);
    expect(f.pending).toEqual([]);
  });

  it('receipts: a trial record whose release is not its file name is refused, not filed under either', () => {
    const f = receipts.parse({ 'trial:6.1.1-x.json': trialText(R) });
    expect(f.trials).toEqual([]);
    expect(f.errors).toEqual([
      { file: `${TRIALS_DIR}/6.1.1-x.json`, error: expect.stringMatching(/does not match the file name/) },
    ]);
  });

  it('receipts: the script lists and reads the trials directory', () => {
    expect(receipts.script).toContain(`kf_ls trials-dir ${TRIALS_DIR}`);
    expect(receipts.script).toContain(`${TRIALS_DIR}/*.json`);
  });

  describe('system: the boot id', () => {
    const base = fixtureSections('system', 'debian12-grub');

    it('a UUID (as /proc prints it, with its newline) is the boot id', () => {
      expect(base['boot-id']).toBeUndefined();
      expect(system.parse({ ...base, 'boot-id': `${BOOT_A}\n` }).bootId).toBe(BOOT_A);
    });

    it('anything else is null: absent, empty, junk, a UUID in upper case, a second line', () => {
      expect(system.parse(base).bootId).toBeNull();
      for (const junk of ['', '\n', 'boot-1\n', `${BOOT_A.toUpperCase()}\n`, `${BOOT_A}x\n`, `x${BOOT_A}`])
        expect(system.parse({ ...base, 'boot-id': junk }).bootId, JSON.stringify(junk)).toBeNull();
      expect(system.parse({ ...base, 'boot-id': `\n${BOOT_A}\n` }).bootId).toBeNull();
    });

    it('an image runs no kernel: null, even if a boot id were printed', () => {
      const image = { ...base, image: '1', 'boot-id': `${BOOT_A}\n` };
      expect(system.parse(image).bootId).toBeNull();
      expect(system.script).toMatch(
        /if \[ -z "\$\{kf_image-\}" \]; then[^\n]*boot-id \/proc\/sys\/kernel\/random\/boot_id/,
      );
    });
  });
});
