/**
 * The kernelfile format, defined once. `schemas/kernelfile.schema.json` is generated from this
 * (`npm run gen`) and the TypeScript types below are inferred from it, so the two cannot drift;
 * a unit test fails when the committed JSON differs from what this file produces.
 *
 * Every property carries a `description` and `examples`: they feed editors (yaml-language-server)
 * and the kernelfile reference in docs/kernelfile.md.
 *
 * Build-time only: at run time the CLI uses the validator precompiled from this schema
 * (generated/kernelfile.validator.ts) and imports this file for its types alone.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { API_VERSION, ARCHES, BASE_TARGETS, GENERATORS, LOADERS, PATTERNS, STRIP_DEFAULT } from './format.js';

/** One of a fixed set of strings (TypeBox writes it as anyOf of consts; errors list them all). */
/**
 * The schema's identity: the address SchemaStore serves it from once it is registered there
 * (docs/kernelfile.md, "Editors"), the URL editors resolve `$schema` modelines and catalogs to.
 */
export const KERNELFILE_SCHEMA_ID = 'https://json.schemastore.org/kernelfile.json';

const oneOf = <V extends string>(values: readonly V[], options: object) =>
  T.Union(
    values.map((v) => T.Literal(v)),
    options,
  );

const str = (description: string, examples: unknown[], extra: object = {}) =>
  T.String({ description, examples, ...extra });

const sha256 = (description: string) =>
  str(description, ['aecdaf39d0a844a81ce4c67d9daff8979e938bb690df4f679fbbb494fe423278'], {
    pattern: PATTERNS.sha256,
  });

const filePath = (description: string, examples: string[]) => str(description, examples, { minLength: 1 });

// ── kernel ─────────────────────────────────────────────────────────────────────────────────────
const UrlSource = T.Object(
  {
    url: str(
      'Where to download the source tarball: an `https://` or `file://` URL. Plain http and ftp are refused.',
      ['https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.119.tar.xz'],
      { pattern: '^(https|file)://' },
    ),
    sha256: sha256(
      'SHA-256 of the downloaded file (64 hex digits). Checked before anything is unpacked. Required for URLs.',
    ),
  },
  {
    additionalProperties: false,
    description: 'A source tarball downloaded from a URL and verified against its checksum.',
  },
);

const PathSource = T.Object(
  {
    path: filePath(
      'A kernel source tarball or an unpacked source tree on the controller. Relative paths are relative to the kernelfile; `~/` is your home directory.',
      ['/usr/src/linux-source-6.1.tar.xz', 'vendor/linux'],
    ),
    sha256: T.Optional(
      sha256(
        'Optional SHA-256 of the tarball, to pin exactly which local file is used (tarballs only, not trees).',
      ),
    ),
  },
  { additionalProperties: false, description: 'A local tarball or source tree.' },
);

const GitSource = T.Object(
  {
    git: str(
      'A git repository: an https://, ssh:// or file:// URL, `user@host:path`, or a local path.',
      ['https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git'],
      { minLength: 1 },
    ),
    ref: str(
      'The full commit id to build (40 or 64 hex digits). Branch and tag names move, so they are refused.',
      ['f0a4b7d1d6a3e0c5c2f7e0d0b7a3c2e1d4f5a6b7'],
      { pattern: PATTERNS.commit },
    ),
  },
  { additionalProperties: false, description: 'A commit in a git repository.' },
);

const Signature = T.Union(
  [
    T.Object(
      {
        url: str(
          'URL of the detached signature (`.tar.sign`, kernel.org style: a signature over the uncompressed tar).',
          ['https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.119.tar.sign'],
          { pattern: '^(https|file)://' },
        ),
        keyring: filePath('A gpg keyring holding the keys allowed to sign the source (checked with gpgv).', [
          'keys/kernel-org.gpg',
        ]),
      },
      { additionalProperties: false },
    ),
    T.Object(
      {
        path: filePath('Path of the detached signature (`.tar.sign`) on the controller.', [
          'linux-6.1.119.tar.sign',
        ]),
        keyring: filePath('A gpg keyring holding the keys allowed to sign the source (checked with gpgv).', [
          'keys/kernel-org.gpg',
        ]),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'Optional signature check of a tarball source with `gpgv`: `{url, keyring}` or `{path, keyring}`.',
    examples: [
      {
        url: 'https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.119.tar.sign',
        keyring: 'keys/kernel-org.gpg',
      },
    ],
  },
);

const Kernel = T.Object(
  {
    version: str(
      'The kernel version the source must contain, as `make kernelversion` prints it. A mismatch stops the build.',
      ['6.1.192', '6.12', '6.13-rc3'],
      { pattern: PATTERNS.version },
    ),
    source: T.Union([UrlSource, PathSource, GitSource], {
      description: 'Where the source comes from: exactly one of `{url, sha256}`, `{path}` or `{git, ref}`.',
      examples: [
        { path: '/usr/src/linux-source-6.1.tar.xz' },
        {
          url: 'https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.119.tar.xz',
          sha256: 'aecdaf39d0a844a81ce4c67d9daff8979e938bb690df4f679fbbb494fe423278',
        },
      ],
    }),
    signature: T.Optional(Signature),
    localversion: T.Optional(
      str(
        'Appended to the version in the kernel release (`uname -r`), like `CONFIG_LOCALVERSION`. Letters, digits and `._+~-`, at most 32.',
        ['-web', '-edge'],
        { pattern: PATTERNS.localversion },
      ),
    ),
    arch: T.Optional(
      oneOf(ARCHES, {
        description: 'Target architecture, as `uname -m` names it. Default: the target host’s architecture.',
        examples: ['x86_64', 'aarch64'],
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'The kernel source: version, where to get it, how to check it.',
    examples: [{ version: '6.1.192', source: { path: '/usr/src/linux-source-6.1.tar.xz' } }],
  },
);

// ── config ─────────────────────────────────────────────────────────────────────────────────────

const OnDropped = oneOf(['error', 'warn'], {
  description:
    'What to do when a requested value does not survive Kconfig (`make olddefconfig`): `error` stops before building, `warn` reports and goes on.',
  examples: ['error', 'warn'],
  default: 'error',
});

const KconfigValue = T.Union(
  [
    T.String(),
    T.Integer(),
    T.Object(
      {
        value: T.Union([T.String(), T.Integer()], {
          description: 'The value: `y`, `m`, `n`, a string or an integer.',
          examples: ['y', 4096],
        }),
        onDropped: T.Optional(
          oneOf(['error', 'warn'], {
            description: 'Overrides `config.onDropped` for this option.',
            examples: ['warn'],
          }),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      '`y`, `m` or `n`; a string (`"-custom"`, or hex like `0x1000000`); an integer; or `{value, onDropped}` to override `onDropped` for this option.',
    examples: ['y', 'm', 'n', 64, { value: 'y', onDropped: 'warn' }],
  },
);

const Config = T.Object(
  {
    base: T.Optional(
      T.Union(
        [
          ...BASE_TARGETS.map((b) => T.Literal(b)),
          T.Object(
            {
              file: filePath('A complete `.config` file to start from.', ['configs/server.config']),
            },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            'The starting configuration: a kernel make target (`defconfig`, `tinyconfig`, `allnoconfig`, `allmodconfig`), `running` (the target host’s running config), or `{file}`.',
          examples: ['defconfig', 'running', { file: 'configs/server.config' }],
          default: 'defconfig',
        },
      ),
    ),
    fragments: T.Optional(
      T.Array(filePath('A config fragment file.', ['fragments/hardening.config']), {
        description:
          'Config fragments (the kernel’s `.config` syntax: `CONFIG_X=y`, `# CONFIG_X is not set`), merged in order after the base with `scripts/kconfig/merge_config.sh`.',
        examples: [['fragments/hardening.config', 'fragments/qemu.config']],
        default: [],
      }),
    ),
    set: T.Optional(
      T.Record(T.String({ pattern: PATTERNS.kconfigSymbol }), KconfigValue, {
        description: 'Inline options, merged last. Keys are full symbol names (`CONFIG_…`).',
        additionalProperties: false,
        examples: [{ CONFIG_64BIT: 'y', CONFIG_EXT4_FS: 'm', CONFIG_NR_CPUS: 64 }],
        default: {},
      }),
    ),
    onDropped: T.Optional(OnDropped),
  },
  {
    additionalProperties: false,
    description: 'How the kernel is configured: a base, fragments in order, then inline options.',
    examples: [{ base: 'defconfig', fragments: ['fragments/hardening.config'], set: { CONFIG_KVM: 'm' } }],
    default: {},
  },
);

// ── patches ────────────────────────────────────────────────────────────────────────────────────
const strip = T.Optional(
  T.Integer({
    minimum: 0,
    maximum: 16,
    default: STRIP_DEFAULT,
    description: 'Leading path components to strip (`patch -p`). 1 for git-style `a/` `b/` paths.',
    examples: [1, 0],
  }),
);

const Patch = T.Union(
  [
    T.Object(
      {
        path: filePath('A patch file (unified diff, e.g. from `git format-patch`).', [
          'patches/0001-fix.patch',
        ]),
        strip,
      },
      { additionalProperties: false },
    ),
    T.Object(
      {
        url: str('An `https://` or `file://` URL of the patch.', ['https://example.org/0001-fix.patch'], {
          pattern: '^(https|file)://',
        }),
        sha256: sha256('SHA-256 of the patch file. Required for URLs.'),
        strip,
      },
      { additionalProperties: false },
    ),
  ],
  {
    description: 'A patch: `{path}` or `{url, sha256}`, with optional `strip`.',
    examples: [{ path: 'patches/0001-fix.patch', strip: 1 }],
  },
);

// ── modules ────────────────────────────────────────────────────────────────────────────────────
const moduleId = {
  name: str('The DKMS module name (`PACKAGE_NAME` in its dkms.conf).', ['kernelfile-hello', 'acpi-call'], {
    pattern: PATTERNS.moduleName,
  }),
  version: str(
    'The DKMS module version (`PACKAGE_VERSION` in its dkms.conf).',
    ['1.0', '1.2.2', '2.1.11+dfsg'],
    {
      pattern: PATTERNS.moduleVersion,
    },
  ),
};

const Module = T.Union(
  [
    T.Object(
      {
        ...moduleId,
        path: filePath(
          'A directory holding `dkms.conf` and the module source, or a tarball of one, on the controller.',
          ['modules/hello'],
        ),
      },
      { additionalProperties: false },
    ),
    T.Object(
      {
        ...moduleId,
        installed: T.Literal(true, {
          description:
            'The module is already added on the host (e.g. by a distro `-dkms` package): build it for the new kernel.',
          examples: [true],
        }),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'An out-of-tree module built with DKMS: `{name, version, path}` or `{name, version, installed: true}`.',
    examples: [
      { name: 'kernelfile-hello', version: '1.0', path: 'modules/hello' },
      { name: 'acpi-call', version: '1.2.2', installed: true },
    ],
  },
);

// ── build ──────────────────────────────────────────────────────────────────────────────────────
const Build = T.Object(
  {
    on: T.Optional(
      oneOf(['controller', 'host'], {
        description:
          'Where to compile: on the `controller` (once per distinct build, artifacts shipped to hosts) or on each `host`.',
        examples: ['controller'],
        default: 'controller',
      }),
    ),
    jobs: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 1024,
        description: 'Parallel make jobs (`make -j`). Default: the number of cores where the build runs.',
        examples: [8],
      }),
    ),
    cacheDir: T.Optional(
      filePath(
        'Where sources and build artifacts are cached on the controller. Default: `$XDG_CACHE_HOME/kernelfile` (`~/.cache/kernelfile`).',
        ['~/.cache/kernelfile', '/var/cache/kernelfile'],
      ),
    ),
    makeVars: T.Optional(
      T.Record(
        T.String({ pattern: PATTERNS.makeVar }),
        T.String({ description: 'The value, passed as NAME=value to make.', examples: ['-march=x86-64-v2'] }),
        {
          additionalProperties: false,
          description:
            'Extra variables on the make command line, e.g. `KCFLAGS`. `ARCH`, `O`, `LOCALVERSION`, `INSTALL_*` and `KBUILD_BUILD_*` are set by kernelfile.',
          examples: [{ KCFLAGS: '-march=x86-64-v2' }],
          default: {},
        },
      ),
    ),
    ccache: T.Optional(
      T.Boolean({
        description: 'Compile through `ccache` (must be installed where the build runs).',
        examples: [true],
        default: false,
      }),
    ),
    distcc: T.Optional(
      T.Array(T.String({ minLength: 1 }), {
        description:
          'Spread compiles over these distcc daemons: `HOST[:PORT][/LIMIT][,lzo]` (distccd over TCP; port 3632, limit 4 by default) or `localhost[/N]` (compile here too). Before a compile each must answer and compile a probe byte for byte as this machine does (else the build stops, naming it). `make -j` is the sum of the limits, plus localhost’s (else this machine’s cores), unless `jobs` is set. The build id and the artifacts are a local build’s (so a kernel with `CONFIG_DEBUG_INFO` is refused: compiled from distcc’s preprocessed output its DWARF differs); compiles a dead daemon had are made elsewhere. Needs `distcc` here; see docs/security.md (unauthenticated TCP).',
        examples: [['buildbox-1/8', 'buildbox-2:3632/8,lzo', 'localhost/2']],
        default: [],
      }),
    ),
    keepObjectTrees: T.Optional(
      T.Integer({
        minimum: 0,
        maximum: 100,
        description:
          'Object trees (the compiled build directories: tens to hundreds of MB each, GBs for a distribution config) kept on the controller per kernel source after a build, most recent first. The next build of the same source starts from the closest of them, so a changed option or patch recompiles only what it changes. `0` keeps none; `kernelfile cache prune` removes the rest.',
        examples: [3],
        default: 3,
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'How and where the kernel is built.',
    examples: [{ on: 'controller', jobs: 8, ccache: true }],
    default: {},
  },
);

// ── cache ──────────────────────────────────────────────────────────────────────────────────────
const Cache = T.Object(
  {
    store: T.Optional(
      str(
        'A shared artifact store: an OCI distribution registry (Docker Registry, Harbor, Zot, GHCR, ECR…) and a repository in it. After a compile the controller pushes the build there once (one OCI artifact per build id, tagged with it); any controller pulls a build that is there instead of compiling it, and hosts that reach the store fetch the files they need from it. `oci://` is HTTPS with the certificate verified (against the system CAs, or `storeCa`); `oci+http://` is plain HTTP, for a registry on loopback or a trusted network only. Credentials never go here: see docs/security.md.',
        [
          'oci://registry.example.com/kernels/web',
          'oci://registry.example.com:5000/kernels',
          'oci+http://127.0.0.1:5000/kernels',
        ],
        { minLength: 1, maxLength: 512 },
      ),
    ),
    storeCa: T.Optional(
      filePath(
        "A PEM file of CA certificates that the store's TLS certificate is verified against instead of the system CAs (a private CA or a self-signed certificate). Hosts pulling from the store receive it too.",
        ['certs/registry-ca.pem'],
      ),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Where builds are shared between controllers and hosts (the local cache directory is `build.cacheDir`).',
    examples: [{ store: 'oci://registry.example.com/kernels/web' }],
    default: {},
  },
);

// ── initramfs ──────────────────────────────────────────────────────────────────────────────────

const Initramfs = T.Object(
  {
    generator: T.Optional(
      oneOf(GENERATORS, {
        description: 'The initramfs tool: `auto` uses the one the host has; `none` builds no initramfs.',
        examples: ['auto', 'dracut'],
        default: 'auto',
      }),
    ),
    modules: T.Optional(
      T.Array(T.String({ pattern: PATTERNS.kmodName }), {
        description: 'Extra kernel modules to put in the initramfs and load at boot.',
        examples: [['virtio_blk', 'kernelfile_hello']],
        default: [],
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'The initramfs for the new kernel.',
    examples: [{ generator: 'auto', modules: ['virtio_blk'] }],
    default: {},
  },
);

// ── boot ───────────────────────────────────────────────────────────────────────────────────────

const Entry = T.Object(
  {
    title: T.Optional(
      str(
        'Menu title. Placeholders: `{name}` (the kernelfile’s name), `{release}` (`uname -r`), `{version}`, `{distro}`.',
        ['{distro}, with Linux {release}'],
        { minLength: 1, default: '{distro}, with Linux {release}' },
      ),
    ),
    cmdline: T.Optional(
      str('Kernel command line for this entry. Default: the host’s current default command line.', [
        'ro quiet console=ttyS0',
      ]),
    ),
    root: T.Optional(
      str(
        'Root device when the boot loader cannot probe it (e.g. in a chroot): a path or `UUID=`/`PARTUUID=`/`LABEL=`.',
        ['/dev/vda1', 'UUID=5b6f5c7e-2b3c-4e71-9a55-0f3f4b1b2c3d'],
        { minLength: 1 },
      ),
    ),
    default: T.Optional(
      T.Boolean({
        description: 'Make this entry the default boot entry (at most one entry may be default).',
        examples: [true],
        default: false,
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A boot entry for the new kernel.',
    examples: [{ title: '{distro}, with Linux {release}', cmdline: 'ro quiet', default: true }],
  },
);

const Boot = T.Object(
  {
    loader: T.Optional(
      oneOf(LOADERS, {
        description:
          'The boot loader to configure: `auto` detects it on the host; `none` installs the kernel without boot entries.',
        examples: ['auto', 'grub'],
        default: 'auto',
      }),
    ),
    entries: T.Optional(
      T.Array(Entry, {
        description:
          'Boot entries for the new kernel. Default: one entry with the default title, made default.',
        examples: [[{ title: '{distro}, with Linux {release}', default: true }]],
        default: [{ default: true }],
      }),
    ),
    trial: T.Optional(
      T.Boolean({
        description:
          'Boot the new default entry once (`grub-reboot`, `bootctl set-oneshot`) and make it the default only after it came up.',
        examples: [true],
        default: false,
      }),
    ),
    healthCheck: T.Optional(
      T.Object(
        {
          command: T.String({
            minLength: 1,
            description:
              'A shell command run as root on the host (`sh -c`) once it is up in the new kernel; exit status 0 means healthy.',
            examples: ['systemctl is-system-running --wait', 'curl -fsS http://localhost/healthz'],
          }),
          timeout: T.Optional(
            T.Integer({
              minimum: 1,
              maximum: 3600,
              description: 'Seconds the command may take; past that the check failed.',
              examples: [120],
              default: 300,
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'With `apply --reboot` or `rollback --reboot`: checked after the host came back in the trial kernel. A failure counts as a failed trial: the kernel is not made the default and the host is rebooted into its previous default.',
          examples: [{ command: 'systemctl is-system-running --wait', timeout: 120 }],
        },
      ),
    ),
    keep: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 64,
        description:
          'How many kernels installed by kernelfile to keep, the new one included. Never removes the running kernel or the fallback.',
        examples: [2, 3],
        default: 2,
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Boot loader entries, the default, and how many old kernels to keep.',
    examples: [{ loader: 'grub', entries: [{ cmdline: 'ro quiet', default: true }], keep: 2 }],
    default: {},
  },
);

// ── signing ────────────────────────────────────────────────────────────────────────────────────

const Signing = T.Object(
  {
    key: filePath(
      'The PEM private key that signs (on the controller; it never leaves it). Relative paths are relative to the kernelfile. `kernelfile keygen` makes a suitable pair. Keep it readable by you alone (mode 0600).',
      ['keys/mok.key'],
    ),
    certificate: filePath(
      'The PEM X.509 certificate of that key: the kernel embeds it (modules signed by the key load), and `mokutil --import` enrols it on Secure Boot hosts. It must be valid now and allow code signing.',
      ['keys/mok.crt'],
    ),
    passphraseEnv: T.Optional(
      str(
        'The environment variable holding the key’s passphrase, when the key is encrypted (passed to the kernel’s sign-file as `KBUILD_SIGN_PIN`, never logged).',
        ['KF_MOK_PIN'],
        { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      ),
    ),
    modules: T.Optional(
      T.Boolean({
        description:
          'Sign the kernel’s own (in-tree) modules and embed the certificate: the build sets `CONFIG_MODULE_SIG`, `CONFIG_MODULE_SIG_ALL` and `CONFIG_MODULE_SIG_KEY`.',
        examples: [true],
        default: true,
      }),
    ),
    dkms: T.Optional(
      T.Boolean({
        description:
          'Sign the DKMS modules built on the controller (with the kernel’s own `scripts/sign-file`) before they are shipped.',
        examples: [true],
        default: true,
      }),
    ),
    image: T.Optional(
      T.Boolean({
        description:
          'Sign the kernel image with `sbsign` for shim/UEFI Secure Boot. The kernel must have the EFI stub (`CONFIG_EFI_STUB=y`).',
        examples: [false, true],
        default: false,
      }),
    ),
    enroll: T.Optional(
      T.Boolean({
        description:
          'When a host has Secure Boot on and the certificate is not enrolled: `true` adds a MOK enrolment step to the plan (`mokutil --import`, confirmed on the console at the next boot); `false` makes the plan refuse.',
        examples: [true, false],
        default: true,
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Sign the kernel and its modules with your own key (a Machine Owner Key for Secure Boot hosts). The private key stays on the controller: never in artifacts, logs or anything shipped to a host.',
    examples: [{ key: 'keys/mok.key', certificate: 'keys/mok.crt', passphraseEnv: 'KF_MOK_PIN' }],
  },
);

// ── the document ───────────────────────────────────────────────────────────────────────────────
export const KernelfileSchema = T.Object(
  {
    apiVersion: T.Literal(API_VERSION, {
      description: 'The format version of this file.',
      examples: [API_VERSION],
    }),
    name: str(
      'A name for this kernel spec; shown in boot titles and recorded in receipts on hosts.',
      ['web-server', 'qemu-tiny'],
      { pattern: PATTERNS.name },
    ),
    kernel: Kernel,
    config: T.Optional(Config),
    patches: T.Optional(
      T.Array(Patch, {
        description: 'Patches applied in order to the source before configuring.',
        examples: [[{ path: 'patches/0001-fix.patch' }]],
        default: [],
      }),
    ),
    modules: T.Optional(
      T.Array(Module, {
        description: 'Out-of-tree modules built with DKMS for the new kernel.',
        examples: [[{ name: 'kernelfile-hello', version: '1.0', path: 'modules/hello' }]],
        default: [],
      }),
    ),
    build: T.Optional(Build),
    cache: T.Optional(Cache),
    initramfs: T.Optional(Initramfs),
    boot: T.Optional(Boot),
    signing: T.Optional(Signing),
  },
  {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: KERNELFILE_SCHEMA_ID,
    title: 'kernelfile',
    description:
      'A declarative specification of a Linux kernel: source, config, patches, DKMS modules, initramfs and boot entries.',
    additionalProperties: false,
  },
);

/** A kernelfile as written, after schema validation (defaults from the schema are filled in). */
export type Spec = Static<typeof KernelfileSchema>;
export type KernelSource = Spec['kernel']['source'];
export type PatchSpec = NonNullable<Spec['patches']>[number];
export type ModuleSpec = NonNullable<Spec['modules']>[number];
export type EntrySpec = NonNullable<NonNullable<Spec['boot']>['entries']>[number];
export type SigningSpec = NonNullable<Spec['signing']>;
export type KconfigSetValue = NonNullable<NonNullable<Spec['config']>['set']>[string];
