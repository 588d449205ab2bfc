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

  describe("a version exclusion that a Kconfig option lifts (the conf reads the kernel's .config)", () => {
    const wmi = (over: Partial<ModuleCheck>) =>
      check({
        name: 'wmi-extra',
        version: '0.4',
        confFile: 'ssh://root@web-1:22:/usr/src/wmi-extra-0.4/dkms.conf',
        unmet: ['requires a kernel matching needs CONFIG_ACPI_WMI (this kernel is 6.1.119-web-kf0123abcd)'],
        ...over,
      });

    it('a message, lifted by one option: names the option, says the pattern is no version, no other kernel', () => {
      const [e] = moduleCheckErrors([
        wmi({
          kernelExclusion: {
            pattern: 'needs CONFIG_ACPI_WMI',
            versionPattern: false,
            tried: ['CONFIG_ACPI_WMI', 'CONFIG_ACPI'],
            liftedBy: [{ symbol: 'CONFIG_ACPI_WMI', value: 'y' }],
          },
        }),
      ]);
      expect(e?.message).toBe(
        'wmi-extra 0.4 cannot be built for this kernel: requires CONFIG_ACPI_WMI=y: its dkms.conf reads the kernel\'s .config and otherwise sets BUILD_EXCLUSIVE_KERNEL to "needs CONFIG_ACPI_WMI", a message rather than a kernel version: no kernel release matches it',
      );
      expect(e?.hint).toBe(
        'set CONFIG_ACPI_WMI: y under config.set in the kernelfile (check that it survives olddefconfig); or remove wmi-extra from modules',
      );
    });

    it('lifted by either of two options: one of them', () => {
      const [e] = moduleCheckErrors([
        wmi({
          name: 'fbtft-extra',
          unmet: ['requires a kernel matching NOT_SUPPORTED (this kernel is 6.1.119-web-kf0123abcd)'],
          kernelExclusion: {
            pattern: 'NOT_SUPPORTED',
            versionPattern: false,
            tried: ['CONFIG_DRM_KMS_HELPER', 'CONFIG_DRM_SIMPLE_KMS_HELPER'],
            liftedBy: [
              { symbol: 'CONFIG_DRM_KMS_HELPER', value: 'y' },
              { symbol: 'CONFIG_DRM_SIMPLE_KMS_HELPER', value: 'y' },
            ],
          },
        }),
      ]);
      expect(e?.message).toContain(
        'requires one of CONFIG_DRM_KMS_HELPER=y, CONFIG_DRM_SIMPLE_KMS_HELPER=y: its dkms.conf reads',
      );
      expect(e?.hint).toBe(
        'set one of CONFIG_DRM_KMS_HELPER: y, CONFIG_DRM_SIMPLE_KMS_HELPER: y under config.set in the kernelfile (check that it survives olddefconfig); or remove fbtft-extra from modules',
      );
    });

    it('a version pattern the config switches on (RT kernels only of one series): the option, and another kernel too', () => {
      const [e] = moduleCheckErrors([
        check({
          name: 'zfs',
          version: '2.1.11',
          unmet: ['requires a kernel matching ^5\\.15\\..*-rt (this kernel is 6.8.0-kf1)'],
          kernelExclusion: {
            pattern: '^5\\.15\\..*-rt',
            versionPattern: true,
            tried: ['CONFIG_PREEMPT_RT'],
            liftedBy: [{ symbol: 'CONFIG_PREEMPT_RT', value: 'n' }],
          },
        }),
      ]);
      expect(e?.message).toBe(
        "zfs 2.1.11 cannot be built for this kernel: requires CONFIG_PREEMPT_RT unset: its dkms.conf reads the kernel's .config and otherwise requires a kernel matching ^5\\.15\\..*-rt (this kernel is 6.8.0-kf1)",
      );
      expect(e?.hint).toBe(
        'set CONFIG_PREEMPT_RT: n under config.set in the kernelfile (check that it survives olddefconfig); build a kernel version zfs 2.1.11 supports, or use a version of zfs that supports this one; or remove zfs from modules',
      );
    });

    it('a message no single option lifts: says so, and asks to read the conf, not for another kernel', () => {
      const [e] = moduleCheckErrors([
        wmi({
          name: 'netx',
          version: '1.0',
          confFile: 'modules/netx/dkms.conf',
          unmet: [
            'requires a kernel matching requires networking (CONFIG_NET and CONFIG_INET) (this kernel is 6.8.0-kf1)',
            'requires CONFIG_PCI, which is not set',
          ],
          kernelExclusion: {
            pattern: 'requires networking (CONFIG_NET and CONFIG_INET)',
            versionPattern: false,
            tried: ['CONFIG_NET', 'CONFIG_INET'],
            liftedBy: [],
          },
        }),
      ]);
      expect(e?.message).toBe(
        'netx 1.0 cannot be built for this kernel: its dkms.conf sets BUILD_EXCLUSIVE_KERNEL to "requires networking (CONFIG_NET and CONFIG_INET)", a message rather than a kernel version: no kernel release matches it (none of the options it reads, CONFIG_NET, CONFIG_INET, lifts it when set the other way alone); requires CONFIG_PCI, which is not set',
      );
      expect(e?.hint).toBe(
        'set CONFIG_PCI: y under config.set in the kernelfile (check that it survives olddefconfig); read modules/netx/dkms.conf for what "requires networking (CONFIG_NET and CONFIG_INET)" asks of the kernel; or remove netx from modules',
      );
    });

    it('a plain version pattern nothing lifts: as before', () => {
      const unmet = ['requires a kernel matching ^5\\.(1[0-9]) (this kernel is 6.8.0)'];
      const [e] = moduleCheckErrors([
        check({
          unmet,
          kernelExclusion: { pattern: '^5\\.(1[0-9])', versionPattern: true, tried: [], liftedBy: [] },
        }),
      ]);
      expect(e).toEqual(moduleCheckErrors([check({ unmet })])[0]);
      expect(e?.hint).toContain('build a kernel version acpi-call 1.2.2 supports');
    });

    it('a message with control characters is shown quoted and escaped', () => {
      const [e] = moduleCheckErrors([
        wmi({
          kernelExclusion: { pattern: 'needs \u001b[31mX', versionPattern: false, tried: [], liftedBy: [] },
        }),
      ]);
      expect(e?.message).toContain('BUILD_EXCLUSIVE_KERNEL to "needs \\u001b[31mX"');
      expect(e?.message).not.toContain('\u001b');
    });
  });
});
