/**
 * Hosts fetching from the store: what the probe's and the fetch's output mean, the fetch's argv
 * (names, URLs, sha256; never a token), and how the plan says which hosts fetch and which are shipped.
 */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/plan/planner.js';
import type { StoreFetch } from '../../../src/resources/change.js';
import {
  blobUrl,
  FETCH_SH,
  fetchArgv,
  fetchStdin,
  parseFetch,
  parseProbe,
  probeArgv,
} from '../../../src/store/host-fetch.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

const S: StoreFetch = {
  url: 'oci://reg.example.com/kernels',
  base: 'https://reg.example.com',
  repository: 'kernels',
  tool: 'curl',
};

describe('the probe', () => {
  it('curl or wget, and whether the store answered (a 401 is an answer)', () => {
    expect(parseProbe('tool=curl\nreach=0 401\n')).toEqual({ tool: 'curl' });
    expect(parseProbe('tool=curl\nreach=0 200\n')).toEqual({ tool: 'curl' });
    expect(parseProbe('tool=wget\nreach=6\n')).toEqual({ tool: 'wget' });
    expect(parseProbe('tool=wget\nreach=8\n')).toEqual({ tool: 'wget' });
  });

  it('why a host is shipped to instead', () => {
    expect(parseProbe('tool=none\n')).toEqual({ why: 'the host has neither curl nor wget' });
    expect(parseProbe('tool=curl\nreach=7 000\n')).toEqual({
      why: 'the host cannot reach the store with curl: cannot connect to it',
    });
    expect(parseProbe('tool=curl\nreach=60 000\n')).toEqual({
      why: 'the host cannot reach the store with curl: its TLS certificate is not trusted there',
    });
    expect(parseProbe('tool=curl\nreach=99 000\n')).toEqual({
      why: 'the host cannot reach the store with curl: curl exited with 99',
    });
    expect(parseProbe('tool=wget\nreach=4\n')).toEqual({
      why: 'the host cannot reach the store with wget: a network failure',
    });
    expect(parseProbe('')).toEqual({ why: 'the host has neither curl nor wget' });
    expect(parseProbe('tool=curl\n')).toEqual({ why: 'the probe of the store printed nothing' });
  });

  it('argv: the base URL and whether a CA of its own is used, as arguments of a fixed script', () => {
    expect(probeArgv('https://r:5000', true).slice(3)).toEqual(['kernelfile', 'https://r:5000', '1']);
  });
});

describe('the fetch', () => {
  const files = [
    { name: 'vmlinuz', sha256: 'a'.repeat(64) },
    { name: 'headers.tar', sha256: 'b'.repeat(64) },
  ];

  it('argv: a fixed script, then the directory, the tool, the CA and name, URL, sha256 per file', () => {
    expect(fetchArgv('/var/lib/kernelfile/staging/x', { ...S, ca: 'PEM' }, files)).toEqual([
      'sh',
      '-c',
      FETCH_SH,
      'kernelfile',
      '/var/lib/kernelfile/staging/x',
      'curl',
      'PEM',
      'vmlinuz',
      `https://reg.example.com/v2/kernels/blobs/sha256:${'a'.repeat(64)}`,
      'a'.repeat(64),
      'headers.tar',
      `https://reg.example.com/v2/kernels/blobs/sha256:${'b'.repeat(64)}`,
      'b'.repeat(64),
    ]);
    expect(blobUrl(S, 'sha256:00')).toBe('https://reg.example.com/v2/kernels/blobs/sha256:00');
  });

  it('the script reads the token from stdin and hands it to curl through printf and -K -, never argv', () => {
    expect(FETCH_SH).toContain('IFS= read -r tok');
    expect(FETCH_SH).toMatch(/conf \| curl [^\n]*-K -/);
    expect(FETCH_SH).not.toMatch(/curl[^\n]*\$tok/);
    expect(FETCH_SH).not.toMatch(/wget[^\n]*\$tok/);
    // each file checked with sha256sum before its rename
    expect(FETCH_SH).toMatch(/sha256sum "\$p"[\s\S]*mv -f "\$p" "\$n"/);
  });

  it('the token on stdin is one curl config string, whatever the registry wrote in it', () => {
    expect(fetchStdin(undefined)).toBe('\n');
    expect(fetchStdin('eyJhbGciOi.x-y_z')).toBe('eyJhbGciOi.x-y_z\n');
    // a quote would end the header's string and a backslash start an escape (\n: a new header line)
    expect(fetchStdin('a"b\\nc')).toBe('a\\"b\\\\nc\n');
  });

  it('its output: the files that arrived, and what stopped it', () => {
    expect(parseFetch('kf-fetch ok vmlinuz\nkf-fetch ok config\n')).toEqual({ ok: ['vmlinuz', 'config'] });
    expect(parseFetch('kf-fetch ok vmlinuz\nkf-fetch failed config\n')).toEqual({
      ok: ['vmlinuz'],
      failed: 'config could not be downloaded from the store',
    });
    expect(parseFetch(`kf-fetch mismatch headers.tar ${'c'.repeat(64)}\n`)).toEqual({
      ok: [],
      failed: "headers.tar from the store is not the build's file (sha256 cccccccccccc…)",
    });
  });
});

describe('the plan says how each host gets the build', () => {
  const ship = (p: ReturnType<typeof plan>) =>
    p.changes.flatMap((c) => c.steps).find((s) => s.kind === 'ship') as
      | { title: string; store?: StoreFetch }
      | undefined;

  it('fetching from the store: the step carries where from, the change says so', () => {
    const c = loadCase('fresh-grub');
    const d = { ...c.desired, hostStore: { fetch: S } };
    const p = plan(d, c.facts, planOptions(c.facts));
    expect(ship(p)?.store).toEqual(S);
    expect(ship(p)?.title).toBe(
      `fetch the build from the store oci://reg.example.com/kernels into /var/lib/kernelfile/staging/${d.buildId} (curl on the host; shipped from here if that fails)`,
    );
    const kernel = p.changes.find((x) => x.id.startsWith('kernel['));
    expect(kernel?.reason).toMatch(
      /; the host fetches the files from the store oci:\/\/reg\.example\.com\/kernels$/,
    );
  });

  it('shipped: the step and the change say why not from the store', () => {
    const c = loadCase('fresh-grub');
    const d = { ...c.desired, hostStore: { url: S.url, shipped: 'the host has neither curl nor wget' } };
    const p = plan(d, c.facts, planOptions(c.facts));
    expect(ship(p)?.store).toBeUndefined();
    expect(ship(p)?.title).toMatch(
      /^ship the build to .* \(not from the store: the host has neither curl nor wget\)$/,
    );
    const kernel = p.changes.find((x) => x.id.startsWith('kernel['));
    expect(kernel?.reason).toMatch(
      /; shipped from the controller \(not from the store: the host has neither curl nor wget\)$/,
    );
  });

  it('without a store, nothing changes', () => {
    const c = loadCase('fresh-grub');
    const p = plan(c.desired, c.facts, planOptions(c.facts));
    expect(ship(p)?.title).toBe(`ship the build to /var/lib/kernelfile/staging/${c.desired.buildId}`);
  });
});

describe('the plan says when a build will be pulled from the store', () => {
  it('not cached, in the store: the build step and the kernel change name the store', () => {
    const c = loadCase('fresh-grub');
    const d = {
      ...c.desired,
      artifacts: { cached: false, bootBytes: null, store: { url: S.url, has: true } },
    };
    const p = plan(d, c.facts, planOptions(c.facts));
    const build = p.changes.flatMap((x) => x.steps).find((s) => s.kind === 'build');
    expect(build?.title).toBe(`build ${d.buildId.slice(0, 12)} (pulled from store ${S.url})`);
    const kernel = p.changes.find((x) => x.id.startsWith('kernel['));
    expect(kernel?.reason).toBe(`not installed; pulled once from the store ${S.url}`);
  });

  it('not cached, not in the store: built on the controller', () => {
    const c = loadCase('fresh-grub');
    const d = {
      ...c.desired,
      artifacts: { cached: false, bootBytes: null, store: { url: S.url, has: false } },
    };
    const p = plan(d, c.facts, planOptions(c.facts));
    expect(p.changes.find((x) => x.id.startsWith('kernel['))?.reason).toBe(
      'not installed; built once on the controller',
    );
  });
});
