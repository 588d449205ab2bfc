/**
 * The pure half of naming the option that lifts a dkms.conf's exclusion (src/dkms/lift.ts): which
 * CONFIG_ symbols a conf mentions, the other value of each, the .config with it set so, and whether
 * a BUILD_EXCLUSIVE_KERNEL reads as a version pattern or as a message.
 */
import { describe, expect, it } from 'vitest';
import {
  configSymbols,
  configValue,
  describeOption,
  isVersionRequirement,
  looksLikeVersionPattern,
  MAX_CANDIDATES,
  otherWay,
  withOption,
} from '../../../src/dkms/lift.js';

// A conf in the shape some distribution -dkms packages use: it sources the kernel's .config and
// sets BUILD_EXCLUSIVE_KERNEL to a message when what it needs is off.
const WMI = `PACKAGE_NAME="wmi-extra"
PACKAGE_VERSION="0.4"
BUILT_MODULE_NAME[0]="wmi_extra"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"
if [ -r "\${kernel_source_dir}/.config" ]; then
  . "\${kernel_source_dir}/.config"
fi
# CONFIG_ACPI_WMI is what the driver binds through; CONFIG_ACPI comes with it.
if [ "\${CONFIG_ACPI_WMI}" != "y" ] && [ "\${CONFIG_ACPI_WMI}" != "m" ]; then
  BUILD_EXCLUSIVE_KERNEL="needs CONFIG_ACPI_WMI"
fi
`;

const CONFIG = `#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_MODULES=y
CONFIG_ACPI=y
# CONFIG_ACPI_WMI is not set
CONFIG_NR_CPUS=64
CONFIG_DEFAULT_HOSTNAME="(none)"
`;

describe('configSymbols', () => {
  it('the CONFIG_ symbols a conf mentions (code and comments alike), once each, in order', () => {
    expect(configSymbols(WMI)).toEqual(['CONFIG_ACPI_WMI', 'CONFIG_ACPI']);
  });

  it('none in a conf that does not read the config', () => {
    expect(configSymbols('PACKAGE_NAME="x"\nBUILD_EXCLUSIVE_KERNEL="^5\\\\.10"\n')).toEqual([]);
  });

  it(`at most ${MAX_CANDIDATES}: each one is another evaluation of the conf`, () => {
    const many = Array.from({ length: 30 }, (_, i) => `[ "$CONFIG_OPT_${i}" = y ] || X=1`).join('\n');
    const got = configSymbols(many);
    expect(got).toHaveLength(MAX_CANDIDATES);
    expect(got[0]).toBe('CONFIG_OPT_0');
  });
});

describe('the other way, and the .config with it', () => {
  it('a set option (y or m) is tried unset, an unset or absent one set to y', () => {
    expect(otherWay(CONFIG, 'CONFIG_ACPI')).toEqual({ symbol: 'CONFIG_ACPI', value: 'n' });
    expect(otherWay(`${CONFIG}CONFIG_KVM=m\n`, 'CONFIG_KVM')).toEqual({ symbol: 'CONFIG_KVM', value: 'n' });
    expect(otherWay(CONFIG, 'CONFIG_ACPI_WMI')).toEqual({ symbol: 'CONFIG_ACPI_WMI', value: 'y' });
    expect(otherWay(CONFIG, 'CONFIG_ABSENT')).toEqual({ symbol: 'CONFIG_ABSENT', value: 'y' });
    expect(configValue(CONFIG, 'CONFIG_NR_CPUS')).toBe('64');
    expect(configValue(CONFIG, 'CONFIG_ACPI_WMI')).toBe('n');
  });

  it('replaces the line of the option, keeps every other line', () => {
    const on = withOption(CONFIG, { symbol: 'CONFIG_ACPI_WMI', value: 'y' });
    expect(on).not.toContain('# CONFIG_ACPI_WMI is not set');
    expect(on.split('\n').filter((l) => l.startsWith('CONFIG_ACPI_WMI'))).toEqual(['CONFIG_ACPI_WMI=y']);
    expect(on).toContain('CONFIG_DEFAULT_HOSTNAME="(none)"\n');
    const off = withOption(CONFIG, { symbol: 'CONFIG_ACPI', value: 'n' });
    expect(off).toMatch(/^# CONFIG_ACPI is not set$/m);
    expect(off).not.toMatch(/^CONFIG_ACPI=/m);
    // A prefix of another symbol is not that symbol.
    expect(withOption(CONFIG, { symbol: 'CONFIG_ACP', value: 'y' })).toContain('CONFIG_ACPI=y\n');
    expect(off.endsWith('\n')).toBe(true);
  });

  it('describes an option as set or unset', () => {
    expect(describeOption({ symbol: 'CONFIG_X', value: 'y' })).toBe('CONFIG_X=y');
    expect(describeOption({ symbol: 'CONFIG_X', value: 'n' })).toBe('CONFIG_X unset');
  });
});

describe('version patterns and messages', () => {
  it.each([
    ['^5\\.(1[0-9])', true],
    ['^6\\.[0-9]+\\.', true],
    ['5.15.*-rt', true],
    ['needs CONFIG_ACPI_WMI', false],
    ['CONFIG_DRM_KMS_HELPER', false],
    ['NOT_SUPPORTED', false],
    ['requires networking (CONFIG_NET and CONFIG_INET)', false],
  ])('%s: version pattern %s', (p, expected) => {
    expect(looksLikeVersionPattern(p)).toBe(expected);
  });

  it('version requirements are the kernel ones, not config or arch', () => {
    expect(isVersionRequirement('requires a kernel matching ^5\\.(1[0-9]) (this kernel is 6.8.0)')).toBe(
      true,
    );
    expect(isVersionRequirement('requires kernel 5.4 or newer (this kernel is 4.19.0)')).toBe(true);
    expect(isVersionRequirement('requires a kernel older than 6.2 (OBSOLETE_BY: …)')).toBe(true);
    expect(isVersionRequirement('requires CONFIG_ACPI, which is not set')).toBe(false);
    expect(isVersionRequirement('requires arch x86_64|i.86 (this kernel is aarch64)')).toBe(false);
  });
});
