/**
 * Constants of the kernelfile format, shared by the schema definition (schema.ts, used at build
 * time) and the checks that run every time (semantic.ts, schema-errors.ts). No dependencies, so
 * the CLI does not load the schema builder to validate a file.
 */

export const API_VERSION = 'kernelfile/v1';

/** Patterns shared with the semantic checks, which explain a mismatch better than "must match pattern". */
export const PATTERNS = {
  name: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$',
  version: '^[1-9][0-9]*\\.[0-9]+(\\.[0-9]+)?(-rc[0-9]+)?$',
  localversion: '^[A-Za-z0-9._+~-]{1,32}$',
  sha256: '^[0-9a-fA-F]{64}$',
  commit: '^([0-9a-f]{40}|[0-9a-f]{64})$',
  kconfigSymbol: '^CONFIG_[A-Z0-9_]+$',
  moduleName: '^[A-Za-z0-9][A-Za-z0-9._+-]*$',
  moduleVersion: '^[A-Za-z0-9][A-Za-z0-9.+~_:-]*$',
  makeVar: '^[A-Za-z_][A-Za-z0-9_]*$',
  kmodName: '^[A-Za-z0-9_-]+$',
} as const;

/**
 * A sha256 that stands for "not known yet" (`kernelfile import` writes it for a source it cannot
 * checksum): it passes the schema, `validate` warns about it, and build and plan refuse it before
 * downloading anything.
 */
export const PLACEHOLDER_SHA256 = '0'.repeat(64);

export const ARCHES = [
  'x86_64',
  'i686',
  'aarch64',
  'armv7l',
  'riscv64',
  'ppc64le',
  's390x',
  'loongarch64',
] as const;

export const BASE_TARGETS = ['defconfig', 'tinyconfig', 'allnoconfig', 'allmodconfig', 'running'] as const;

/** Default of a patch's `strip` (inside a union, so ajv cannot fill it in: resolve.ts does). */
export const STRIP_DEFAULT = 1;

export const GENERATORS = ['auto', 'dracut', 'initramfs-tools', 'mkinitcpio', 'none'] as const;

export const LOADERS = ['auto', 'grub', 'systemd-boot', 'grubby', 'none'] as const;
export const TITLE_PLACEHOLDERS = ['name', 'release', 'version', 'distro'] as const;
