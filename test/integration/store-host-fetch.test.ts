/**
 * The host side of fetching from the store (src/store/host-fetch.ts), run here with this machine's
 * curl and wget against a real registry: the probe, each file fetched through a temporary name and
 * checked with sha256sum before its rename, a file whose sha256 is not the one asked for removed
 * (exit 4), the bearer token on standard input (never in an argv), the store's CA written beside
 * the files and removed after.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocal } from '../../src/host/local.js';
import type { StoreFetch } from '../../src/resources/change.js';
import { pushBuild } from '../../src/store/artifact.js';
import { fetchArgv, parseFetch, parseProbe, probeArgv } from '../../src/store/host-fetch.js';
import { openStore } from '../../src/store/open.js';
import { type Registry, startRegistry } from '../helpers/registry.js';
import { buildFiles, makeBuildDir } from '../helpers/store-builds.js';

const work = mkdtempSync(join(tmpdir(), 'kf-host-fetch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const id = (n: string) => createHash('sha256').update(n).digest('hex');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function pushed(reg: Registry, name: string, vars: Record<string, string> = {}, caFile?: string) {
  const buildId = id(name);
  const b = await makeBuildDir(join(work, name), buildId);
  const files = await buildFiles(b.dir, b.manifest.release);
  await pushBuild(
    openStore({ url: reg.url(), vars: { HOME: work, ...vars }, ...(caFile ? { caFile } : {}) }),
    b.manifest,
    files,
  );
  const wanted = ['vmlinuz', 'System.map', 'config', 'modules.tar', 'headers.tar'].map((n) => ({
    name: n,
    sha256: sha(files[n] as string),
  }));
  return { files, wanted };
}

const fetchTo = (dir: string, s: StoreFetch, wanted: { name: string; sha256: string }[], token = '') =>
  runLocal(fetchArgv(dir, s, wanted), { stdin: `${token}\n` });

describe.each(['curl', 'wget'] as const)('with %s, an open registry', (tool) => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(() => reg?.stop());

  it('probe: the tool and that the store answers; a closed port is named', async () => {
    const r = await runLocal(probeArgv(`http://${reg.authority}`, false));
    expect(parseProbe(r.stdout)).toEqual({ tool: 'curl' }); // this machine has both: curl first
    const down = await runLocal(probeArgv('http://127.0.0.1:9', false));
    expect(parseProbe(down.stdout)).toEqual({
      why: 'the host cannot reach the store with curl: cannot connect to it',
    });
  });

  it('fetches each file, checked, through a temporary name; a wrong sha256 is refused and removed', async () => {
    const { wanted, files } = await pushed(reg, `fetch-${tool}`);
    const s: StoreFetch = { url: reg.url(), base: `http://${reg.authority}`, repository: 'kernels', tool };
    const dir = join(work, `host-${tool}`);
    mkdirSync(dir);
    const r = await fetchTo(dir, s, wanted);
    expect(r.code, r.stderr).toBe(0);
    expect(parseFetch(r.stdout)).toEqual({ ok: wanted.map((w) => w.name) });
    for (const w of wanted) expect(sha(join(dir, w.name))).toBe(sha(files[w.name] as string));
    expect(readdirSync(dir).sort()).toEqual(wanted.map((w) => w.name).sort());

    const wrong = [{ name: 'config', sha256: 'f'.repeat(64) }];
    const bad = join(work, `bad-${tool}`);
    mkdirSync(bad);
    // the URL is config's real blob, the sha256 asked for is another: the host refuses the bytes
    const argv = fetchArgv(bad, s, [{ name: 'config', sha256: wanted[2]?.sha256 as string }]);
    argv[argv.length - 1] = wrong[0]?.sha256 as string;
    const m = await runLocal(argv, { stdin: '\n' });
    expect(m.code).toBe(4);
    expect(parseFetch(m.stdout).failed).toMatch(/^config from the store is not the build's file/);
    expect(readdirSync(bad)).toEqual([]);
  });
});

describe('a registry with the Bearer flow', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry({ token: { user: 'kf', password: 'p-1' } });
  });
  afterAll(() => reg?.stop());

  it('the host fetches with the pull token given on stdin; without it the registry refuses', async () => {
    const vars = { KERNELFILE_STORE_USERNAME: 'kf', KERNELFILE_STORE_PASSWORD: 'p-1' };
    const { wanted } = await pushed(reg, 'bearer', vars);
    const auth = await openStore({ url: reg.url(), vars: { HOME: work, ...vars } }).hostAuth();
    expect(auth.kind).toBe('bearer');
    const s: StoreFetch = {
      url: reg.url(),
      base: `http://${reg.authority}`,
      repository: 'kernels',
      tool: 'curl',
    };
    // wget reads a config only from a file: with a token, a host with wget alone is shipped to.
    for (const tool of ['curl'] as const) {
      const dir = join(work, `bearer-${tool}`);
      mkdirSync(dir);
      const none = await fetchTo(dir, { ...s, tool }, wanted.slice(0, 1));
      expect(none.code).toBe(3);
      expect(readdirSync(dir)).toEqual([]);
      const r = await fetchTo(dir, { ...s, tool }, wanted, (auth as { token: string }).token);
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      expect(parseFetch(r.stdout).ok).toHaveLength(5);
    }
    // The token never appears in an argv: it is read from standard input.
    expect(fetchArgv('/d', s, wanted).join(' ')).not.toContain((auth as { token: string }).token);
  });
});

describe('TLS with its own CA', () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry({ tls: true });
  });
  afterAll(() => reg?.stop());

  it("with the store's CA the probe only asks whether it answers; the fetch checks the certificate against that CA", async () => {
    const ca = readFileSync(reg.caFile as string, 'utf8');
    const base = `https://${reg.authority}`;
    const untrusted = await runLocal(probeArgv(base, false));
    expect(parseProbe(untrusted.stdout)).toEqual({
      why: 'the host cannot reach the store with curl: its TLS certificate is not trusted there',
    });
    const trusted = await runLocal(probeArgv(base, true));
    expect(parseProbe(trusted.stdout)).toEqual({ tool: 'curl' });
    const { wanted } = await pushed(reg, 'tls', {}, reg.caFile);
    const dir = join(work, 'tls-host');
    mkdirSync(dir);
    const r = await fetchTo(dir, { url: reg.url(), base, repository: 'kernels', tool: 'curl', ca }, wanted);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(wanted.map((w) => w.name).sort()); // the CA file removed after
  });
});
