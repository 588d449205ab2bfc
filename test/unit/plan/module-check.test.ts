import { describe, expect, it } from 'vitest';
import { type ModuleCheck, moduleCheckErrors } from '../../../src/dkms/module-check.js';

const check = (over: Partial<ModuleCheck>): ModuleCheck => ({
  name: 'acpi-call',
  version: '1.2.2',
  confFile: '/var/lib/dkms/acpi-call/1.2.2/source/dkms.conf',
  unmet: [],
  error: null,
  builtModules: ['acpi_call'],
  ...over,
});

describe('moduleCheckErrors', () => {
  it('says nothing about buildable modules', () => {
    expect(moduleCheckErrors([check({}), check({ name: 'zfs', version: '2.1.11' })])).toEqual([]);
  });

  it('names the missing option and says where to set it', () => {
    expect(moduleCheckErrors([check({ unmet: ['requires CONFIG_ACPI, which is not set'] })])).toEqual([
      {
        module: 'acpi-call 1.2.2',
        message: 'acpi-call 1.2.2 cannot be built for this kernel: requires CONFIG_ACPI, which is not set',
        hint: 'set CONFIG_ACPI: y under config.set in the kernelfile (check that it survives olddefconfig); or remove acpi-call from modules',
      },
    ]);
  });

  it('joins several requirements, and asks to turn a negated option off', () => {
    const [e] = moduleCheckErrors([
      check({
        name: 'fastnet',
        version: '0.9',
        unmet: [
          'requires CONFIG_NET=y or =m, but it is n',
          'requires CONFIG_PREEMPT_RT to be unset, but it is y',
          'requires a kernel matching ^5\\.(1[0-9]) (this kernel is 6.8.0)',
        ],
      }),
    ]);
    expect(e?.message).toBe(
      'fastnet 0.9 cannot be built for this kernel: requires CONFIG_NET=y or =m, but it is n; requires CONFIG_PREEMPT_RT to be unset, but it is y; requires a kernel matching ^5\\.(1[0-9]) (this kernel is 6.8.0)',
    );
    expect(e?.hint).toBe(
      'set CONFIG_NET: y, CONFIG_PREEMPT_RT: n under config.set in the kernelfile (check that it survives olddefconfig); build a kernel version fastnet 0.9 supports, or use a version of fastnet that supports this one; or remove fastnet from modules',
    );
  });

  it('has only one way out for an architecture it does not support', () => {
    const [e] = moduleCheckErrors([check({ unmet: ['requires arch x86_64|i.86 (this kernel is aarch64)'] })]);
    expect(e?.message).toBe(
      'acpi-call 1.2.2 cannot be built for this kernel: requires arch x86_64|i.86 (this kernel is aarch64)',
    );
    expect(e?.hint).toBe('remove acpi-call from modules');
  });

  it('reports a conf that could not be evaluated, naming the file', () => {
    const err = check({
      name: 'broken',
      version: '1',
      confFile: 'modules/broken/dkms.conf',
      error: 'modules/broken/dkms.conf is not valid bash: line 3: syntax error: unexpected end of file',
    });
    expect(moduleCheckErrors([err, check({ confFile: null, error: 'cannot read dkms.conf' })])).toEqual([
      {
        module: 'broken 1',
        message:
          'broken 1: modules/broken/dkms.conf is not valid bash: line 3: syntax error: unexpected end of file',
        hint: 'fix modules/broken/dkms.conf, or remove broken from modules',
      },
      {
        module: 'acpi-call 1.2.2',
        message: 'acpi-call 1.2.2: cannot read dkms.conf',
        hint: "check the module's dkms.conf, or remove acpi-call from modules",
      },
    ]);
  });
});
