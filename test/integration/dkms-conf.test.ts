import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DkmsConfInput, evaluateDkmsConf, readModuleConf } from '../../src/dkms/conf.js';
import { moduleCheckErrors } from '../../src/dkms/module-check.js';
import { DkmsPreflight } from '../../src/dkms/preflight.js';
import type { HostFacts } from '../../src/facts/types.js';
import type { Spec } from '../../src/spec/schema.js';

// dkms.conf files written for these tests, in the shapes real -dkms packages use.

/** A slice of a real-looking x86_64 .config (with the string values real ones have). */
const CONFIG_BASE = `#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 6.8.0 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14) 12.2.0"
CONFIG_CC_IS_GCC=y
CONFIG_LOCALVERSION=""
# CONFIG_LOCALVERSION_AUTO is not set
CONFIG_DEFAULT_HOSTNAME="(none)"
CONFIG_NR_CPUS=64
CONFIG_X86_64=y
CONFIG_NET=y
CONFIG_PCI=y
CONFIG_MODULES=y
CONFIG_ACPI_WMI=m
`;
const withConfig = (...lines: string[]) => `${CONFIG_BASE}${lines.map((l) => `${l}\n`).join('')}`;

const PLAIN = `PACKAGE_NAME="hello"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="hello"
DEST_MODULE_LOCATION[0]="/updates/dkms"
MAKE[0]="make -C \${kernel_source_dir} M=\${dkms_tree}/\${PACKAGE_NAME}/\${PACKAGE_VERSION}/build"
CLEAN="make -C \${kernel_source_dir} M=\${dkms_tree}/\${PACKAGE_NAME}/\${PACKAGE_VERSION}/build clean"
AUTOINSTALL="yes"
`;

const ACPI_CALL = `PACKAGE_NAME="acpi-call"
PACKAGE_VERSION="1.2.2"
BUILT_MODULE_NAME[0]="acpi_call"
DEST_MODULE_LOCATION[0]="/updates/dkms"
MAKE[0]="make KVERSION=$kernelver"
AUTOINSTALL="yes"
BUILD_EXCLUSIVE_CONFIG="CONFIG_ACPI"
`;

const NOT_RT = `PACKAGE_NAME="fastnet"
PACKAGE_VERSION="0.9"
BUILT_MODULE_NAME[0]="fastnet"
DEST_MODULE_LOCATION[0]="/extra"
AUTOINSTALL="yes"
# The driver takes spinlocks the RT patch turns into sleeping locks.
BUILD_EXCLUSIVE_CONFIG="!CONFIG_PREEMPT_RT"
`;

const SEVERAL = `PACKAGE_NAME="wmi-laptop"
PACKAGE_VERSION="2.3"
BUILT_MODULE_NAME[0]="wmi_laptop"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL=yes
BUILD_EXCLUSIVE_CONFIG="CONFIG_NET CONFIG_ACPI_WMI CONFIG_ACPI CONFIG_PCI"
`;

const OLD_KERNELS = `PACKAGE_NAME="legacy-wifi"
PACKAGE_VERSION="5.6.4.2"
BUILT_MODULE_NAME[0]="88XXau"
DEST_MODULE_LOCATION[0]="/kernel/drivers/net/wireless"
MAKE="'make' -j4 KVER=\${kernelver} KSRC=\${kernel_source_dir}"
CLEAN="'make' clean"
AUTOINSTALL="yes"
BUILD_EXCLUSIVE_KERNEL="^5\\.(1[0-9])"
`;

const X86_ONLY = `PACKAGE_NAME="acpi-call"
PACKAGE_VERSION="1.2.2"
BUILT_MODULE_NAME[0]="acpi_call"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"
BUILD_EXCLUSIVE_ARCH="x86_64|i.86"
`;

/** Reads the kernel's .config itself and restricts itself only on RT kernels. */
const RT_CONDITIONAL = `PACKAGE_NAME="zfs"
PACKAGE_VERSION="2.1.11"
PACKAGE_CONFIG="/etc/dkms/zfs.conf"
BUILT_MODULE_NAME[0]="zfs"
BUILT_MODULE_LOCATION[0]="module/zfs/"
DEST_MODULE_LOCATION[0]="/extra"
AUTOINSTALL="yes"

if [ -f "\${kernel_source_dir}/.config" ]; then
  . "\${kernel_source_dir}/.config"
fi
if [ "\${CONFIG_PREEMPT_RT}" = "y" ]; then
  # Only the 5.15 RT series is known to work.
  BUILD_EXCLUSIVE_KERNEL="^5\\.15\\..*-rt"
fi
`;

/**
 * Sources the kernel's .config and, without the option it needs, sets BUILD_EXCLUSIVE_KERNEL to a
 * message rather than a version pattern (the way some distribution packages say "needs CONFIG_X").
 */
const WMI_MESSAGE = `PACKAGE_NAME="wmi-extra"
PACKAGE_VERSION="0.4"
BUILT_MODULE_NAME[0]="wmi_extra"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"

if [ -r "\${kernel_source_dir}/.config" ]; then
  . "\${kernel_source_dir}/.config"
fi
# The driver binds through ACPI WMI; without it there is nothing to bind to.
if [ "\${CONFIG_ACPI_WMI}" != "y" ] && [ "\${CONFIG_ACPI_WMI}" != "m" ]; then
  BUILD_EXCLUSIVE_KERNEL="needs CONFIG_ACPI_WMI"
fi
`;

/** Greps the .config for either of two helpers; without both, a bare marker no release matches. */
const EITHER_HELPER = `PACKAGE_NAME="panel-extra"
PACKAGE_VERSION="1.3"
BUILT_MODULE_NAME[0]="panel_extra"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"
if ! grep -q -E '^CONFIG_DRM_KMS_HELPER=[ym]' "$kernel_source_dir/.config" && \\
   ! grep -q -E '^CONFIG_DRM_SIMPLE_KMS_HELPER=[ym]' "$kernel_source_dir/.config"; then
  BUILD_EXCLUSIVE_KERNEL="NOT_SUPPORTED"
fi
`;

/** Needs two options at once: no single one lifts it. */
const BOTH_NEEDED = `PACKAGE_NAME="netx"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="netx"
DEST_MODULE_LOCATION[0]="/extra"
AUTOINSTALL="yes"
. "$kernel_source_dir/.config"
if [ "$CONFIG_IPV6" != y ] || [ "$CONFIG_NETFILTER" != y ]; then
  BUILD_EXCLUSIVE_KERNEL="requires IPv6 and netfilter (CONFIG_IPV6, CONFIG_NETFILTER)"
fi
`;

/** Setting the option the message asks for trips its own BUILD_EXCLUSIVE_CONFIG: no way out by one option. */
const SELF_CONFLICT = `PACKAGE_NAME="legacy-fb"
PACKAGE_VERSION="2.0"
BUILT_MODULE_NAME[0]="legacy_fb"
DEST_MODULE_LOCATION[0]="/extra"
AUTOINSTALL="yes"
. "$kernel_source_dir/.config"
[ "$CONFIG_FB" = y ] || BUILD_EXCLUSIVE_KERNEL="needs CONFIG_FB built in"
BUILD_EXCLUSIVE_CONFIG="!CONFIG_FB"
`;

/** Sources the .config and sets BUILD_EXCLUSIVE_CONFIG from it: dkms itself names the option. */
const CONFIG_FROM_CONFIG = `PACKAGE_NAME="x86-wmi"
PACKAGE_VERSION="0.9"
BUILT_MODULE_NAME[0]="x86_wmi"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"
. "$kernel_source_dir/.config"
if [ "$CONFIG_X86_64" = y ]; then
  BUILD_EXCLUSIVE_CONFIG="CONFIG_ACPI CONFIG_ACPI_WMI"
fi
`;

const MULTI = `PACKAGE_NAME="nvidia-open"
PACKAGE_VERSION="550.120"
MAKE_MATCH[0]="^[0-5]\\."
MAKE[0]="make modules KERNEL_UNAME=\${kernelver} SYSSRC=\${kernel_source_dir} LEGACY=1"
MAKE_MATCH[1]="^6\\."
MAKE[1]="make modules -j$(nproc 2>/dev/null || echo 1) KERNEL_UNAME=\${kernelver} SYSSRC=\${kernel_source_dir}"
BUILT_MODULE_NAME[0]="nvidia"
DEST_MODULE_LOCATION[0]="/kernel/drivers/video"
BUILT_MODULE_NAME[1]="nvidia-modeset"
DEST_MODULE_LOCATION[1]="/kernel/drivers/video"
BUILT_MODULE_NAME[2]="nvidia-drm"
DEST_MODULE_LOCATION[2]="/kernel/drivers/video"
AUTOINSTALL="yes"
`;

const base = (conf: string, over: Partial<DkmsConfInput> = {}): DkmsConfInput => ({
  conf,
  confFile: 'modules/x/dkms.conf',
  kernelver: '6.8.0-kf1',
  arch: 'x86_64',
  configText: CONFIG_BASE,
  ...over,
});

interface Case {
  name: string;
  input: DkmsConfInput;
  unmet: string[];
}

const CASES: Case[] = [
  { name: 'a plain module', input: base(PLAIN), unmet: [] },
  {
    name: 'BUILD_EXCLUSIVE_CONFIG, option missing',
    input: base(ACPI_CALL),
    unmet: ['requires CONFIG_ACPI, which is not set'],
  },
  {
    name: 'BUILD_EXCLUSIVE_CONFIG, option "is not set"',
    input: base(ACPI_CALL, { configText: withConfig('# CONFIG_ACPI is not set') }),
    unmet: ['requires CONFIG_ACPI, which is not set'],
  },
  {
    name: 'BUILD_EXCLUSIVE_CONFIG, =y',
    input: base(ACPI_CALL, { configText: withConfig('CONFIG_ACPI=y') }),
    unmet: [],
  },
  {
    name: 'BUILD_EXCLUSIVE_CONFIG, =m',
    input: base(ACPI_CALL, { configText: withConfig('CONFIG_ACPI=m') }),
    unmet: [],
  },
  {
    name: 'BUILD_EXCLUSIVE_CONFIG, a value other than y/m',
    input: base(ACPI_CALL, { configText: withConfig('CONFIG_ACPI=n') }),
    unmet: ['requires CONFIG_ACPI=y or =m, but it is n'],
  },
  {
    name: 'negated config, set',
    input: base(NOT_RT, { configText: withConfig('CONFIG_PREEMPT_RT=y') }),
    unmet: ['requires CONFIG_PREEMPT_RT to be unset, but it is y'],
  },
  { name: 'negated config, unset', input: base(NOT_RT), unmet: [] },
  {
    name: 'several configs, one missing (CONFIG_ACPI_WMI=m does not count for CONFIG_ACPI)',
    input: base(SEVERAL),
    unmet: ['requires CONFIG_ACPI, which is not set'],
  },
  {
    name: 'several configs, all there',
    input: base(SEVERAL, { configText: withConfig('CONFIG_ACPI=y') }),
    unmet: [],
  },
  {
    name: 'BUILD_EXCLUSIVE_KERNEL matched',
    input: base(OLD_KERNELS, { kernelver: '5.15.0-91-generic' }),
    unmet: [],
  },
  {
    name: 'BUILD_EXCLUSIVE_KERNEL not matched',
    input: base(OLD_KERNELS, { kernelver: '6.8.0-kf1' }),
    unmet: ['requires a kernel matching ^5\\.(1[0-9]) (this kernel is 6.8.0-kf1)'],
  },
  {
    name: 'BUILD_EXCLUSIVE_KERNEL is a regex search, not a full match',
    input: base(OLD_KERNELS, { kernelver: '5.100.0' }),
    unmet: [],
  },
  {
    name: 'BUILD_EXCLUSIVE_ARCH not matched',
    input: base(X86_ONLY, { arch: 'aarch64' }),
    unmet: ['requires arch x86_64|i.86 (this kernel is aarch64)'],
  },
  { name: 'BUILD_EXCLUSIVE_ARCH matched (x86_64)', input: base(X86_ONLY), unmet: [] },
  { name: 'BUILD_EXCLUSIVE_ARCH matched (i686)', input: base(X86_ONLY, { arch: 'i686' }), unmet: [] },
  {
    name: 'conditional on the sourced .config: RT kernel',
    input: base(RT_CONDITIONAL, { configText: withConfig('CONFIG_PREEMPT_RT=y') }),
    unmet: ['requires a kernel matching ^5\\.15\\..*-rt (this kernel is 6.8.0-kf1)'],
  },
  {
    name: 'conditional on the sourced .config: RT kernel of the right series',
    input: base(RT_CONDITIONAL, {
      kernelver: '5.15.160-rt77',
      configText: withConfig('CONFIG_PREEMPT_RT=y'),
    }),
    unmet: [],
  },
  { name: 'conditional on the sourced .config: not RT', input: base(RT_CONDITIONAL), unmet: [] },
  {
    name: 'a message in BUILD_EXCLUSIVE_KERNEL, the option it needs off',
    input: base(WMI_MESSAGE, { configText: CONFIG_BASE.replace('CONFIG_ACPI_WMI=m\n', '') }),
    unmet: ['requires a kernel matching needs CONFIG_ACPI_WMI (this kernel is 6.8.0-kf1)'],
  },
  {
    name: 'a message in BUILD_EXCLUSIVE_KERNEL, the option it needs on',
    input: base(WMI_MESSAGE),
    unmet: [],
  },
  {
    name: 'a bare marker in BUILD_EXCLUSIVE_KERNEL, neither helper set',
    input: base(EITHER_HELPER),
    unmet: ['requires a kernel matching NOT_SUPPORTED (this kernel is 6.8.0-kf1)'],
  },
  {
    name: 'a bare marker in BUILD_EXCLUSIVE_KERNEL, one helper set',
    input: base(EITHER_HELPER, { configText: withConfig('CONFIG_DRM_SIMPLE_KMS_HELPER=m') }),
    unmet: [],
  },
  {
    name: 'BUILD_EXCLUSIVE_CONFIG set from the sourced .config',
    input: base(CONFIG_FROM_CONFIG, { configText: withConfig('CONFIG_ACPI=y') }),
    unmet: [],
  },
  {
    name: 'BUILD_EXCLUSIVE_CONFIG set from the sourced .config, unmet',
    input: base(CONFIG_FROM_CONFIG),
    unmet: ['requires CONFIG_ACPI, which is not set'],
  },
  { name: 'MAKE with $kernelver, three modules', input: base(MULTI), unmet: [] },
  {
    name: 'BUILD_EXCLUSIVE_KERNEL that is not a valid regex',
    input: base(`${PLAIN}BUILD_EXCLUSIVE_KERNEL="^(5\\.4"\n`),
    unmet: [
      'requires a kernel matching ^(5\\.4, which is not a valid regular expression: dkms never builds it',
    ],
  },
];

describe('evaluateDkmsConf', () => {
  for (const c of CASES)
    it(c.name, async () => {
      const r = await evaluateDkmsConf(c.input);
      expect(r.error).toBeNull();
      expect(r.unmet).toEqual(c.unmet);
    });

  it('reads the variables of a plain module', async () => {
    const r = await evaluateDkmsConf(base(PLAIN));
    expect(r.vars).toEqual({
      packageName: 'hello',
      packageVersion: '1.0',
      builtModules: ['hello'],
      autoinstall: true,
      make: expect.stringMatching(/^make -C \/\S+\/build M=\/var\/lib\/dkms\/hello\/1\.0\/build$/),
      buildExclusive: { kernel: null, kernelMin: null, kernelMax: null, arch: null, config: null },
    });
  });

  it('expands $kernelver and picks MAKE[n] by MAKE_MATCH; reads BUILT_MODULE_NAME[0..2]', async () => {
    const r6 = await evaluateDkmsConf(base(MULTI));
    expect(r6.vars?.builtModules).toEqual(['nvidia', 'nvidia-modeset', 'nvidia-drm']);
    expect(r6.vars?.make).toMatch(/^make modules -j\d+ KERNEL_UNAME=6\.8\.0-kf1 SYSSRC=\/\S+$/);
    const r5 = await evaluateDkmsConf(base(MULTI, { kernelver: '5.10.0-30-amd64' }));
    expect(r5.vars?.make).toMatch(/^make modules KERNEL_UNAME=5\.10\.0-30-amd64 SYSSRC=\S+ LEGACY=1$/);
  });

  it('defaults BUILT_MODULE_NAME to PACKAGE_NAME when there is one DEST_MODULE_LOCATION', async () => {
    const conf = 'PACKAGE_NAME="hello"\nPACKAGE_VERSION="1.0"\nDEST_MODULE_LOCATION[0]="/extra"\n';
    const r = await evaluateDkmsConf(base(conf));
    expect(r.error).toBeNull();
    expect(r.vars?.builtModules).toEqual(['hello']);
    expect(r.vars?.autoinstall).toBe(false);
  });

  it('gives the values a second expansion, as dkms safe_source does', async () => {
    // Single quotes keep $kernelver in the conf; dkms's NAME[i]="value" round trip expands it, and
    // the unquoted expansion inside its eval squeezes the spaces.
    const conf = `${PLAIN}MAKE[0]='make   KVER=$kernelver   all'\n`;
    const r = await evaluateDkmsConf(base(conf));
    expect(r.vars?.make).toBe('make KVER=6.8.0-kf1 all');
  });

  it('reports what the conf prints as noise, not as results', async () => {
    const conf = `echo name; printf 'done\\0ok\\0'; echo oops >&2\n${PLAIN}`;
    const r = await evaluateDkmsConf(base(conf));
    expect(r.error).toBeNull();
    expect(r.vars?.packageName).toBe('hello');
  });

  it('checks BUILD_EXCLUSIVE_KERNEL_MIN/MAX with dkms VER() string comparison', async () => {
    const conf = `${PLAIN}BUILD_EXCLUSIVE_KERNEL_MIN="5.4"\nBUILD_EXCLUSIVE_KERNEL_MAX="6.1"\n`;
    expect((await evaluateDkmsConf(base(conf, { kernelver: '5.10.0-30-amd64' }))).unmet).toEqual([]);
    expect((await evaluateDkmsConf(base(conf, { kernelver: '4.19.0-26-amd64' }))).unmet).toEqual([
      'requires kernel 5.4 or newer (this kernel is 4.19.0-26-amd64)',
    ]);
    expect((await evaluateDkmsConf(base(conf, { kernelver: '6.8.0' }))).unmet).toEqual([
      'requires kernel 6.1 or older (this kernel is 6.8.0)',
    ]);
    // dkms's semantics, surprising as they are: 6.1.119 > 6.1 (longer string), so MAX=6.1 excludes it.
    expect((await evaluateDkmsConf(base(conf, { kernelver: '6.1.119' }))).unmet).toHaveLength(1);
    const r = await evaluateDkmsConf(base(conf));
    expect(r.vars?.buildExclusive).toMatchObject({ kernelMin: '5.4', kernelMax: '6.1' });
  });

  it('checks OBSOLETE_BY as dkms 3.0 install does', async () => {
    const conf = `${PLAIN}OBSOLETE_BY="6.2"\n`;
    expect((await evaluateDkmsConf(base(conf, { kernelver: '6.1.0-13-amd64' }))).unmet).toEqual([]);
    expect((await evaluateDkmsConf(base(conf, { kernelver: '6.8.0' }))).unmet).toEqual([
      'requires a kernel older than 6.2 (OBSOLETE_BY: dkms will not install it into 6.8.0)',
    ]);
  });

  it('reports a syntax error, naming the file', async () => {
    const conf = 'PACKAGE_NAME="hello"\nif [ -n "$kernelver" ]; then\n  PACKAGE_VERSION=1.0\n';
    const r = await evaluateDkmsConf(base(conf, { confFile: '/src/hello/dkms.conf' }));
    expect(r.vars).toBeNull();
    expect(r.unmet).toEqual([]);
    expect(r.error).toMatch(
      /^\/src\/hello\/dkms\.conf is not valid bash: \/src\/hello\/dkms\.conf: line \d+: syntax error/,
    );
  });

  it('reports what dkms would refuse ("Bad conf file")', async () => {
    const conf = 'PACKAGE_NAME="hello"\nPACKAGE_VERSION="1.0"\nBUILT_MODULE_NAME[0]="hello.ko"\n';
    const r = await evaluateDkmsConf(base(conf));
    expect(r.vars?.packageName).toBe('hello');
    expect(r.error).toBe(
      "dkms would refuse modules/x/dkms.conf (Bad conf file): 'BUILT_MODULE_NAME' directive ends in '.o' or '.ko' in record #0. 'DEST_MODULE_NAME' directive ends in '.o' or '.ko' in record #0. No 'DEST_MODULE_LOCATION' directive specified for record #0.",
    );
  });

  it('a conf that exits early leaves dkms with nothing', async () => {
    const r = await evaluateDkmsConf(base(`exit 0\n${PLAIN}`));
    expect(r.vars?.packageName).toBeNull();
    expect(r.error).toMatch(/No 'PACKAGE_NAME' directive specified/);
  });

  it('stops a conf that loops forever', async () => {
    const t0 = Date.now();
    const r = await evaluateDkmsConf(base(`${PLAIN}while :; do :; done\n`, { timeoutMs: 1000 }));
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.vars).toBeNull();
    expect(r.error).toBe(
      'modules/x/dkms.conf could not be evaluated: it ran for more than 1 s (does it loop, or wait for something?)',
    );
  });

  it('stops a conf that ignores SIGTERM and leaves a child behind', async () => {
    const t0 = Date.now();
    const conf = `trap '' TERM\n(trap '' TERM; sleep 30) &\nwhile :; do :; done\n`;
    const r = await evaluateDkmsConf(base(conf, { timeoutMs: 500 }));
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.error).toMatch(/ran for more than 0.5 s/);
  });

  it('ends what a conf leaves running in the background', async () => {
    const t0 = Date.now();
    // A duration no other test sleeps: pgrep looks at every process of the machine.
    const r = await evaluateDkmsConf(base(`sleep 30.437 &\n(sleep 30.437 >&2) &\n${PLAIN}`));
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.error).toBeNull();
    const left = await execa('pgrep', ['-f', '^sleep 30\\.437$'], { reject: false });
    expect(String(left.stdout)).toBe('');
  });

  it('does not wait for input', async () => {
    const r = await evaluateDkmsConf(base(`read -r line\n${PLAIN}`));
    expect(r.error).toBeNull();
  });

  it('runs with an empty environment, unprivileged', async () => {
    process.env.KERNELFILE_TEST_SECRET = 'hunter2';
    try {
      const conf = `${PLAIN.replace('PACKAGE_VERSION="1.0"', 'PACKAGE_VERSION="$(env | cut -d= -f1 | sort | tr "\\n" ,)"')}
BUILT_MODULE_NAME[1]="secret-\${KERNELFILE_TEST_SECRET:-none}-home-\${HOME:-none}"
DEST_MODULE_LOCATION[1]="/extra"
BUILT_MODULE_NAME[2]="uid$(id -u)"
DEST_MODULE_LOCATION[2]="/extra"
`;
      const r = await evaluateDkmsConf(base(conf));
      expect(r.error).toBeNull();
      expect(r.vars?.packageVersion).toBe('PATH,PWD,SHLVL,_,');
      expect(r.vars?.builtModules[1]).toBe('secret-none-home-none');
      const uid = process.getuid?.();
      expect(r.vars?.builtModules[2]).toBe(`uid${uid === 0 ? 65534 : uid}`);
    } finally {
      delete process.env.KERNELFILE_TEST_SECRET;
    }
  });

  it('takes well under a second', async () => {
    await evaluateDkmsConf(base(RT_CONDITIONAL));
    const t0 = performance.now();
    const n = 5;
    for (let i = 0; i < n; i++) await evaluateDkmsConf(base(RT_CONDITIONAL));
    expect((performance.now() - t0) / n).toBeLessThan(1000);
  });
});

// The same cases through dkms's own read_conf (its functions sourced from /usr/sbin/dkms, which
// only reads the conf and the .config here): dkms excludes the module exactly when we report an
// unmet requirement, and reads the same names.
const REAL_DKMS = '/usr/sbin/dkms';
const REAL_READ_CONF = `
n=$(grep -n '^#### Program Starts Here' "$5" | cut -d: -f1)
[ -n "$n" ] || exit 3
source <(head -n $((n - 3)) "$5")
current_os=Linux dkms_tree=/nonexistent/dkms source_tree=/nonexistent/src install_tree=/nonexistent/modules
module=kernelfile-crosscheck-nonexistent module_version=0 kernel_source_dir=$4 ksourcedir_fromcli=true
die_is_fatal=no
read_conf "$2" "$3" "$1" >/dev/null 2>&1; rc=$?
printf '%s\\0' "$rc" "$build_exclude" "$package_name" "$package_version" "\${built_module_name[@]}"
`;

describe.skipIf(!existsSync(REAL_DKMS))(`cross-check with ${REAL_DKMS}`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-dkms-xcheck-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const c of CASES)
    it(c.name, async () => {
      const ksrc = join(dir, c.name.replace(/\W+/g, '-'));
      await mkdir(ksrc, { recursive: true });
      await writeFile(join(ksrc, '.config'), c.input.configText);
      await writeFile(join(ksrc, 'dkms.conf'), c.input.conf);
      const real = await execa(
        'env',
        [
          '-i',
          'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
          'bash',
          '-c',
          REAL_READ_CONF,
          'x',
          join(ksrc, 'dkms.conf'),
          c.input.kernelver,
          c.input.arch,
          ksrc,
          REAL_DKMS,
        ],
        { cwd: ksrc, reject: false, stdin: 'ignore' },
      );
      expect(real.exitCode).toBe(0);
      const [rc, exclude, name, version, ...built] = String(real.stdout).split('\0').slice(0, -1);
      const ours = await evaluateDkmsConf(c.input);
      expect(rc).toBe('0');
      expect(exclude === 'yes').toBe(ours.unmet.length > 0);
      expect(name).toBe(ours.vars?.packageName);
      expect(version).toBe(ours.vars?.packageVersion);
      expect(built).toEqual(ours.vars?.builtModules);
    });
});

// The preflight as a plan runs it (a repository module, evaluated in the sandbox): when the conf
// excludes the new kernel by version, the option that lifts the exclusion, found by evaluating the
// conf again with each CONFIG_ symbol it reads set the other way.
describe('DkmsPreflight: the Kconfig option that lifts an exclusion', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-dkms-lift-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** One module with `conf` through a fresh preflight and cache; its check and how many evaluations ran. */
  async function preflight(conf: string, configText: string, release = '6.8.0-kf1') {
    const name = `m${++n}`;
    await mkdir(join(dir, name, 'src'), { recursive: true });
    await writeFile(join(dir, name, 'src', 'dkms.conf'), conf);
    const spec = { modules: [{ name, version: '1.0', path: join(dir, name, 'src') }] } as unknown as Spec;
    const root = join(dir, name, 'cache');
    const [check] = await new DkmsPreflight().check(
      spec,
      (p) => p,
      { host: 'local' } as HostFacts,
      {
        buildId: `lift-${name}`,
        release,
        arch: 'x86_64',
        config: { text: configText } as never,
        dirs: { root },
      },
      null,
    );
    const evaluations = existsSync(join(root, 'dkms-conf'))
      ? (await readdir(join(root, 'dkms-conf'))).length
      : 0;
    if (!check) throw new Error('no check');
    return { check, evaluations, error: moduleCheckErrors([check])[0] };
  }

  it('a message BUILD_EXCLUSIVE_KERNEL: the option it needs, not another kernel version', async () => {
    const r = await preflight(WMI_MESSAGE, CONFIG_BASE.replace('CONFIG_ACPI_WMI=m\n', ''));
    expect(r.check.kernelExclusion).toEqual({
      pattern: 'needs CONFIG_ACPI_WMI',
      versionPattern: false,
      tried: ['CONFIG_ACPI_WMI'],
      liftedBy: [{ symbol: 'CONFIG_ACPI_WMI', value: 'y' }],
    });
    expect(r.evaluations).toBe(2);
    expect(r.error?.message).toBe(
      `${r.check.name} 1.0 cannot be built for this kernel: requires CONFIG_ACPI_WMI=y: its dkms.conf reads the kernel's .config and otherwise sets BUILD_EXCLUSIVE_KERNEL to "needs CONFIG_ACPI_WMI", a message rather than a kernel version: no kernel release matches it`,
    );
    expect(r.error?.hint).toMatch(/^set CONFIG_ACPI_WMI: y under config\.set in the kernelfile/);
    expect(r.error?.hint).not.toContain('kernel version');
  });

  it('either of two options: both named', async () => {
    const r = await preflight(EITHER_HELPER, CONFIG_BASE);
    expect(r.check.kernelExclusion?.liftedBy).toEqual([
      { symbol: 'CONFIG_DRM_KMS_HELPER', value: 'y' },
      { symbol: 'CONFIG_DRM_SIMPLE_KMS_HELPER', value: 'y' },
    ]);
    expect(r.error?.message).toContain(
      'requires one of CONFIG_DRM_KMS_HELPER=y, CONFIG_DRM_SIMPLE_KMS_HELPER=y: its dkms.conf reads',
    );
  });

  it('two options needed at once: none alone, and the plan says so', async () => {
    const r = await preflight(BOTH_NEEDED, CONFIG_BASE);
    expect(r.check.kernelExclusion).toMatchObject({
      versionPattern: false,
      tried: ['CONFIG_IPV6', 'CONFIG_NETFILTER'],
      liftedBy: [],
    });
    expect(r.error?.message).toContain(
      'none of the options it reads, CONFIG_IPV6, CONFIG_NETFILTER, lifts it',
    );
    expect(r.error?.hint).toContain(`read ${join(dir, r.check.name, 'src', 'dkms.conf')} for what`);
  });

  it('an option that lifts the version exclusion but trips another requirement does not count', async () => {
    const r = await preflight(SELF_CONFLICT, CONFIG_BASE);
    expect(r.check.kernelExclusion).toMatchObject({ tried: ['CONFIG_FB'], liftedBy: [] });
  });

  it('a version pattern the .config switches on (RT): the option, and another kernel still an answer', async () => {
    const r = await preflight(RT_CONDITIONAL, withConfig('CONFIG_PREEMPT_RT=y'));
    expect(r.check.kernelExclusion).toEqual({
      pattern: '^5\\.15\\..*-rt',
      versionPattern: true,
      tried: ['CONFIG_PREEMPT_RT'],
      liftedBy: [{ symbol: 'CONFIG_PREEMPT_RT', value: 'n' }],
    });
    expect(r.error?.message).toContain('requires CONFIG_PREEMPT_RT unset: its dkms.conf reads');
    expect(r.error?.hint).toContain('set CONFIG_PREEMPT_RT: n under config.set');
    expect(r.error?.hint).toContain('build a kernel version');
  });

  it('a plain version pattern: nothing to try, the message as before', async () => {
    const r = await preflight(OLD_KERNELS, CONFIG_BASE);
    expect(r.check.kernelExclusion).toEqual({
      pattern: '^5\\.(1[0-9])',
      versionPattern: true,
      tried: [],
      liftedBy: [],
    });
    expect(r.evaluations).toBe(1);
    expect(r.error?.message).toBe(
      `${r.check.name} 1.0 cannot be built for this kernel: requires a kernel matching ^5\\.(1[0-9]) (this kernel is 6.8.0-kf1)`,
    );
  });

  it('BUILD_EXCLUSIVE_CONFIG set from the .config names its option as it is; buildable modules cost one evaluation', async () => {
    const r = await preflight(CONFIG_FROM_CONFIG, CONFIG_BASE);
    expect(r.check.kernelExclusion).toBeUndefined();
    expect(r.check.unmet).toEqual(['requires CONFIG_ACPI, which is not set']);
    expect(r.error?.hint).toMatch(/^set CONFIG_ACPI: y under config\.set/);
    const ok = await preflight(WMI_MESSAGE, CONFIG_BASE);
    expect(ok.check.unmet).toEqual([]);
    expect(ok.check.kernelExclusion).toBeUndefined();
    expect(ok.evaluations).toBe(1);
  });
});

describe('readModuleConf', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-modconf-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const put = async (rel: string, text: string) => {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), text);
  };
  const tar = async (name: string, flags: string, from: string, ...members: string[]) => {
    await execa('tar', [flags, join(dir, name), '-C', join(dir, from), ...members]);
    return join(dir, name);
  };

  it('reads dkms.conf from a directory', async () => {
    await put('hello/dkms.conf', PLAIN);
    await put('hello/hello.c', '/* module */\n');
    expect(await readModuleConf(join(dir, 'hello'))).toEqual({
      conf: PLAIN,
      file: join(dir, 'hello/dkms.conf'),
    });
  });

  it('names a directory without dkms.conf', async () => {
    await put('empty/Makefile', 'obj-m := x.o\n');
    await expect(readModuleConf(join(dir, 'empty'))).rejects.toThrow(
      `${join(dir, 'empty')} has no dkms.conf`,
    );
  });

  it('names a path that does not exist', async () => {
    await expect(readModuleConf(join(dir, 'nope'))).rejects.toThrow(`${join(dir, 'nope')} does not exist`);
  });

  it('reads dkms.conf one directory down in a .tar.gz', async () => {
    await put('src1/hello-1.0/dkms.conf', PLAIN);
    await put('src1/hello-1.0/hello.c', '/* module */\n');
    const t = await tar('hello-1.0.tar.gz', '-czf', 'src1', 'hello-1.0');
    expect(await readModuleConf(t)).toEqual({ conf: PLAIN, file: `${t}:hello-1.0/dkms.conf` });
  });

  it('reads dkms.conf at the top of a .tar.xz made with ./', async () => {
    await put('src2/dkms.conf', ACPI_CALL);
    const t = await tar('acpi.tar.xz', '-cJf', 'src2', '.');
    expect(await readModuleConf(t)).toEqual({ conf: ACPI_CALL, file: `${t}:./dkms.conf` });
  });

  it('reads the dkms mktarball layout (dkms_source_tree/ two down)', async () => {
    await put('src3/x/dkms_source_tree/dkms.conf', PLAIN);
    const t = await tar('mk.tar', '-cf', 'src3', 'x');
    expect((await readModuleConf(t)).file).toBe(`${t}:x/dkms_source_tree/dkms.conf`);
  });

  it('refuses a tarball with no dkms.conf near the top, or several', async () => {
    await put('src4/a/b/c/dkms.conf', PLAIN);
    const deep = await tar('deep.tgz', '-czf', 'src4', 'a');
    await expect(readModuleConf(deep)).rejects.toThrow(
      `${deep} holds no dkms.conf (looked two directories deep)`,
    );
    await put('src5/one/dkms.conf', PLAIN);
    await put('src5/two/dkms.conf', PLAIN);
    const two = await tar('two.tgz', '-czf', 'src5', 'one', 'two');
    await expect(readModuleConf(two)).rejects.toThrow(
      `${two} holds several dkms.conf files: one/dkms.conf, two/dkms.conf`,
    );
  });

  it('names a file that is not a tarball', async () => {
    await put('junk.tar.gz', 'not a tarball\n');
    await expect(readModuleConf(join(dir, 'junk.tar.gz'))).rejects.toThrow(
      new RegExp(`^cannot read the tarball ${join(dir, 'junk.tar.gz')}: `),
    );
  });
});
