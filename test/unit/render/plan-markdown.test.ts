/**
 * `plan --format markdown`: the document a CI job posts on a pull request. Golden files for one
 * host with a Kconfig difference, a fleet with an unreachable host and a problem, and a plan cut to
 * fit; the output parsed by a real CommonMark + GFM parser (markdown-it, with raw HTML on as GitHub
 * has it) to check that host strings stay text: no HTML of theirs, no table cell more or less, no
 * heading, mention or code fence they open.
 * `UPDATE_GOLDEN=1 npx vitest run test/unit/render/plan-markdown.test.ts` rewrites the goldens.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import type { HostPlan } from '../../../src/plan/types.js';
import {
  GITHUB_COMMENT_LIMIT,
  MARKDOWN_MARKER,
  type MarkdownHost,
  mdCode,
  mdText,
  renderPlanMarkdown,
} from '../../../src/render/plan-markdown.js';
import { golden as goldenFile } from '../../helpers/golden.js';
import { planCase } from '../../helpers/plan-fixtures.js';

const DIR = fileURLToPath(new URL('../../fixtures/markdown/', import.meta.url));
const golden = (file: string, actual: string) =>
  goldenFile(join(DIR, file), actual, {
    updateVar: 'UPDATE_GOLDEN',
    command: 'npx vitest run test/unit/render/plan-markdown.test.ts',
  });

const md = new MarkdownIt({ html: true, linkify: true });
const html = (doc: string) => md.render(doc);

/** The cells of each table row, as markdown-it parses them. */
function tableRows(doc: string): number[] {
  const tokens = md.parse(doc, {});
  const rows: number[] = [];
  let cells = 0;
  for (const t of tokens) {
    if (t.type === 'tr_open') cells = 0;
    if (t.type === 'td_open' || t.type === 'th_open') cells++;
    if (t.type === 'tr_close') rows.push(cells);
  }
  return rows;
}

const plan = (name: string): HostPlan => planCase(name).plan;

function hugeConfig(p: HostPlan, n: number, salt: string): HostPlan {
  const q = structuredClone(p);
  q.config.changed = Array.from({ length: n }, (_, i) => ({
    symbol: `CONFIG_${salt}_OPTION_${String(i).padStart(5, '0')}`,
    before: 'm',
    after: 'y',
    requested: i % 500 === 0,
  }));
  return q;
}

describe('plan --format markdown: goldens', () => {
  it('one host with a Kconfig difference', () => {
    const doc = renderPlanMarkdown([{ name: 'web-1', plan: plan('fresh-grub') }]);
    expect(doc).toBe(golden('one-host.md', doc));
    expect(doc.startsWith(`${MARKDOWN_MARKER}\n`)).toBe(true);
    const out = html(doc);
    expect(out).toContain('<details><summary>The full Kconfig difference (6 options)</summary>');
    expect(tableRows(doc)).toEqual([5, 5]);
    expect(doc).not.toContain('[!WARNING]');
  });

  it('a fleet: changes, converged, a problem with its hint, an unreachable host', () => {
    const hosts: MarkdownHost[] = [
      { name: 'web-1', plan: plan('version-bump') },
      { name: 'web-2', plan: plan('converged') },
      { name: 'web-3', plan: plan('no-dkms') },
      {
        name: 'web-4',
        plan: null,
        error: {
          message: 'ssh://root@web-4:22: connect ECONNREFUSED 10.0.0.4:22',
          hint: 'check that the host is up and sshd listens on port 22',
          unreachable: true,
        },
      },
    ];
    const doc = renderPlanMarkdown(hosts, { source: 'inventory.yml --limit web' });
    expect(doc).toBe(golden('fleet.md', doc));
    expect(tableRows(doc)).toEqual([5, 5, 5, 5, 5]);
    expect(doc).toContain('❌ not possible\\: no-dkms');
    expect(doc).toContain('- ❌ `no-dkms`: the kernelfile declares 1 DKMS module');
    expect(doc).toContain('**Unreachable:** ssh\\://root@⁠web-4\\:22\\: connect ECONNREFUSED 10.0.0.4\\:22');
  });

  it('a plan too large for a comment: the full Kconfig differences go first, then host sections, with a notice', () => {
    const base = plan('fresh-grub');
    const hosts: MarkdownHost[] = [
      ...['web-01', 'web-02', 'web-03', 'web-04'].map((name, i) => ({
        name,
        plan: hugeConfig(base, 120 + 40 * i, name.replace('-', '')),
      })),
      { name: 'web-05', plan: plan('converged') },
      { name: 'web-06', plan: plan('no-dkms') },
    ];
    const full = renderPlanMarkdown(hosts, { limit: 10_000_000 });
    const doc = renderPlanMarkdown(hosts, { limit: 7_000, artifact: 'plan.json' });
    expect(full.length).toBeGreaterThan(7_000);
    expect(doc.length).toBeLessThanOrEqual(7_000);
    expect(doc).toBe(golden('truncated.md', doc));
    expect(doc).toContain('> [!WARNING]\n> This plan is cut to fit a comment (7,000 characters). Left out: ');
    expect(doc).toContain('The full plan: the saved plan `plan.json`');
    // every host is still in the summary, and the host with a problem keeps its section
    expect(tableRows(doc)).toEqual([5, 5, 5, 5, 5, 5, 5]);
    expect(doc).toContain('### `web-06`');
    expect(doc).toContain('no-dkms');
    // every full Kconfig difference went first, then whole sections: the converged host's, then
    // the largest (the last in the table among equals); the host with a problem keeps its section
    expect(doc).toContain(
      'Left out: the full Kconfig difference of `web-01`, `web-02`, `web-06`; the sections of `web-03`, `web-04`, `web-05`.',
    );
    expect(doc).not.toContain('<details>');
    expect(doc.match(/^### .*$/gm)).toEqual(['### `web-01`', '### `web-02`', '### `web-06`']);
    expect(html(doc).match(/<pre>/g)?.length ?? 0).toBeGreaterThan(0);
  });
});

describe('the comment limit', () => {
  it('a fleet of 300 hosts with 3,000 Kconfig options each fits in 65,536 characters, and says what it left out', () => {
    const base = plan('fresh-grub');
    const hosts: MarkdownHost[] = Array.from({ length: 300 }, (_, i) => ({
      name: `host-${String(i).padStart(3, '0')}.example.org`,
      plan: hugeConfig(base, 3000, `H${i}`),
    }));
    hosts.push({ name: 'broken', plan: plan('no-dkms') });
    const doc = renderPlanMarkdown(hosts);
    expect(doc.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(doc).toContain('> [!WARNING]');
    expect(doc).toMatch(
      /Left out: the full Kconfig difference of .*; the sections of `host-\d{3}\.example\.org`/,
    );
    expect(doc).toContain('The full plan: `kernelfile plan --json`');
    // hosts with problems are the last to go
    expect(doc).toContain('### `broken`');
  });

  it('thousands of hosts: rows of the summary table go last, counted', () => {
    const p = plan('converged');
    const hosts: MarkdownHost[] = Array.from({ length: 2000 }, (_, i) => ({
      name: `h${String(i).padStart(4, '0')}`,
      plan: p,
    }));
    const doc = renderPlanMarkdown(hosts);
    expect(doc.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(doc).toMatch(/\| … \| \| \| \| [\d,]+ more hosts \|/);
    expect(doc).toMatch(/Left out: the sections of .*; [\d,]+ rows of the summary table\./);
  });

  it('a plan that fits is not changed by the limit', () => {
    const hosts = [{ name: 'web-1', plan: plan('fresh-grub') }];
    const doc = renderPlanMarkdown(hosts);
    expect(renderPlanMarkdown(hosts, { limit: doc.length })).toBe(doc);
    expect(renderPlanMarkdown(hosts, { limit: doc.length - 1 })).toContain('[!WARNING]');
  });
});

describe('host strings stay text', () => {
  const HOSTILE =
    'web|1 a\\|b <img src=x onerror=alert(1)> `x` @octocat **b** [l](http://e.vil)\n# h\u001b[2J\u202e';

  function hostileDoc(): string {
    const p = structuredClone(plan('entry-changed'));
    const entry = p.changes.find((c) => c.resource === 'boot-entry');
    if (!entry) throw new Error('no boot entry change in the fixture');
    entry.attributes = [{ name: 'title', before: HOSTILE, after: 'web' }];
    p.notes.push(`a note quoting the host: ${HOSTILE}`);
    p.summary.running = HOSTILE;
    return renderPlanMarkdown([
      { name: HOSTILE, plan: p, problems: [{ code: 'x|y', message: HOSTILE, hint: HOSTILE }] },
      { name: `${HOSTILE}2`, plan: null, error: { message: HOSTILE, hint: HOSTILE, unreachable: false } },
    ]);
  }

  it('no HTML, heading, link, emphasis or control character of theirs; the table keeps its columns', () => {
    const doc = hostileDoc();
    const out = html(doc);
    expect(out).not.toMatch(/<img|<h1|<strong>b<\/strong>|<a href="http:\/\/e\.vil/);
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(tableRows(doc)).toEqual([5, 5, 5]);
    expect([...doc].filter((c) => (c < ' ' && c !== '\n') || c === '\u202e')).toEqual([]);
    expect(doc).toContain('\\x1b[2J\\u202e');
    // a mention is broken by a word joiner where it is prose, and is inert in code
    const prose = out.replace(/<pre>[\s\S]*?<\/pre>/g, '').replace(/<code>[\s\S]*?<\/code>/g, '');
    expect(prose).toContain('@\u2060octocat');
    expect(prose).not.toMatch(/@octocat/);
  });

  it('code spans take any backtick run; pipes are escaped only in table cells', () => {
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('`x`')).toBe('`` `x` ``');
    expect(mdCode('a|b', { table: true })).toBe('`a\\|b`');
    expect(mdCode('a|b')).toBe('`a|b`');
    expect(md.renderInline(mdCode('a``b`'))).toBe('<code>a``b`</code>');
    expect(mdText('<b>*x*</b> a_b `c` @me')).toBe('\\<b\\>\\*x\\*\\</b\\> a\\_b \\`c\\` @\u2060me');
  });

  it('a line of backticks in a value cannot close the block it is in', () => {
    const p = structuredClone(plan('entry-changed'));
    const entry = p.changes.find((c) => c.resource === 'boot-entry');
    if (!entry) throw new Error('no boot entry change in the fixture');
    entry.reason = '```\n<script>alert(1)</script>';
    const out = html(renderPlanMarkdown([{ name: 'web-1', plan: p }]));
    expect(out).not.toContain('<script>');
    expect(out).toContain('&lt;script&gt;');
  });
});
