/** Hosts without a compiler: modules with a source on the controller are built there; others cannot be. */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../src/plan/planner.js';
import { loadCase, planOptions } from '../../helpers/plan-fixtures.js';

function noCompiler(name: string, edit?: (d: ReturnType<typeof loadCase>['desired']) => void) {
  const c = loadCase(name);
  const facts = structuredClone(c.facts);
  facts.tools = { ...facts.tools, gcc: null, cc: null };
  const desired = structuredClone(c.desired);
  edit?.(desired);
  return plan(desired, facts, planOptions(facts));
}

describe('a host without a compiler', () => {
  it('a module with a path is built on the controller (dkms mktarball) and loaded with dkms ldtarball', () => {
    const p = noCompiler('fresh-grub');
    expect(p.problems).toEqual([]);
    const m = p.changes.find((c) => c.resource === 'dkms-module');
    expect(m?.reason).toMatch(/has no compiler: built on the controller, loaded with dkms ldtarball$/);
    expect(m?.steps.map((s) => s.kind)).toEqual(['dkms-tarball', 'run']);
    const load = m?.steps[1];
    expect(load?.kind === 'run' && load.argv.slice(4)).toEqual([
      `/var/lib/kernelfile/staging/kernelfile-hello-1.0-${p.summary.release}.dkms.tar.gz`,
      'kernelfile-hello',
      '1.0',
      p.summary.release,
    ]);
  });

  it('with build.on: host, or an installed: true module (its source is only on the host), it is a problem', () => {
    const onHost = noCompiler('fresh-grub', (d) => {
      d.buildOn = 'host';
    });
    expect(onHost.problems.map((x) => x.code)).toEqual(['no-compiler']);
    expect(onHost.problems[0]?.hint).toContain('build.on: controller');
    const installed = noCompiler('fresh-grub', (d) => {
      d.modules = d.modules.map((m) => ({ ...m, path: null, installed: true }));
    });
    expect(installed.problems.map((x) => x.code)).toContain('no-compiler');
    expect(installed.problems.find((x) => x.code === 'no-compiler')?.message).toContain(
      'has its source only on the host',
    );
  });
});

describe('a build that signs DKMS modules (signing.dkms)', () => {
  const signing = {
    certificateDerBase64: 'MA==',
    sha1: 'ab'.repeat(20),
    subject: 'kernelfile test',
    enroll: true,
    modules: true,
    dkms: true,
    image: false,
  };

  it('builds a module with a path on the controller even where the host has a compiler: the key stays there', () => {
    const c = loadCase('fresh-grub');
    const desired = { ...structuredClone(c.desired), signing };
    expect(c.facts.tools.gcc ?? c.facts.tools.cc).toBeTruthy();
    const p = plan(desired, c.facts, planOptions(c.facts));
    const m = p.changes.find((x) => x.resource === 'dkms-module');
    expect(m?.reason).toMatch(/signing\.dkms.*: built on the controller, loaded with dkms ldtarball$/);
    expect(m?.steps.map((s) => s.kind)).toEqual(['dkms-tarball', 'run']);
  });

  it('with signing.dkms off, the host builds it as before', () => {
    const c = loadCase('fresh-grub');
    const desired = { ...structuredClone(c.desired), signing: { ...signing, dkms: false } };
    const p = plan(desired, c.facts, planOptions(c.facts));
    expect(p.changes.find((x) => x.resource === 'dkms-module')?.steps.map((s) => s.kind)).not.toContain(
      'dkms-tarball',
    );
  });
});
