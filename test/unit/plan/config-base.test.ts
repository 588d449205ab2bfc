/**
 * What the plan's Kconfig difference compares with (src/plan/config-diff.ts): the config of this
 * kernelfile's build installed on the host (its receipt, the config facts read for it) when there
 * is one, else the running kernel's; why an installed build's config was not used; and how the
 * text says it (src/render/plan-text.ts). Hosts: the golden cases changed-since-apply (web 6.1.119
 * applied, the host still on Debian's 6.1.0-18-amd64; the kernelfile now turns POSIX_MQUEUE off),
 * prune-running (web 6.1.117, 6.1.118 running, 6.1.119 newest) and fresh-grub (nothing installed).
 */
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../src/facts/types.js';
import { configBase, configDiff } from '../../../src/plan/config-diff.js';
import { plan } from '../../../src/plan/planner.js';
import type { ConfigDiff, HostPlan } from '../../../src/plan/types.js';
import { type ConfigDiffMode, renderHostPlan } from '../../../src/render/plan-text.js';
import { plain } from '../../../src/render/style.js';
import { installedConfig, loadCase, planOptions, withDigest } from '../../helpers/plan-fixtures.js';

type Case = ReturnType<typeof loadCase>;

function load(name: string, edit?: (f: HostFacts) => void): Case {
  const c = loadCase(name);
  const facts = structuredClone(c.facts);
  edit?.(facts);
  return { ...c, facts: withDigest(facts) };
}

const planOf = (c: Case): HostPlan => plan(c.desired, c.facts, planOptions(c.facts));
const text = (p: HostPlan, configDiff: ConfigDiffMode = 'summary') =>
  renderHostPlan(p, { style: plain, configDiff });
const kconfigLines = (t: string) => {
  const lines = t.split('\n');
  const i = lines.findIndex((l) => l.startsWith('  Kconfig'));
  const end = lines.findIndex((l, j) => j > i && !l.startsWith('    '));
  return lines.slice(i, end);
};
const symbols = (d: ConfigDiff) => ({
  added: d.added.map((x) => x.symbol),
  removed: d.removed.map((x) => x.symbol),
  changed: d.changed.map((x) => x.symbol),
});

const SINCE = load('changed-since-apply');
const INSTALLED = SINCE.facts.receipts.receipts[0]?.release as string;
const BUILD = SINCE.facts.receipts.receipts[0]?.data.buildId as string;
const RUNNING = SINCE.facts.system.running as string;

describe('the config a plan compares with', () => {
  it('the kernelfile’s installed build, not the kernel the host runs', () => {
    expect(INSTALLED).toMatch(/^6\.1\.119-web-kf/);
    expect(RUNNING).toBe('6.1.0-18-amd64');
    const base = configBase(SINCE.desired, SINCE.facts);
    expect(base).toMatchObject({
      kind: 'installed',
      from: `/boot/config-${INSTALLED} (installed by kernelfile, build ${BUILD.slice(0, 12)}…)`,
      release: INSTALLED,
      buildId: BUILD,
      fallback: null,
    });
    const d = planOf(SINCE).config;
    expect(d.base).toBe('installed');
    // Only what the kernelfile changed since that apply: POSIX_MQUEUE off (and its sysctl with it).
    expect(symbols(d)).toEqual({
      added: [],
      removed: ['CONFIG_POSIX_MQUEUE', 'CONFIG_POSIX_MQUEUE_SYSCTL'],
      changed: [],
    });
    expect(d.removed.find((x) => x.symbol === 'CONFIG_POSIX_MQUEUE')?.requested).toBe(true);
  });

  it('against the running kernel the same plan would show everything the web kernel differs in', () => {
    const running = configDiff(
      { ...configBase(SINCE.desired, SINCE.facts), kind: 'running', options: SINCE.facts.config.options },
      SINCE.desired.config.effective,
      SINCE.desired.config.requested,
    );
    const n = (d: ConfigDiff) => d.added.length + d.removed.length + d.changed.length;
    expect(n(running)).toBeGreaterThan(n(planOf(SINCE).config));
    expect(running.changed.map((x) => x.symbol)).toContain('CONFIG_LOCALVERSION');
  });

  it('the running kernel when the kernelfile installed nothing, or only another kernelfile did', () => {
    const fresh = load('fresh-grub');
    expect(planOf(fresh).config).toMatchObject({
      base: 'running',
      from: `/boot/config-${RUNNING}`,
      release: RUNNING,
      buildId: null,
      fallback: null,
    });
    const other = load('changed-since-apply', (f) => {
      for (const r of f.receipts.receipts) r.data = { ...r.data, name: 'db' };
    });
    expect(planOf(other).config).toMatchObject({ base: 'running', release: RUNNING, fallback: null });
  });

  it('the installed target release itself when it is there (a converged host shows no difference)', () => {
    const c = load('converged');
    const d = planOf(c).config;
    expect(d).toMatchObject({ base: 'installed', release: c.desired.release });
    expect(symbols(d)).toEqual({ added: [], removed: [], changed: [] });
    expect(kconfigLines(text(planOf(c)))).toEqual([
      `  Kconfig against the installed build ${c.desired.release} (/boot/config-${c.desired.release}, build ${c.desired.buildId.slice(0, 12)}) → ${c.desired.release}: no difference`,
    ]);
  });

  it('else the newest by install time (not the one running, not the highest version)', () => {
    const c = load('prune-running', (f) => {
      // 6.1.118 installed last (a downgrade), 6.1.119 before it; the host runs 6.1.118.
      const r118 = f.receipts.receipts.find((r) =>
        r.release.startsWith('6.1.118'),
      ) as (typeof f.receipts.receipts)[0];
      r118.data = { ...r118.data, installedAt: '2025-02-01T00:00:00Z' };
      const cfg = f.config.installed?.find((x) => x.release === r118.release);
      if (cfg) cfg.options = { ...cfg.options, CONFIG_KVM: 'y' };
    });
    const d = planOf(c).config;
    expect(d.release).toMatch(/^6\.1\.118-web/);
    expect(d.changed.map((x) => `${x.symbol} ${x.before} ${x.after}`)).toEqual(['CONFIG_KVM y m']);
  });

  it('falls back to the running kernel, saying why, when the installed config cannot be trusted or was not read', () => {
    const path = `/boot/config-${INSTALLED}`;
    const cases: [string, (f: HostFacts) => void, string][] = [
      [
        'drifted',
        (f) => {
          (f.receipts.receipts[0] as (typeof f.receipts.receipts)[0]).drift = [path];
        },
        `${path} of the installed build has changed since kernelfile installed it`,
      ],
      [
        'missing',
        (f) => {
          f.config.installed = [{ release: INSTALLED, path, options: null, error: 'missing' }];
        },
        `${path} of the installed build: missing`,
      ],
      [
        'not among the configs read',
        (f) => {
          f.config.installed = [];
        },
        `${path} of the installed build was not read (only the configs of the newest receipts are)`,
      ],
    ];
    for (const [what, edit, why] of cases) {
      const p = planOf(load('changed-since-apply', edit));
      expect(p.config, what).toMatchObject({ base: 'running', release: RUNNING, fallback: why });
      expect(kconfigLines(text(p))[1], what).toBe(
        `    (not against the kernelfile's installed build: ${why})`,
      );
    }
  });

  it('facts gathered before installed configs were: the running kernel, without a fallback note', () => {
    const c = load('changed-since-apply', (f) => {
      delete f.config.installed;
    });
    expect(planOf(c).config).toMatchObject({ base: 'running', fallback: null });
  });

  it('an image (no running kernel) names the config it compared with', () => {
    // A root filesystem whose newest receipt is another kernelfile's: its config is that build's.
    const c = load('grub-explicit', (f) => {
      f.system = { ...f.system, running: null };
      f.config = { ...f.config, source: '/boot/config-6.1.119-db-kf0123abcd' };
    });
    const p = planOf(c);
    expect(p.config).toMatchObject({ base: 'running', release: null });
    expect(kconfigLines(text(p))[0]).toMatch(
      /^ {2}Kconfig against \/boot\/config-6\.1\.119-db-kf0123abcd → /,
    );
  });

  it('a fleet shares one difference per (config facts, base, build), never across bases', () => {
    const configDiffs = new Map<string, ConfigDiff>();
    const a = load('changed-since-apply');
    // Same config facts, but the receipt says another kernelfile installed the build.
    const b = load('changed-since-apply', (f) => {
      for (const r of f.receipts.receipts) r.data = { ...r.data, name: 'db' };
    });
    const pa = plan(a.desired, a.facts, { ...planOptions(a.facts), configDiffs });
    const pb = plan(b.desired, b.facts, { ...planOptions(b.facts), configDiffs });
    const pa2 = plan(a.desired, a.facts, { ...planOptions(a.facts), configDiffs });
    expect(planOptions(a.facts).factsFamilies?.config).toBe(planOptions(b.facts).factsFamilies?.config);
    expect([pa.config.base, pb.config.base]).toEqual(['installed', 'running']);
    expect(pa2.config).toBe(pa.config);
    expect(configDiffs.size).toBe(2);
  });
});

describe('the Kconfig difference as text', () => {
  const p = planOf(SINCE);

  it('summary: what it compares with, the counts, the requested options, how many more', () => {
    expect(kconfigLines(text(p))).toEqual([
      `  Kconfig against the installed build ${INSTALLED} (/boot/config-${INSTALLED}, build ${BUILD.slice(0, 12)}) → ${SINCE.desired.release}: 0 added, 2 removed, 0 changed`,
      '    of the options the kernelfile requests:',
      '    - CONFIG_POSIX_MQUEUE=y',
      '    (1 more; --config-diff full lists every option)',
    ]);
  });

  it('full: the requested options first, then every other one', () => {
    expect(kconfigLines(text(p, 'full')).slice(1)).toEqual([
      '    of the options the kernelfile requests:',
      '    - CONFIG_POSIX_MQUEUE=y',
      '    other options:',
      '    - CONFIG_POSIX_MQUEUE_SYSCTL=y',
    ]);
    // Without requested options among the differences, no headings.
    const fresh = planOf(load('fresh-grub'));
    const full = kconfigLines(text(fresh, 'full'));
    const all = fresh.config.added.length + fresh.config.removed.length + fresh.config.changed.length;
    expect(full.slice(1, 2)).toEqual(['    of the options the kernelfile requests:']);
    expect(full.filter((l) => /^ {4}[-+~] /.test(l))).toHaveLength(all);
  });

  it('none: no Kconfig lines at all', () => {
    expect(text(p, 'none')).not.toContain('Kconfig');
  });

  it('the running kernel, named with where its config was read', () => {
    const fresh = planOf(load('fresh-grub'));
    expect(kconfigLines(text(fresh))[0]).toBe(
      `  Kconfig against the running kernel ${RUNNING} (/boot/config-${RUNNING}) → ${fresh.summary.release}: 2 added, 3 removed, 1 changed`,
    );
  });
});

describe('installedConfig (the fixture helper) keeps what the facts script would read', () => {
  it('the configs of the two newest receipts, newest first', () => {
    const c = load('prune-running');
    expect(c.facts.receipts.receipts).toHaveLength(3);
    expect(c.facts.config.installed?.map((x) => x.release.split('-')[0])).toEqual(['6.1.119', '6.1.118']);
    const f = structuredClone(c.facts);
    installedConfig(f, c.facts.receipts.receipts[0]?.release as string, {});
    expect(f.config.installed?.map((x) => x.release.split('-')[0])).toEqual(['6.1.119', '6.1.118']);
  });
});
