import { describe, expect, it } from 'vitest';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';

const fs = memfs({
  '/p/linux-6.1.192.tar.xz': '',
  '/p/frag.config': 'CONFIG_A=y\n',
});
const env = { fs, kernelfile: '/p/kernelfile.yaml', home: '/root' };
const HEAD = `apiVersion: kernelfile/v1
name: t
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
`;

function ok(text: string) {
  const r = validate(new TextEncoder().encode(text), 'kernelfile.yaml', env);
  if (!r.ok) throw new Error(JSON.stringify(r.errors, null, 1));
  return r.value;
}

describe('a valid kernelfile', () => {
  it('gets the defaults written in the schema', () => {
    const { spec } = ok(HEAD);
    expect(spec.config).toEqual({ base: 'defconfig', fragments: [], set: {}, onDropped: 'error' });
    expect(spec.build).toEqual({
      on: 'controller',
      makeVars: {},
      ccache: false,
      distcc: [],
      keepObjectTrees: 3,
    });
    expect(spec.initramfs).toEqual({ generator: 'auto', modules: [] });
    expect(spec.boot).toEqual({
      loader: 'auto',
      entries: [{ title: '{distro}, with Linux {release}', default: true }],
      trial: false,
      keep: 2,
    });
    expect(spec.patches).toEqual([]);
    expect(spec.modules).toEqual([]);
  });

  it('keeps hex Kconfig values as written (YAML would turn 0x1000000 into 16777216)', () => {
    const { spec } = ok(
      `${HEAD}config:\n  set:\n    CONFIG_PHYSICAL_START: 0x1000000\n    CONFIG_NR_CPUS: 64\n    CONFIG_X: {value: 0x20, onDropped: warn}\n`,
    );
    expect(spec.config?.set).toEqual({
      CONFIG_PHYSICAL_START: '0x1000000',
      CONFIG_NR_CPUS: 64,
      CONFIG_X: { value: '0x20', onDropped: 'warn' },
    });
  });

  it('accepts a quoted "yes" as a Kconfig string value', () => {
    const { spec } = ok(`${HEAD}config:\n  set:\n    CONFIG_DEFAULT_HOSTNAME: "yes"\n`);
    expect(spec.config?.set?.CONFIG_DEFAULT_HOSTNAME).toBe('yes');
  });

  it('reports nothing for the same value requested twice', () => {
    const r = validate(
      new TextEncoder().encode(`${HEAD}config:\n  fragments: [frag.config]\n  set: {CONFIG_A: y}\n`),
      'k.yaml',
      env,
    );
    expect(r.ok && r.warnings).toEqual([]);
  });

  it('accepts an unpacked kernel tree as the source', () => {
    const tree = memfs({ '/src/linux/Kconfig': '', '/src/linux/Makefile': '' });
    const r = validate(
      new TextEncoder().encode(HEAD.replace('{path: linux-6.1.192.tar.xz}', '{path: /src/linux}')),
      'k.yaml',
      { ...env, fs: tree },
    );
    expect(r.ok).toBe(true);
  });

  it('expands ~/ to the home directory', () => {
    const home = memfs({ '/home/u/k/linux-6.1.192.tar.xz': '' });
    const r = validate(
      new TextEncoder().encode(HEAD.replace('linux-6.1.192.tar.xz', '~/k/linux-6.1.192.tar.xz')),
      'k.yaml',
      { ...env, fs: home, home: '/home/u' },
    );
    expect(r.ok).toBe(true);
  });

  it('does not warn about a relative path inside the git repository above the kernelfile', () => {
    const repo = memfs(
      {
        '/repo/kernels/web/kernelfile.yaml': '',
        '/repo/patches/x.patch': '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n',
        '/repo/kernels/web/linux-6.1.192.tar.xz': '',
      },
      ['/repo/.git'],
    );
    const r = validate(
      new TextEncoder().encode(`${HEAD}patches:\n  - path: ../../patches/x.patch\n`),
      'k.yaml',
      { ...env, fs: repo, kernelfile: '/repo/kernels/web/kernelfile.yaml' },
    );
    expect(r.ok && r.warnings).toEqual([]);
  });
});
