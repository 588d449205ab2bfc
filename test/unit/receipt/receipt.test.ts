/** src/receipt: what apply writes reads back the same; what a host cannot be trusted with is refused. */
import { describe, expect, it } from 'vitest';
import { receipts } from '../../../src/facts/receipts.js';
import { decodeJournal, decodeReceipt, MAX_RECEIPT_CHARS } from '../../../src/receipt/decode.js';
import { encodeAdoptedReceipt, encodeReceipt, installedFiles, sidecar } from '../../../src/receipt/encode.js';
import { scanJson } from '../../../src/receipt/json-scan.js';
import { configPath, imagePath, modulesDir, systemMapPath } from '../../../src/resources/layout.js';
import {
  BUILD_ID,
  journal,
  journalText,
  receiptData,
  receiptFiles,
  receiptText,
} from '../../helpers/receipt-text.js';

const R = '6.1.192-kf3f9a2c1d';
const FILE = `${R}.json`;
const layout = { imagePath, systemMapPath, configPath, modulesDir };

/** The receipt's JSON with one field replaced (or removed: undefined). */
function edited(key: string, value: unknown): string {
  const o = JSON.parse(receiptText(R)) as Record<string, unknown>;
  o[key] = value;
  return JSON.stringify(o);
}

function refusal(d: { ok: true } | { ok: false; error: string }): string {
  if (d.ok) throw new Error('accepted');
  return d.error;
}

describe('encode → decode', () => {
  it('a receipt reads back as written', () => {
    const text = receiptText(R);
    expect(decodeReceipt(text, FILE)).toEqual({
      ok: true,
      value: {
        receiptVersion: 1,
        ...receiptData(R),
        installedAt: '2025-01-20T10:16:41Z',
        host: 'local',
        files: receiptFiles(R),
      },
    });
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('a journal reads back as written; its version 1 has no version field', () => {
    const text = journalText(R);
    expect(Object.keys(JSON.parse(text))).toEqual(['release', 'buildId', 'name', 'startedAt', 'host']);
    expect(decodeJournal(text, FILE)).toEqual({ ok: true, value: journal(R) });
  });

  it('installedFiles: the /boot files and the modules, not depmod indexes; sorted; the sidecar lists them', () => {
    const f = (path: string, c: string) => ({ path, sha256: c.repeat(64), size: 1 });
    const files = installedFiles(
      {
        release: R,
        files: [
          f(`modules/lib/modules/${R}/kernel/a.ko.xz`, '1'),
          f(`modules/lib/modules/${R}/modules.dep`, '2'),
          f('vmlinuz', '3'),
          f('System.map', '4'),
          f('config', '5'),
          f('headers.tar', '6'),
          f(`modules/lib/modules/${R}/extra/b.ko`, '7'),
        ],
      },
      layout,
    );
    expect(files.map((x) => x.path)).toEqual([
      `/boot/System.map-${R}`,
      `/boot/config-${R}`,
      `/boot/vmlinuz-${R}`,
      `/lib/modules/${R}/extra/b.ko`,
      `/lib/modules/${R}/kernel/a.ko.xz`,
    ]);
    expect(sidecar(files).split('\n')[0]).toBe(`${'4'.repeat(64)}  /boot/System.map-${R}`);
    const text = encodeReceipt(receiptData(R), files, 'now', 'local');
    expect(decodeReceipt(text, FILE).ok && decodeReceipt(text, FILE)).toMatchObject({ value: { files } });
  });

  it('fields this kernelfile does not know are left out', () => {
    const d = decodeReceipt(edited('comment', 'hand-written'), FILE);
    expect(d.ok && 'comment' in d.value).toBe(false);
  });
});

describe('adopted kernels (receiptVersion 2, kernelfile import --adopt)', () => {
  const A = '6.18.44-fc-v1045';
  const { buildId: _, ...data } = receiptData(A, { entries: [], loader: null, initramfs: null });
  const text = encodeAdoptedReceipt(data, receiptFiles(A), '2025-02-01T08:00:00Z', 'ssh://root@web-1:22');
  const obj = () => JSON.parse(text) as Record<string, unknown>;

  it('reads back as written: version 2, no build id, adopted', () => {
    expect(obj()).toMatchObject({ receiptVersion: 2, buildId: null, adopted: true });
    expect(decodeReceipt(text, `${A}.json`)).toEqual({
      ok: true,
      value: {
        receiptVersion: 2,
        ...data,
        buildId: null,
        adopted: true,
        installedAt: '2025-02-01T08:00:00Z',
        host: 'ssh://root@web-1:22',
        files: receiptFiles(A),
      },
    });
  });

  it('a build receipt is still written as version 1, with no `adopted` field', () => {
    const built = JSON.parse(receiptText(R)) as Record<string, unknown>;
    expect(built.receiptVersion).toBe(1);
    expect('adopted' in built).toBe(false);
    const d = decodeReceipt(receiptText(R), FILE);
    expect(d.ok && 'adopted' in d.value).toBe(false);
  });

  it('refused: an adopted kernel claiming a build id, a build without one, a nonsense flag', () => {
    const with_ = (k: string, v: unknown) => JSON.stringify({ ...obj(), [k]: v });
    expect(refusal(decodeReceipt(with_('buildId', BUILD_ID), `${A}.json`))).toBe(
      `buildId '${BUILD_ID}' of an adopted kernel must be null`,
    );
    expect(refusal(decodeReceipt(with_('adopted', false), `${A}.json`))).toMatch(
      /^buildId 'null' is not a build id/,
    );
    expect(refusal(decodeReceipt(with_('adopted', 'yes'), `${A}.json`))).toBe(
      "adopted 'yes' is not true or false",
    );
  });

  it('version 1 knows no `adopted`: a version 1 receipt saying so still needs its build id', () => {
    const v1 = JSON.stringify({ ...obj(), receiptVersion: 1 });
    expect(refusal(decodeReceipt(v1, `${A}.json`))).toMatch(/^buildId 'null' is not a build id/);
  });
});

describe('refusals', () => {
  it('truncated: a receipt cut anywhere is truncated JSON, not invalid', () => {
    const text = receiptText(R);
    for (const cut of [1, 10, 57, 200, text.length - 3, text.length - 2])
      expect(refusal(decodeReceipt(text.slice(0, cut), FILE)), `cut at ${cut}`).toMatch(/^truncated JSON: /);
    expect(refusal(decodeReceipt('', FILE))).toBe('truncated JSON: the file is empty');
    expect(refusal(decodeJournal('{"release":"6.1.192-kf3f9a2c1d","st', FILE))).toMatch(/^truncated JSON/);
  });

  it('malformed JSON is not called truncated', () => {
    expect(refusal(decodeReceipt('{"a": x, "b": [', FILE))).toMatch(/^not valid JSON: /);
    expect(refusal(decodeReceipt('{"a": 1} trailing', FILE))).toMatch(/^not valid JSON: /);
    expect(scanJson('[1, 2, {"a": [tr')).toBe('truncated');
    expect(scanJson('[1, 2, {"a": [tx')).toBe('malformed');
    expect(scanJson('"\\u00')).toBe('truncated');
    expect(scanJson('{"a":1}')).toBe('complete');
    expect(scanJson('['.repeat(100000))).toBe('truncated'); // no recursion to overflow
  });

  it('a newer or a nonsense format version', () => {
    expect(refusal(decodeReceipt(edited('receiptVersion', 7), FILE))).toBe(
      'receiptVersion 7 is newer than this kernelfile understands (2)',
    );
    expect(refusal(decodeReceipt(edited('receiptVersion', undefined), FILE))).toBe(
      'receiptVersion is missing',
    );
    expect(refusal(decodeReceipt(edited('receiptVersion', '1'), FILE))).toMatch(/is not a format version/);
    const j = JSON.stringify({ journalVersion: 2, ...journal(R) });
    expect(refusal(decodeJournal(j, FILE))).toBe(
      'journalVersion 2 is newer than this kernelfile understands (1)',
    );
  });

  it('the version is checked before the fields a newer format may have changed', () => {
    expect(refusal(decodeReceipt('{"receiptVersion": 3, "files": "elsewhere"}', FILE))).toMatch(/newer/);
  });

  it('a hostile release: path traversal, or not the file name', () => {
    expect(refusal(decodeReceipt(edited('release', '../../etc'), FILE))).toBe(
      "release '../../etc' is not a kernel release (letters, digits and '._+~-')",
    );
    expect(refusal(decodeReceipt(receiptText('../../etc'), '../../etc.json'))).toMatch(
      /not the name of a .json/,
    );
    expect(refusal(decodeReceipt(edited('release', '6.1.1-other'), FILE))).toBe(
      `release field '6.1.1-other' does not match the file name '${FILE}'`,
    );
    expect(refusal(decodeJournal(journalText('..'), '...json'))).toMatch(/is not a kernel release/);
    expect(refusal(decodeJournal(journalText(`${R}\n`), FILE))).toMatch(/line break/);
  });

  it('a build id that is not lowercase hex (it names the staging directory apply removes)', () => {
    for (const id of [BUILD_ID.toUpperCase(), 'abc', `${'a'.repeat(63)}/`, '../..', 42])
      expect(refusal(decodeReceipt(edited('buildId', id), FILE))).toMatch(/^buildId .* is not a build id/);
    expect(refusal(decodeJournal(journalText(R, { buildId: '../../etc' }), FILE))).toBe(
      "buildId '../../etc' is not a build id (64 lowercase hex digits)",
    );
  });

  it('paths and names that reach a path or a command', () => {
    const files = (path: string) => [{ path, sha256: 'c'.repeat(64), size: 1 }];
    expect(refusal(decodeReceipt(edited('files', files('/boot/../etc/shadow')), FILE))).toBe(
      "files[0].path '/boot/../etc/shadow' is not an absolute path without '/..'",
    );
    expect(refusal(decodeReceipt(edited('files', files('boot/x')), FILE))).toMatch(/absolute path/);
    expect(refusal(decodeReceipt(edited('files', files('/boot/a\0b')), FILE))).toMatch(/NUL/);
    expect(refusal(decodeReceipt(edited('initramfs', '/boot/x\n/etc'), FILE))).toMatch(/line break/);
    expect(refusal(decodeReceipt(edited('modules', [{ name: '../x', version: '1' }]), FILE))).toMatch(
      /^modules\[0\]\.name '\.\.\/x' is not a plain name/,
    );
    expect(refusal(decodeReceipt(edited('entries', ['-rf']), FILE))).toMatch(/not a plain name/);
  });

  it('field types', () => {
    expect(refusal(decodeReceipt(edited('name', 42), FILE))).toBe('name must be a string, not a number');
    expect(refusal(decodeReceipt(edited('modules', {}), FILE))).toBe(
      'modules must be an array, not an object',
    );
    expect(refusal(decodeReceipt(edited('kernelfile', null), FILE))).toBe(
      'kernelfile must be an object, not null',
    );
    expect(
      refusal(decodeReceipt(edited('files', [{ path: '/a', sha256: 'c'.repeat(64), size: -1 }]), FILE)),
    ).toBe("files[0].size '-1' is not a size in bytes");
    expect(refusal(decodeReceipt('[]', FILE))).toBe('not a JSON object but an array');
    expect(refusal(decodeReceipt('null', FILE))).toBe('not a JSON object but null');
  });

  it('a huge file, refused before it is parsed', () => {
    const huge = `${receiptText(R).slice(0, -2)}, "pad": "${'x'.repeat(MAX_RECEIPT_CHARS)}"}`;
    expect(refusal(decodeReceipt(huge, FILE))).toBe(
      `larger than ${MAX_RECEIPT_CHARS} characters (${huge.length})`,
    );
    expect(refusal(decodeJournal(' '.repeat(65 * 1024) + journalText(R), FILE))).toMatch(/^larger than/);
  });

  it('messages show a hostile value escaped and cut short', () => {
    const e = refusal(decodeReceipt(edited('release', `\u001b[31m${'x'.repeat(200)}`), FILE));
    expect(e).not.toContain('\u001b');
    expect(e.length).toBeLessThan(200);
  });
});

describe('facts', () => {
  it('a truncated receipt is reported as corrupt, not taken for a receipt or an apply under way', () => {
    const f = receipts.parse({
      dir: `f ${R}.json\nd pending\n`,
      [`file:${R}.json`]: receiptText(R).slice(0, 300),
      'pending-dir': '',
    });
    expect(f.receipts).toEqual([]);
    expect(f.pending).toEqual([]);
    expect(f.errors).toEqual([
      { file: `/var/lib/kernelfile/${R}.json`, error: expect.stringMatching(/^truncated JSON: /) },
    ]);
  });

  it('a receipt of a newer kernelfile is an error, named as such', () => {
    const f = receipts.parse({ [`file:${R}.json`]: edited('receiptVersion', 3) });
    expect(f.receipts).toEqual([]);
    expect(f.errors[0]?.error).toBe('receiptVersion 3 is newer than this kernelfile understands (2)');
  });

  it('valid ones are typed records', () => {
    const f = receipts.parse({ [`file:${R}.json`]: receiptText(R), [`pending:${R}.json`]: journalText(R) });
    expect(f.receipts[0]?.data.buildId).toBe(BUILD_ID);
    expect(f.pending[0]?.data).toEqual(journal(R));
    expect(f.errors).toEqual([]);
  });
});
