/**
 * gather(): failures named after the host, and the digest, over a fake transport that answers
 * with canned output (test/integration/facts-gather.test.ts runs the script with the local sh).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, factsDigest, familyDigests, gather, parseFacts } from '../../../src/facts/gather.js';
import type { HostFacts } from '../../../src/facts/types.js';
import { HostError } from '../../../src/host/transport.js';
import { gatherTransport } from '../../helpers/gather-transport.js';

const fakeTransport = gatherTransport;

describe('gather', () => {
  it('refuses output that stops before the trailer, naming the host and the stderr', async () => {
    const { t } = fakeTransport((stdin) => {
      const nonce = stdin.match(/kf__nonce='(\w+)'/)?.[1];
      return { code: 255, stdout: `${nonce} system arch\nx86_64\n`, stderr: 'Connection to web-1 closed.\n' };
    });
    const err = await gather(t).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
    expect((err as HostError).message).toMatch(/^ssh:\/\/root@web-1:22: gathering facts failed \(exit 255\)/);
    expect((err as HostError).message).toContain('Connection to web-1 closed.');
  });

  it('refuses a host without sh (nothing gathered)', async () => {
    const { t } = fakeTransport(() => ({ code: 127, stdout: '', stderr: 'sh: not found' }));
    await expect(gather(t)).rejects.toThrow(/exit 127.*sh: not found/);
  });
});

describe('the facts digest', () => {
  const N = 'kfDIGEST0001';
  const out = (body: string) => `${body}${N} - end\nok\n`;
  const base = `${N} system arch\nx86_64\n${N} system arch#rc\n0\n${N} kernels modules\nd 6.1.0-18-amd64\n\n${N} kernels modules/6.1.0-18-amd64\nf modules.dep\n\n`;
  const df = (avail: number) =>
    `${N} space boot\nFilesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda1 1000 10 ${avail} 1% /\n\n${N} space boot#rc\n0\n`;

  it('does not change with free space or with the name the host was reached by', () => {
    const a = parseFacts(out(base + df(900)), N, 'ssh://web-1');
    const b = parseFacts(out(base + df(100)), N, 'ssh://root@web-1:22');
    expect(a.space.boot?.freeBytes).not.toBe(b.space.boot?.freeBytes);
    expect(a.digest).toBe(b.digest);
  });

  it('changes when a fact a plan depends on changes', () => {
    const a = parseFacts(out(base), N, 'h');
    const b = parseFacts(out(base.replace('f modules.dep\n', '')), N, 'h');
    expect(a.kernels[0]?.modules?.modulesDep).toBe(true);
    expect(b.kernels[0]?.modules?.modulesDep).toBe(false);
    expect(a.digest).not.toBe(b.digest);
  });

  it('does not depend on key order', () => {
    const f = parseFacts(out(base), N, 'h');
    const { digest, ...rest } = f;
    const reordered = Object.fromEntries(Object.entries(rest).reverse()) as typeof rest;
    expect(factsDigest(reordered)).toBe(digest);
  });
});

/*
 * The digests are computed from each family's canonical JSON once, with a large frozen object (a
 * running config's options, shared by hosts) kept as its own part: they must hash exactly the bytes
 * of the plain canonical JSON, and family digests kept from the parse must not outlive a change.
 */
describe('digests from canonical JSON, computed once', () => {
  /** The canonical JSON, written out the plain way (the reference). */
  const reference = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(o[k])}`).join(',')}}`;
    }
    return JSON.stringify(v) ?? 'null';
  };
  const sha = (t: string) => createHash('sha256').update(t).digest('hex');
  const N = 'kfDIGEST0002';
  const output = `${N} system arch\nx86_64\n${N} system arch#rc\n0\n${N} config proc\nCONFIG_MODULES=y\n${Array.from({ length: 200 }, (_, i) => `CONFIG_OPT_${i}="välue ${i}"`).join('\n')}\n\n${N} config proc#rc\n0\n${N} - end\nok\n`;

  it('hash the very bytes of the canonical JSON, shared parts, non-ASCII text and all', () => {
    const f = parseFacts(output, N, 'h');
    expect(Object.isFrozen(f.config.options)).toBe(true);
    expect(reference(f.config.options).length).toBeGreaterThan(1024); // kept as a shared part
    const { space: _s, host: _h, digest, ...rest } = f;
    expect(digest).toBe(sha(reference(rest)));
    expect(factsDigest({ ...rest, space: f.space, host: 'other' })).toBe(digest);
    const { factsVersion: _v, ...families } = rest;
    expect(familyDigests(f)).toEqual(
      Object.fromEntries(Object.entries(families).map(([k, v]) => [k, sha(reference(v))])),
    );
    expect(canonicalJson(f)).toBe(reference(f));
    // The same options held twice, and in an array, frozen and not
    const small = Object.freeze({ b: 1, a: undefined, c: 'x' });
    const v = {
      z: [f.config.options, { o: f.config.options }, small],
      a: { ...f.config.options },
      u: undefined,
      n: [undefined, null, 1.5],
    };
    expect(canonicalJson(v)).toBe(reference(v));
    // The running config also installed by kernelfile: the same options object twice in one digest
    const installed = [{ release: 'r', path: '/boot/config-r', options: f.config.options, error: null }];
    const both = { ...rest, config: { ...f.config, installed } };
    expect(factsDigest({ ...both, space: f.space, host: 'h' })).toBe(sha(reference(both)));
  });

  it('a family replaced after the parse is digested again; another host with the same families shares them', () => {
    const f = parseFacts(output, N, 'h');
    const g = parseFacts(output, N, 'h2');
    expect(familyDigests(g)).toEqual(familyDigests(f));
    const tools = { ...f.tools, dkms: '/usr/sbin/dkms' };
    const changed: HostFacts = { ...f, tools };
    expect(familyDigests(changed).tools).toBe(sha(reference(tools)));
    expect(familyDigests(changed).tools).not.toBe(familyDigests(f).tools);
    expect(familyDigests(changed).config).toBe(familyDigests(f).config);
    // other options, frozen as well: another digest
    const other = parseFacts(output.replace('CONFIG_OPT_7=', 'CONFIG_OPT_7X='), N, 'h3');
    expect(familyDigests(other).config).toBe(sha(reference(other.config)));
    expect(familyDigests(other).config).not.toBe(familyDigests(f).config);
  });
});

/*
 * The families a fleet's hosts mostly send alike (libs, tools, dkms, …) are parsed once per distinct
 * text and shared between hosts, deep-frozen: the same facts and digests as parsing each, and no
 * host's facts can change another's.
 */
describe('families shared by hosts that send the same sections', () => {
  const N = 'kfSHARED0001';
  const host = (name: string, lib: string) =>
    `${N} system hostname\n${name}\n${N} system hostname#rc\n0\n${N} libs dir:/usr/lib\n${lib}\nlibelf.so.1\n\n${N} libs glibc\nglibc 2.36\n${N} libs glibc#rc\n0\n${N} tools make\n/usr/bin/make\n${N} - end\nok\n`;

  it('are one frozen object for equal sections, another for other sections, with the digests of a parse of each', () => {
    const a = parseFacts(host('web-1', 'libc.so.6'), N, 'web-1');
    const b = parseFacts(host('web-2', 'libc.so.6'), N, 'web-2');
    const c = parseFacts(host('web-3', 'libz.so.1'), N, 'web-3');
    expect(a.system.hostname).toBe('web-1');
    expect(b.system.hostname).toBe('web-2');
    expect(b.libs).toBe(a.libs);
    expect(b.tools).toBe(a.tools);
    expect(a.libs?.sonames).toEqual(['libc.so.6', 'libelf.so.1']);
    expect(c.libs).not.toBe(a.libs);
    expect(c.libs?.sonames).toEqual(['libelf.so.1', 'libz.so.1']);
    expect(Object.isFrozen(a.libs)).toBe(true);
    expect(Object.isFrozen(a.libs?.sonames)).toBe(true);
    const sonames = a.libs?.sonames as string[];
    expect(() => sonames.push('libx.so.1')).toThrow(TypeError);
    expect(b.libs?.sonames).toEqual(['libc.so.6', 'libelf.so.1']);
    // The digest is that of the facts' plain canonical JSON (a copy, nothing shared or frozen).
    const { digest, ...rest } = b;
    expect(digest).toBe(factsDigest(JSON.parse(JSON.stringify(rest))));
    expect(familyDigests(b).libs).toBe(familyDigests(a).libs);
    expect(familyDigests(c).libs).not.toBe(familyDigests(a).libs);
  });
});
