/**
 * Attribute-level updates: an update lists every attribute it changes (`~ cmdline: "a" → "b"`),
 * in the plan data, the text and the JSON; host values in them are escaped when shown; a saved
 * plan without attributes (made before them) still reads, one with malformed ones does not.
 */
import { describe, expect, it } from 'vitest';
import { parseSavedPlan } from '../../../src/plan/planfile.js';
import { plan } from '../../../src/plan/planner.js';
import type { Change, HostPlan, SavedHostPlan } from '../../../src/plan/types.js';
import { attributeLine, printable, showValue } from '../../../src/render/escape.js';
import { planFile, planJson } from '../../../src/render/plan-json.js';
import { renderHostPlan } from '../../../src/render/plan-text.js';
import { plain } from '../../../src/render/style.js';
import { TEST_STAMP, validDocument } from '../../helpers/json-schemas.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const byId = (p: HostPlan, prefix: string): Change => {
  const c = p.changes.find((x) => x.id.startsWith(prefix));
  if (!c) throw new Error(`no change ${prefix} in ${p.changes.map((x) => x.id).join(', ')}`);
  return c;
};

describe('attribute values as shown', () => {
  it('strings quoted, lists in brackets (long ones counted), null as (none)', () => {
    expect(showValue('ro quiet')).toBe('"ro quiet"');
    expect(showValue(['a', 'b'])).toBe('["a", "b"]');
    expect(showValue([])).toBe('[]');
    expect(showValue(null)).toBe('(none)');
    expect(showValue(true)).toBe('true');
    expect(showValue(Array.from({ length: 10 }, (_, i) => `m${i}`))).toBe(
      '["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", … 2 more]',
    );
  });

  it('control characters, bidi overrides, quotes and backslashes are escaped', () => {
    expect(showValue('a"b\\c\n\u001b[31mred\u202egnp.exe')).toBe('"a\\"b\\\\c\\n\\x1b[31mred\\u202egnp.exe"');
    expect(printable('tab\there\u0085\u2028')).toBe('tab\\there\\x85\\u2028');
    expect(printable('plain ✓ text')).toBe('plain ✓ text');
  });

  it('the symbol follows the values: + set, - removed, ~ changed', () => {
    expect(attributeLine({ name: 'trial', before: null, after: 'e1' })).toBe('+ trial: "e1"');
    expect(attributeLine({ name: 'root', before: 'UUID=x', after: null })).toBe('- root: "UUID=x"');
    expect(attributeLine({ name: 'cmdline', before: 'a', after: 'b' })).toBe('~ cmdline: "a" → "b"');
  });
});

describe('updates list every changed attribute', () => {
  it('a boot entry: title, cmdline and root, each once, in the text and the JSON', () => {
    const c = loadCase('entry-changed');
    const p = plan(c.desired, c.facts, planOptions(c.facts));
    const entry = byId(p, 'boot-entry[');
    expect(entry.action).toBe('update');
    expect(entry.attributes.map((a) => a.name)).toEqual(['title', 'cmdline', 'root']);
    expect(entry.attributes.find((a) => a.name === 'root')).toEqual({
      name: 'root',
      before: 'UUID=8c2f5d0e-3b7a-4c1e-9f4d-2a6b1c0d9e71',
      after: 'LABEL=web-root',
    });
    expect(byId(p, 'initramfs[').attributes).toEqual([
      { name: 'modules', before: ['kernelfile_hello'], after: ['kernelfile_hello', 'virtio_blk'] },
    ]);
    const json = validDocument('plan', planJson(planFile({ ...c.kernelfile, name: 'web' }, [p]), TEST_STAMP));
    expect(json.hosts[0]?.changes.find((x) => x.id.startsWith('boot-entry['))?.attributes).toEqual(
      entry.attributes,
    );
  });

  it('a title from the host with control characters is escaped in the text, kept as data in the JSON', () => {
    const c = loadCase('entry-changed');
    const facts = structuredClone(c.facts);
    const have = facts.boot.entries.find((e) => e.id.startsWith('kernelfile-'));
    if (!have) throw new Error('no kernelfile entry in the fixture');
    have.title = 'Debian\u001b]0;owned\u0007 | `x` <b>';
    const p = plan(c.desired, facts, planOptions(facts));
    const text = renderHostPlan(p, { style: plain, configDiff: 'none' });
    expect(text).toContain('~ title: "Debian\\x1b]0;owned\\x07 | `x` <b>" → "web 6.1.119-web-kff0ca3e73"');
    expect([...text].filter((ch) => ch < ' ' && ch !== '\n')).toEqual([]);
    expect(byId(p, 'boot-entry[').attributes[0]?.before).toBe(have.title);
  });

  it('a kernel installed from another build of the same release: an update of its build id', () => {
    const c = loadCase('converged');
    const facts = structuredClone(c.facts);
    const receipt = facts.receipts.receipts.find((r) => r.release === c.desired.release);
    if (!receipt) throw new Error('no receipt in the fixture');
    const other = `${c.desired.buildId.slice(0, 8)}${'0'.repeat(56)}`;
    receipt.data = { ...receipt.data, buildId: other };
    const p = plan(c.desired, facts, planOptions(facts));
    const kernel = byId(p, 'kernel[');
    expect(kernel.action).toBe('update');
    expect(kernel.attributes).toEqual([{ name: 'build id', before: other, after: c.desired.buildId }]);
    expect(kernel.steps.map((s) => s.kind)).toEqual(['build', 'ship', 'run', 'run']);
  });

  it('an initramfs made by another generator: an update naming the generator and the image', () => {
    const c = loadCase('converged');
    const facts = structuredClone(c.facts);
    const r = c.desired.release;
    const k = facts.kernels.find((x) => x.release === r);
    if (!k) throw new Error('no kernel in the fixture');
    k.initramfs = `/boot/initramfs-${r}.img`;
    const p = plan(c.desired, facts, planOptions(facts));
    const initramfs = byId(p, 'initramfs[');
    expect(initramfs.action).toBe('update');
    expect(initramfs.attributes).toEqual([
      { name: 'generator', before: 'dracut or mkinitcpio', after: 'initramfs-tools' },
      { name: 'image', before: `/boot/initramfs-${r}.img`, after: `/boot/initrd.img-${r}` },
    ]);
    // made anew (update-initramfs -c), as a create was
    expect(
      initramfs.steps.some((s) => s.kind === 'run' && s.argv.join(' ') === `update-initramfs -c -k ${r}`),
    ).toBe(true);
  });

  it('a DKMS module of another version: one update, new version installed before the old is removed', () => {
    const c = loadCase('dkms-upgraded');
    const p = plan(c.desired, c.facts, planOptions(c.facts));
    const m = byId(p, 'dkms-module[acpi-call/');
    expect(m.id).toBe(`dkms-module[acpi-call/1.2.3@${c.desired.release}]`);
    expect(m.action).toBe('update');
    expect(m.attributes).toEqual([{ name: 'version', before: '1.2.2', after: '1.2.3' }]);
    expect(m.steps.map((s) => s.title).at(-1)).toBe(`dkms remove acpi-call/1.2.2 from ${c.desired.release}`);
    expect(p.changes.some((x) => x.action === 'delete')).toBe(false);
  });

  it('changes that are not updates of attributes carry none', () => {
    const c = loadCase('fresh-grub');
    const p = plan(c.desired, c.facts, planOptions(c.facts));
    for (const x of p.changes.filter((y) => y.resource !== 'default-entry')) expect(x.attributes).toEqual([]);
  });
});

describe('saved plans and attributes', () => {
  const saved = (changes: unknown[]) =>
    JSON.stringify({
      formatVersion: 2,
      kind: 'kernelfile-plan',
      inventory: null,
      limit: null,
      hosts: [
        {
          name: 'local',
          state: 'changes pending',
          connection: { host: 'local', sudo: false },
          kernelfile: { path: 'kernelfile.yaml', sha256: 'a'.repeat(64), name: 'n' },
          plan: {
            host: 'local',
            factsDigest: 'd',
            factsFamilies: {},
            changes,
            problems: [],
            summary: { release: 'r', buildId: 'b' },
          },
        },
      ],
    });
  const change = { id: 'kernel[r]', resource: 'kernel', action: 'create', steps: [] };

  it('a plan saved before attributes existed reads, with none', () => {
    const host = parseSavedPlan(saved([change])).hosts[0] as SavedHostPlan;
    expect(host.plan.changes[0]?.attributes).toEqual([]);
  });

  it('malformed attributes are refused, naming the change', () => {
    expect(() => parseSavedPlan(saved([{ ...change, attributes: [{ name: 1 }] }]))).toThrow(
      'incomplete or invalid plan: hosts[0] (local).plan.changes[0]: change kernel[r] has attributes that are not {name, before, after}',
    );
    expect(() => parseSavedPlan(saved([{ ...change, attributes: 'x' }]))).toThrow(/attributes/);
  });
});
