/**
 * A kernel adopted by `kernelfile import --adopt` (receiptVersion 2, no build id) as the planner
 * treats it: the host's own kernel, recorded as the kernelfile's. The plan installs the build
 * beside it and says so, compares the new config with the adopted kernel's, never prunes it (also
 * beyond boot.keep, once it is neither running nor the default), and rollback can return to it.
 * Host: the golden case fresh-grub (Debian 12 running 6.1.0-18-amd64, nothing of kernelfile's).
 */
import { describe, expect, it } from 'vitest';
import type { HostFacts, ReceiptRecord } from '../../../src/facts/types.js';
import { plan } from '../../../src/plan/planner.js';
import { keptKernels, rollbackChoice } from '../../../src/plan/rollback.js';
import { decodeReceipt } from '../../../src/receipt/decode.js';
import { encodeAdoptedReceipt } from '../../../src/receipt/encode.js';
import { installedConfig, loadCase, planOptions, withDigest } from '../../helpers/plan-fixtures.js';

const CASE = loadCase('fresh-grub');
const ADOPTED = '6.1.0-18-amd64';

function adoptedReceipt(release: string, name: string, entries: string[]): ReceiptRecord {
  const text = encodeAdoptedReceipt(
    {
      name,
      kernelfile: { path: 'kernelfile.yaml', sha256: 'a'.repeat(64) },
      release,
      version: '6.1.76',
      arch: 'x86_64',
      modules: [],
      initramfs: `/boot/initrd.img-${release}`,
      initramfsModules: [],
      entries,
      loader: null,
    },
    [{ path: `/boot/vmlinuz-${release}`, sha256: 'c'.repeat(64), size: 8421568 }],
    '2025-02-01T08:00:00Z',
    CASE.facts.host,
  );
  const d = decodeReceipt(text, `${release}.json`);
  if (!d.ok) throw new Error(d.error);
  return { file: `/var/lib/kernelfile/${release}.json`, release, data: d.value, drift: [] };
}

function adoptedHost(edit?: (f: HostFacts) => void, release = ADOPTED, name = 'web'): HostFacts {
  const f = structuredClone(CASE.facts);
  const entries = f.boot.entries.filter((e) => e.release === release).map((e) => e.id);
  f.receipts = { ...f.receipts, receipts: [adoptedReceipt(release, name, entries)] };
  installedConfig(f, release, f.config.options);
  edit?.(f);
  return withDigest(f);
}

const planOf = (f: HostFacts, desired = CASE.desired) => plan(desired, f, planOptions(f));

describe('a plan on a host whose running kernel was adopted', () => {
  it('installs the build beside the adopted kernel, and says so', () => {
    const p = planOf(adoptedHost());
    const kernel = p.changes.find((c) => c.resource === 'kernel');
    expect(kernel).toMatchObject({ action: 'create', after: CASE.desired.release });
    expect(kernel?.reason).toContain(
      `installed beside ${ADOPTED} (the kernel adopted by kernelfile import), which stays`,
    );
    expect(p.changes.filter((c) => c.resource === 'prune')).toEqual([]);
    expect(p.notes).toContain(
      `${ADOPTED} was adopted (kernelfile import --adopt): kernelfile did not build it and never removes it; remove it by hand when it is no longer wanted`,
    );
    expect(p.problems).toEqual([]);
  });

  it('without an adoption the same plan is a plain install (the note and reason come from the receipt)', () => {
    const p = planOf(CASE.facts);
    expect(p.changes.find((c) => c.resource === 'kernel')?.reason).not.toContain('adopted');
    expect(p.notes.join('\n')).not.toContain('adopted');
  });

  it('compares the new config with the adopted kernel’s', () => {
    const p = planOf(adoptedHost());
    expect(p.config).toMatchObject({
      base: 'installed',
      from: `/boot/config-${ADOPTED} (adopted by kernelfile import, not built by kernelfile)`,
      release: ADOPTED,
      buildId: null,
      fallback: null,
    });
  });

  it('never prunes it, even beyond boot.keep once it is neither running nor the default', () => {
    const other = CASE.facts.boot.entries.find((e) => e.release === '6.1.0-13-amd64');
    const f = adoptedHost((x) => {
      x.system = { ...x.system, running: '6.1.0-13-amd64' };
      x.boot = { ...x.boot, default: other?.id ?? null };
    });
    const desired = { ...CASE.desired, boot: { ...CASE.desired.boot, keep: 1 } };
    const p = planOf(f, desired);
    expect(p.changes.filter((c) => c.resource === 'prune')).toEqual([]);
    expect(p.notes.some((n) => n.startsWith(`${ADOPTED} was adopted`))).toBe(true);
    expect(p.notes.some((n) => n.includes('beyond boot.keep'))).toBe(false);
  });

  it('is a kept kernel that rollback can return to', () => {
    const f = adoptedHost();
    expect(keptKernels('web', f).map((k) => k.release)).toEqual([ADOPTED]);
    // It is the default now: nothing to roll back to until the build is the default.
    expect(rollbackChoice('web', f)).toBeNull();
    const other = f.boot.entries.find((e) => e.release === '6.1.0-13-amd64');
    const moved = withDigest({ ...f, boot: { ...f.boot, default: other?.id ?? null } });
    expect(rollbackChoice('web', moved)).toBe(ADOPTED);
    // Another kernelfile's adoption is not this one's.
    expect(keptKernels('db', f)).toEqual([]);
  });

  it('an adopted kernel of the very release the build makes is reinstalled from the build, and says why', () => {
    const r = CASE.desired.release;
    const f = adoptedHost(undefined, r);
    const kernel = planOf(f).changes.find((c) => c.resource === 'kernel');
    expect(kernel).toMatchObject({ action: 'update' });
    expect(kernel?.reason).toBe(
      `${r} was adopted (kernelfile import --adopt), not built by kernelfile: reinstalled from build ${CASE.desired.buildId.slice(0, 12)}`,
    );
    expect(kernel?.attributes).toEqual([{ name: 'build id', before: null, after: CASE.desired.buildId }]);
  });
});
