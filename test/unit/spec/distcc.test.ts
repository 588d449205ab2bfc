import { describe, expect, it } from 'vitest';
import { distccJobs, parseDistccHost } from '../../../src/spec/distcc.js';
import { validate } from '../../../src/spec/validate.js';
import { memfs } from '../../helpers/memfs.js';

const host = (s: string) => {
  const r = parseDistccHost(s);
  if (!r.ok) throw new Error(`${s}: ${r.message}`);
  return r.host;
};
const refused = (s: string) => {
  const r = parseDistccHost(s);
  if (r.ok) throw new Error(`${s} was accepted`);
  return r;
};

describe('distcc host specifications', () => {
  it('reads HOST[:PORT][/LIMIT][,lzo], the old HOST/LIMIT:PORT order, IPv6 and localhost', () => {
    expect(host('build-1')).toEqual({
      kind: 'tcp',
      host: 'build-1',
      port: 3632,
      limit: 4,
      lzo: false,
      written: 'build-1',
    });
    expect(host('10.0.0.2:4000/8,lzo')).toMatchObject({ host: '10.0.0.2', port: 4000, limit: 8, lzo: true });
    expect(host('box.example.org/3:4001')).toMatchObject({ host: 'box.example.org', port: 4001, limit: 3 });
    expect(host('[fd00::2]:3633/2')).toMatchObject({ host: 'fd00::2', port: 3633, limit: 2 });
    expect(host('localhost')).toEqual({ kind: 'local', limit: 2, written: 'localhost' });
    expect(host('localhost/1')).toEqual({ kind: 'local', limit: 1, written: 'localhost/1' });
  });

  it.each([
    ['@build-1/8', /SSH mode/, /distccd --daemon --allow/],
    ['me@build-1', /SSH mode/, /TCP daemon/],
    ['build-1,cpp', /pump mode/, /normal mode/],
    ['build-1,auth', /GSSAPI/, /--allow/],
    ['build-1,zip', /unknown option `,zip`/, /lzo/],
    ['--randomize', /global option/, /HOST/],
    ['+zeroconf', /zeroconf/, /HOST/],
    ['build-1/0', /limit 0 is out of range/, /HOST/],
    ['build-1:99999', /port 99999 is out of range/, /HOST/],
    ['build-1:', /port `` is not a number/, /HOST/],
    ['build-1:1:2', /two ports/, /HOST/],
    ['build 1', /space, a shell or non-ASCII/, /one host per list entry/],
    ['b1;rm -rf /', /shell/, /one host/],
    ['$(id)', /shell/, /one host/],
    ['bü', /non-ASCII/, /one host/],
    ['300.1.1.1', /not a host name or an IP address/, /HOST/],
    ['-x', /not a host name/, /HOST/],
    ['[fd00::2', /without `]`/, /IPv6/],
    ['localhost:3632', /compiling in place/, /address instead/],
  ])('refuses %s, saying what to do', (s, message, hint) => {
    const r = refused(s);
    expect(r.message).toMatch(message);
    expect(r.hint).toMatch(hint);
  });

  it('-j: every remote slot plus localhost’s, else the local cores', () => {
    expect(distccJobs([host('a/2'), host('b/2'), host('localhost/1')], 2)).toBe(5);
    expect(distccJobs([host('a'), host('b/3')], 2)).toBe(9);
  });
});

describe('build.distcc at validate', () => {
  const fs = memfs({ '/p/linux-6.1.192.tar.xz': '' });
  const env = { fs, kernelfile: '/p/kernelfile.yaml', home: '/root' };
  const text = `apiVersion: kernelfile/v1
name: t
kernel:
  version: "6.1.192"
  source: {path: linux-6.1.192.tar.xz}
build:
  distcc:
    - b1/2
    - "@b2/4"
    - b1:3632/8
    - "b3 b4"
`;
  it('reports each bad entry at its line and column, and a host listed twice', () => {
    const r = validate(new TextEncoder().encode(text), 'kernelfile.yaml', env);
    expect(r.ok).toBe(false);
    const errors = r.ok ? [] : r.errors;
    expect(errors.map((e) => [e.code, e.line, e.column])).toEqual([
      ['bad-distcc-host', 9, 7],
      ['duplicate-distcc-host', 10, 7],
      ['bad-distcc-host', 11, 7],
    ]);
    expect(errors[1]?.message).toBe('distcc host b1:3632 is listed twice (also at line 8)');
    expect(errors[0]?.hint).toMatch(/distccd --daemon/);
  });

  it('accepts good ones', () => {
    const good = text.replace(
      / {4}- "@b2\/4"\n {4}- b1:3632\/8\n {4}- "b3 b4"\n/,
      '    - b2:3700/4,lzo\n    - localhost/1\n',
    );
    const r = validate(new TextEncoder().encode(good), 'kernelfile.yaml', env);
    expect(r.ok ? r.value.spec.build?.distcc : r.errors).toEqual(['b1/2', 'b2:3700/4,lzo', 'localhost/1']);
  });
});
