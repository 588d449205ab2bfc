/** Receipts: drift against the sha256sum sidecar, and the journals of applies under way. */
import { describe, expect, it } from 'vitest';
import { parseDrift, receipts, sidecarPaths } from '../../../src/facts/receipts.js';
import { journal, journalText, receiptText } from '../../helpers/receipt-text.js';
import { fixtureSections } from './fixtures.js';

const H = (c: string) => c.repeat(64);
const R = '6.1.192-kf3f9a2c1d';
const sidecar = `${H('a')}  /boot/vmlinuz-${R}\n${H('b')}  /boot/System.map-${R}\n${H('c')}  /lib/modules/${R}/updates/my module.ko\n`;
const receipt = (extra: Record<string, string>) =>
  receipts.parse({ [`file:${R}.json`]: receiptText(R), [`sidecar:${R}.sha256`]: sidecar, ...extra });
const drift = (extra: Record<string, string>) => receipt(extra).receipts[0]?.drift;

describe('receipt drift', () => {
  it('GNU sha256sum: FAILED and FAILED open or read are drift, in the sidecar order', () => {
    const check = `/boot/vmlinuz-${R}: FAILED open or read\n/boot/System.map-${R}: OK\n/lib/modules/${R}/updates/my module.ko: FAILED\n`;
    expect(drift({ [`check:${R}.sha256`]: check, [`check:${R}.sha256#rc`]: '1' })).toEqual([
      `/boot/vmlinuz-${R}`,
      `/lib/modules/${R}/updates/my module.ko`,
    ]);
  });

  it('busybox: FAILED for a missing file too; a listed file without any line has drifted', () => {
    const check = `/boot/vmlinuz-${R}: FAILED\n/boot/System.map-${R}: OK\n`;
    expect(drift({ [`check:${R}.sha256`]: check, [`check:${R}.sha256#rc`]: '1' })).toEqual([
      `/boot/vmlinuz-${R}`,
      `/lib/modules/${R}/updates/my module.ko`,
    ]);
  });

  it('every file OK: no drift', () => {
    const check = sidecarPaths(sidecar)
      .map((p) => `${p}: OK\n`)
      .join('');
    expect(drift({ [`check:${R}.sha256`]: check, [`check:${R}.sha256#rc`]: '0' })).toEqual([]);
  });

  it('null: no sidecar, no sha256sum, an exit status that says nothing about the files', () => {
    expect(receipts.parse({ [`file:${R}.json`]: receiptText(R) }).receipts[0]?.drift).toBeNull();
    expect(drift({})).toBeNull(); // sha256sum absent: kf_run printed nothing
    expect(drift({ [`check:${R}.sha256`]: '', [`check:${R}.sha256#rc`]: '2' })).toBeNull();
    expect(
      receipts.parse({
        [`file:${R}.json`]: receiptText(R),
        [`sidecar:${R}.sha256#denied`]: `/var/lib/kernelfile/${R}.sha256`,
      }).receipts[0]?.drift,
    ).toBeNull();
  });

  it('a sidecar without a receipt is ignored', () => {
    expect(receipts.parse({ [`sidecar:${R}.sha256`]: sidecar }).receipts).toEqual([]);
  });

  it('reads binary-mode lines, escaped names and relative paths; skips other lines; lists a path once', () => {
    const text = `${H('1')} */boot/a\n\\${H('2')}  /boot/b\\\\c\\nd\n${H('3')}  boot/rel\nnot a sum\n${H('4')}  /boot/a\n`;
    expect(sidecarPaths(text)).toEqual(['/boot/a', '/boot/b\\c\nd', '/boot/rel']);
    const check = '/boot/a: OK\n\\/boot/b\\\\c\\nd: OK\nboot/rel: FAILED\n';
    expect(parseDrift(text, check, 1)).toEqual(['/boot/rel']);
  });

  it('the real outputs of GNU coreutils and busybox give the same facts', () => {
    const gnu = receipts.parse(fixtureSections('receipts', 'drift'));
    expect(receipts.parse(fixtureSections('receipts', 'drift-busybox'))).toEqual(gnu);
    expect(gnu.receipts.map((r) => [r.release, r.drift])).toEqual([
      ['6.1.188-kf0a0b0c0d', null],
      ['6.1.190-kf1b2c3d4e', []],
      [R, [`/boot/System.map-${R}`, `/boot/initrd.img-${R}`]],
    ]);
  });
});

describe('pending applies', () => {
  it('are read like receipts, drift null; bad ones are errors', () => {
    const f = receipts.parse({
      'pending-dir':
        'f 6.1.193-kf1.json\nf 6.1.194-kf2.json\nf 6.1.195-kf3.json\nd 6.1.196-kf4.json\nf notes.txt\nf 6.1.197-kf5.json\n',
      'pending:6.1.193-kf1.json': journalText('6.1.193-kf1'),
      'pending:6.1.194-kf2.json': '{"st',
      'pending:6.1.197-kf5.json': journalText('6.1.197-kf5', { buildId: 'XYZ' }),
    });
    expect(f.pending).toEqual([
      {
        file: '/var/lib/kernelfile/pending/6.1.193-kf1.json',
        release: '6.1.193-kf1',
        data: journal('6.1.193-kf1'),
        drift: null,
      },
    ]);
    expect(f.receipts).toEqual([]);
    expect(f.errors).toEqual([
      {
        file: '/var/lib/kernelfile/pending/6.1.194-kf2.json',
        error: expect.stringMatching(/^truncated JSON: /),
      },
      { file: '/var/lib/kernelfile/pending/6.1.195-kf3.json', error: 'not readable by the gathering user' },
      { file: '/var/lib/kernelfile/pending/6.1.196-kf4.json', error: 'not a regular file (dir)' },
      {
        file: '/var/lib/kernelfile/pending/6.1.197-kf5.json',
        error: "buildId 'XYZ' is not a build id (64 lowercase hex digits)",
      },
    ]);
  });

  it('none: an empty list', () => {
    expect(receipts.parse({})).toEqual({ receipts: [], pending: [], trials: [], errors: [] });
  });
});
