/**
 * `kernelfile import`, the pure part: a host's facts → the kernelfile that reproduces its running
 * kernel, the config file beside it, what was derived from what, and what the user must still
 * provide. No I/O (src/engine/import.ts gathers, validates the result and writes it).
 *
 * Everything here comes from the host and is data: the release, `uname -v`, the command line, the
 * module names and versions. The YAML is built with the `yaml` library (never by concatenating host
 * strings); every value taken from the host is checked against what the kernelfile format accepts
 * (a version, a localversion, module names, a command line every loader passes as written), and what
 * does not pass is left out and said so. Host strings in comments are reduced to printable ASCII,
 * and a file name is made from the release only when it is a plain name.
 *
 * The config: the running configuration, written whole as `config.base.file`. Kconfig resolves it
 * (merge_config.sh, `make olddefconfig`) back to the same `.config` for the same source, apart from
 * what the compiler decides (CONFIG_CC_VERSION_TEXT, GCC_VERSION, …): `kernel.localversion` is set
 * to the release's suffix, which kernelfile writes as CONFIG_LOCALVERSION, as the running config
 * has it. A fragment over defconfig would not: defconfig's choices change between versions and
 * architectures, and every option the running kernel has beyond it would have to be listed.
 */
import { Document, isMap, isScalar, Scalar } from 'yaml';
import { splitKernelArgs, unquoteKernelArg } from '../facts/kernel-cmdline.js';
import type { BootEntry, HostFacts } from '../facts/types.js';
import { serialiseConfig } from '../kconfig/config.js';
import type { ReceiptData } from '../receipt/types.js';
import { cmdlineProblem } from '../spec/boot-text.js';
import { API_VERSION, PATTERNS, PLACEHOLDER_SHA256 } from '../spec/format.js';
import { UserError } from './errors.js';

/** Something the user must still provide or decide, and how. */
export interface ImportTodo {
  what: string;
  how: string;
  /** Commands that do it, one per line (shell). */
  commands?: string[];
}

export interface ImportInput {
  facts: HostFacts;
  /** The kernelfile's `name` (`--name`); default: from the host's name. */
  name?: string;
  /** A kernel source on the controller (`--source`), as the kernelfile will name it. */
  sourcePath?: string;
  /** The host as the user named it (`--host`), for the commands the kernelfile's header shows. */
  hostArg: string;
  /** The kernelfile's file name as the commands will name it (default `kernelfile.yaml`). */
  kernelfileArg?: string;
}

export interface DerivedVersion {
  /** `kernel.version`: as `make kernelversion` prints it. */
  version: string;
  /** `kernel.localversion`: the rest of the release; null when there is none or it cannot be one. */
  localversion: string | null;
  /** The distribution whose kernel it is, when its release or `uname -v` says so. */
  distro: string | null;
  /** The version is the kernel.org release the kernel is built from (patches aside). */
  upstream: boolean;
  notes: string[];
  todo: ImportTodo[];
}

export interface ImportDocument {
  name: string;
  /** The running release, as the host reported it (data: escape it to show it). */
  release: string;
  version: DerivedVersion;
  /** The config file's name, beside the kernelfile. */
  configFile: string;
  configText: string;
  /** The kernelfile's text (YAML). */
  kernelfile: string;
  modules: { name: string; version: string }[];
  /** How each value was found. */
  notes: string[];
  todo: ImportTodo[];
  /** The commands to run once the todo list is done. */
  checks: string[];
}

const VERSION = new RegExp(PATTERNS.version);
const LOCALVERSION = new RegExp(PATTERNS.localversion);
const NAME = new RegExp(PATTERNS.name);
const MODULE_NAME = new RegExp(PATTERNS.moduleName);
const MODULE_VERSION = new RegExp(PATTERNS.moduleVersion);
/** A release that may name a file: one plain path component. */
const PLAIN_RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;

/** Text as printable ASCII: anything else written as a \\uXXXX escape. */
const ascii = (s: string) =>
  s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A host string for a comment or a message: printable ASCII, anything else escaped, cut at 120. */
export function shown(s: string): string {
  const out = ascii(s);
  return out.length > 120 ? `${out.slice(0, 117)}...` : out;
}

/** Words into lines of at most `width` characters (a longer word stays whole on its own line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of ascii(text).split(/ +/)) {
    if (line !== '' && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const unquote = (v: string | undefined) => (v === undefined ? undefined : v.replace(/^"(.*)"$/, '$1'));

/**
 * `kernel.version` and `kernel.localversion` from the release (`uname -r`), `uname -v` and the
 * running config. A hand-built kernel's release is VERSION.PATCHLEVEL.SUBLEVEL[-rcN] followed by
 * CONFIG_LOCALVERSION (and what LOCALVERSION_AUTO or `make LOCALVERSION=` added); a distribution's
 * names its own package version after it, and its X.Y.Z is not always the kernel.org release.
 */
export function deriveVersion(
  release: string,
  unameV: string | null,
  options: Readonly<Record<string, string>>,
): DerivedVersion {
  const m = /^([1-9][0-9]{0,3})\.([0-9]{1,4})(?:\.([0-9]{1,6}))?(-rc[0-9]{1,3})?/.exec(release);
  if (!m)
    throw new UserError(
      `the running release "${shown(release)}" does not start with a kernel version (like 6.1.119): kernel.version cannot be derived from it`,
      'write the kernelfile by hand (start from kernelfile.example.yaml), with the running config from /proc/config.gz',
    );
  const [whole, major = '', minor = '', sub, rc = ''] = m;
  const notes: string[] = [];
  const todo: ImportTodo[] = [];
  let version = `${major}.${minor}${sub === undefined ? '' : `.${sub}`}${rc}`;
  const rest = release.slice(whole.length);
  const v = unameV ?? '';
  let distro: string | null = null;
  let upstream = true;
  const debian = /\bDebian ([1-9][0-9]*\.[0-9]+(?:\.[0-9]+)?)(?=[-+~ )])/.exec(v)?.[1];
  if (debian !== undefined && debian.split('.').slice(0, 2).join('.') === `${major}.${minor}`) {
    distro = 'Debian';
    if (debian !== version)
      notes.push(`Debian's release ${version} is built from Linux ${debian} (uname -v)`);
    version = /^\d+\.\d+$/.test(debian) ? `${debian}.0` : debian;
  } else if (
    /-Ubuntu\b/.test(v) ||
    /^-[0-9]+-(generic|lowlatency|aws|azure|gcp|oracle|kvm|raspi)\b/.test(rest)
  ) {
    distro = 'Ubuntu';
    upstream = false;
  } else if (/\.fc[0-9]+\b/.test(rest)) distro = 'Fedora';
  else if (/\.el[0-9]+/.test(rest)) {
    distro = 'RHEL';
    upstream = false;
  } else if (/^-arch[0-9]+-[0-9]+$/.test(rest)) distro = 'Arch Linux';
  if (distro) {
    notes.push(
      `${shown(release)} is a ${distro} kernel: the kernelfile builds Linux ${version} without ${distro}'s patches`,
    );
    todo.push({
      what: `${distro}'s patches`,
      how: upstream
        ? `add them under patches: (or use ${distro}'s source package as kernel.source), or accept kernel.org's ${version}`
        : `${distro} names the base version (${version}) in the release, not the stable release its source is: set kernel.version and kernel.source to the source you mean to build (or ${distro}'s source package), and add its patches`,
    });
  }
  if (!VERSION.test(version))
    throw new UserError(
      `the running release "${shown(release)}" gives the version ${shown(version)}, which is not a kernel version kernelfile accepts`,
      'write the kernelfile by hand (start from kernelfile.example.yaml)',
    );
  let localversion: string | null = null;
  if (rest !== '') {
    if (LOCALVERSION.test(rest)) localversion = rest;
    else {
      notes.push(
        `the rest of the release, "${shown(rest)}", cannot be a kernel.localversion (letters, digits and ._+~-, at most 32): left out`,
      );
      todo.push({
        what: 'kernel.localversion',
        how: 'set one (letters, digits and ._+~-, at most 32) if the release should say which kernel it is',
      });
    }
  }
  const cfg = unquote(options.CONFIG_LOCALVERSION);
  if (!distro && localversion && cfg !== undefined && cfg !== localversion)
    notes.push(
      `the running config's CONFIG_LOCALVERSION is "${shown(cfg)}", not the release's "${shown(localversion)}": the rest came from make LOCALVERSION=, a localversion file or git; kernelfile sets CONFIG_LOCALVERSION to kernel.localversion`,
    );
  if (options.CONFIG_LOCALVERSION_AUTO === 'y')
    notes.push(
      'the running config has CONFIG_LOCALVERSION_AUTO=y (a git suffix in the release); kernelfile turns it off',
    );
  return { version, localversion, distro, upstream, notes, todo };
}

/** kernel.org's tarball of a version; null for one it does not publish as a tarball (rc, 2.x). */
export function kernelOrgUrl(version: string): string | null {
  const m = /^([0-9]+)\.([0-9]+)(?:\.([0-9]+))?$/.exec(version);
  if (!m || Number(m[1]) < 3) return null;
  const [, major, minor, sub] = m;
  const name = sub === undefined || sub === '0' ? `${major}.${minor}` : `${major}.${minor}.${sub}`;
  return `https://cdn.kernel.org/pub/linux/kernel/v${major}.x/linux-${name}.tar.xz`;
}

/** The kernelfile's name from the host's: a valid `name`, or `imported`. */
export function nameFrom(hostname: string | null): string {
  const s = (hostname ?? '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  return NAME.test(s) ? s : 'imported';
}

/** The loader's entry for the release: the default when it boots it, else the first plain one. */
function entryOf(f: HostFacts, release: string): BootEntry | undefined {
  const all = f.boot.entries.filter((e) => e.release === release);
  return (
    all.find((e) => e.id === f.boot.default) ??
    all.find((e) => !/recovery|fallback|single/i.test(`${e.id} ${e.title}`)) ??
    all[0]
  );
}

/** What the loader adds by itself: the image, the initrd, the root device. */
const LOADER_ARGS = /^(BOOT_IMAGE|initrd|root)=/;

/** The entry's command line: the loader's entry for the release, else /proc/cmdline, minus what the loader adds. */
export function importedCmdline(
  f: HostFacts,
  release: string,
): { cmdline: string | null; from: string | null; note: string | null } {
  const entry = entryOf(f, release);
  const from =
    entry?.options != null ? `the ${f.boot.loader ?? 'boot'} entry "${shown(entry.title)}"` : '/proc/cmdline';
  const raw = entry?.options ?? f.system.cmdline;
  if (raw == null)
    return { cmdline: null, from: null, note: 'no command line was found (no entry, no /proc/cmdline)' };
  const args = splitKernelArgs(raw).filter((a) => !LOADER_ARGS.test(unquoteKernelArg(a)));
  const cmdline = args.join(' ');
  if (cmdline === '') return { cmdline: null, from, note: null };
  if (!/^[\x20-\x7e]*$/.test(cmdline))
    return {
      cmdline: null,
      from,
      note: `the command line from ${from} has characters outside printable ASCII: left out (the entry takes the host's default command line)`,
    };
  const p = cmdlineProblem(cmdline);
  if (p)
    return {
      cmdline: null,
      from,
      note: `the command line from ${from}: ${p.message}: left out (the entry takes the host's default command line)`,
    };
  return { cmdline, from, note: null };
}

/** A double-quoted YAML scalar (versions must stay strings: `6.10` is not the number 6.1). */
function quoted(doc: Document, value: string): Scalar {
  const s = doc.createNode(value) as Scalar;
  s.type = Scalar.QUOTE_DOUBLE;
  return s;
}

/** A comment from words the importer wrote and host strings passed through shown(). */
const comment = (lines: readonly string[]) => lines.map((l) => ` ${l}`).join('\n');

/** Put a comment before the key `key` of the mapping at `path`. */
function commentKey(doc: Document, path: readonly string[], key: string, text: string): void {
  const map = path.length ? doc.getIn(path, true) : doc.contents;
  if (!isMap(map)) return;
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair) return;
  if (!isScalar(pair.key)) return;
  pair.key.commentBefore = text;
}

export function importDocument(input: ImportInput): ImportDocument {
  const { facts: f } = input;
  const release = f.system.running;
  if (!release)
    throw new UserError(
      `${f.host} reports no running kernel (uname -r): there is nothing to import`,
      'import from the host itself (--host), not from a root filesystem or an image',
    );
  if (!f.config.source)
    throw new UserError(
      `${f.host}: the configuration of the running kernel cannot be read (no /proc/config.gz, no /boot/config-${shown(release)})`,
      'enable CONFIG_IKCONFIG_PROC, or put the kernel’s .config in /boot/config-RELEASE on the host (or gather with --sudo when it is readable by root only)',
    );
  if (input.name !== undefined && !NAME.test(input.name))
    throw new UserError(
      `--name ${JSON.stringify(input.name)} is not a kernelfile name`,
      'use 1 to 63 letters, digits, `.`, `_` and `-`, starting with a letter or digit',
    );
  const name = input.name ?? nameFrom(f.system.hostname);
  const v = deriveVersion(release, f.system.kernelVersion, f.config.options);
  const notes = [...v.notes];
  const todo: ImportTodo[] = [];
  const kernelfileArg = input.kernelfileArg ?? 'kernelfile.yaml';

  // ── source ──────────────────────────────────────────────────────────────────────────────────
  let source: Record<string, string>;
  let sourceComment: string | null = null;
  if (input.sourcePath !== undefined) {
    source = { path: input.sourcePath };
    notes.push(`kernel.source: ${input.sourcePath} (--source)`);
  } else {
    const url = v.upstream ? kernelOrgUrl(v.version) : null;
    const guess = url ?? kernelOrgUrl(v.version.replace(/-rc[0-9]+$/, ''));
    source = { url: url ?? guess ?? 'https://cdn.kernel.org/pub/linux/kernel/', sha256: PLACEHOLDER_SHA256 };
    const file = (url ?? guess ?? '').split('/').pop() ?? '';
    const sign = file.replace(/\.tar\.xz$/, '.tar.sign');
    todo.push({
      what: 'kernel.source.sha256',
      ...(url
        ? {
            commands: [
              `curl -fsSLO ${url} -O ${url.replace(/\.tar\.xz$/, '.tar.sign')}`,
              `xz -dc ${file} | gpg --verify ${sign} -   # kernel.org's signing keys: https://www.kernel.org/signature.html`,
              `sha256sum ${file}`,
            ],
          }
        : {}),
      how: url
        ? `the sha256 of ${file}, from the file itself once its signature is checked (or import again with --source PATH, a tarball or tree on this machine)`
        : `the source of Linux ${v.version}: ${v.version.includes('-rc') ? 'kernel.org has no release-candidate tarballs: use kernel.source {git: https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git, ref: <the commit of the tag>}' : 'kernel.org has no tarball for it: a tarball or tree with kernel.source.path, or a git commit'}`,
    });
    sourceComment = url
      ? comment([
          `FILL IN the sha256 of ${file} (64 zeros is a placeholder: plan and build refuse it):`,
          'how to get it is at the top of this file',
        ])
      : comment(['FILL IN the source (this URL and checksum are placeholders): see the top of this file']);
  }

  // ── config ──────────────────────────────────────────────────────────────────────────────────
  const configFile =
    PLAIN_RELEASE.test(release) && !release.includes('..') ? `${release}.config` : 'running.config';
  const configText = `# The running kernel's configuration (${f.config.source === '/proc/config.gz' ? '/proc/config.gz' : '/boot/config of the running release'}), written by kernelfile import.\n${serialiseConfig(
    Object.entries(f.config.options).map(([symbol, value]) => ({ symbol, value })),
  )}`;
  notes.push(
    `config.base.file: ${configFile}, the running config (${f.config.source === '/proc/config.gz' ? '/proc/config.gz' : `/boot/config-${shown(release)}`})`,
  );

  // ── DKMS modules ───────────────────────────────────────────────────────────────────────────
  const modules: { name: string; version: string }[] = [];
  for (const e of f.dkms.modules) {
    if (e.kernel !== release || (e.state !== 'installed' && e.state !== 'installed-weak')) continue;
    if (!MODULE_NAME.test(e.name) || !MODULE_VERSION.test(e.version)) {
      notes.push(
        `dkms lists ${shown(e.name)}/${shown(e.version)}, which is not a module name and version a kernelfile accepts: left out`,
      );
      continue;
    }
    if (!modules.some((x) => x.name === e.name)) modules.push({ name: e.name, version: e.version });
  }
  const others = [
    ...new Set(
      f.dkms.modules
        .filter((e) => !modules.some((x) => x.name === e.name))
        .map((e) => `${shown(e.name)}/${shown(e.version)}`),
    ),
  ];
  if (modules.length)
    notes.push(
      `modules: ${modules.map((m) => `${m.name}/${m.version}`).join(', ')} (installed by dkms for the running kernel)`,
    );
  if (others.length)
    notes.push(`dkms also knows ${others.join(', ')}, not installed for the running kernel: not imported`);

  // ── initramfs ──────────────────────────────────────────────────────────────────────────────
  const installed = f.kernels.find((k) => k.release === release);
  const tool = f.initramfs.tool;
  let generator: string;
  if (installed?.initramfs) {
    generator = tool ?? 'auto';
    notes.push(
      `initramfs.generator: ${generator} (${shown(installed.initramfs)} exists${tool ? `, made by ${tool}` : ''})`,
    );
    if (!tool)
      todo.push({
        what: 'initramfs.generator',
        how: `the running kernel has an initramfs (${shown(installed.initramfs)}) but no generator was found on the host: install the one that made it, or set initramfs.generator`,
      });
  } else if (installed) {
    generator = 'none';
    notes.push('initramfs.generator: none (the running kernel has no initramfs in /boot)');
  } else {
    generator = tool ?? 'none';
    notes.push(
      `initramfs.generator: ${generator} (the running kernel has no files in /boot: it was not booted from this host's /boot${tool ? `; ${tool} is what the host has` : ''})`,
    );
  }

  // ── boot ───────────────────────────────────────────────────────────────────────────────────
  const loader = f.boot.loader ?? 'none';
  if (f.boot.loader) notes.push(`boot.loader: ${f.boot.loader}`);
  else
    todo.push({
      what: 'boot.loader',
      how: 'no boot loader was found on the host: the kernelfile installs the kernel without boot entries (boot.loader: none); set the loader if the host has one kernelfile did not see',
    });
  const cmd = f.boot.loader ? importedCmdline(f, release) : { cmdline: null, from: null, note: null };
  if (cmd.note) notes.push(cmd.note);
  else if (cmd.cmdline)
    notes.push(
      `boot.entries[0].cmdline: from ${cmd.from}, without BOOT_IMAGE=, initrd= and root= (the loader adds them)`,
    );
  const entry: Record<string, unknown> = { ...(cmd.cmdline ? { cmdline: cmd.cmdline } : {}), default: true };

  todo.push({
    what: 'patches',
    how: 'the patches the running kernel was built with, if any: add them under patches: (kernelfile cannot see them)',
  });

  // ── the document ───────────────────────────────────────────────────────────────────────────
  const doc = new Document({
    apiVersion: API_VERSION,
    name,
    kernel: {
      version: v.version,
      source,
      ...(v.localversion ? { localversion: v.localversion } : {}),
    },
    config: { base: { file: configFile } },
    ...(modules.length ? { modules: modules.map((m) => ({ ...m, installed: true })) } : {}),
    initramfs: { generator },
    // Without a loader there are no entries to write (validate refuses `loader: none` with entries).
    boot: loader === 'none' ? { loader } : { loader, entries: [entry] },
  });
  const kernel = doc.getIn(['kernel'], true);
  if (isMap(kernel)) kernel.set('version', quoted(doc, v.version));
  for (const [i, m] of modules.entries()) {
    const node = doc.getIn(['modules', i], true);
    if (isMap(node)) node.set('version', quoted(doc, m.version));
  }
  const sha = doc.getIn(['kernel', 'source', 'sha256'], true);
  if (isScalar(sha)) sha.type = Scalar.QUOTE_DOUBLE;
  if (sourceComment) commentKey(doc, ['kernel'], 'source', sourceComment);
  commentKey(
    doc,
    [],
    'config',
    comment([
      `The running configuration, whole (${configFile}): resolves back to the same .config for the same source.`,
    ]),
  );
  const allTodo = [...v.todo, ...todo];
  const checks = [
    `kernelfile validate ${kernelfileArg}`,
    `kernelfile build --config-only ${kernelfileArg}`,
    `kernelfile plan ${kernelfileArg} --host ${input.hostArg}`,
  ];
  doc.commentBefore = comment([
    `Written by kernelfile import from the running kernel ${shown(release)} of ${shown(input.hostArg)}.`,
    'Still to provide before it builds what runs there:',
    ...allTodo.flatMap((t) => [
      ...wrap(`${t.what}: ${t.how}`, 96).map((l, i) => `  ${i === 0 ? '-' : ' '} ${l}`),
      ...(t.commands ?? []).map((c) => `      ${ascii(c)}`),
    ]),
    'Then check it:',
    ...checks.map((c) => `  ${shown(c)}`),
  ]);
  return {
    name,
    release,
    version: v,
    configFile,
    configText,
    kernelfile: doc.toString({ lineWidth: 0 }),
    modules,
    notes,
    todo: allTodo,
    checks,
  };
}

// ── --adopt: the receipt of the running kernel ───────────────────────────────────────────────

/** An absolute path without `..` (as the receipt decoder accepts them). */
const absPath = (p: string | null | undefined): p is string =>
  typeof p === 'string' && p.startsWith('/') && !p.split('/').includes('..') && /^[\x21-\x7e]+$/.test(p);
/** A name the receipt decoder accepts as a word (entry ids, the arch). */
const word = (s: string | null | undefined): s is string =>
  typeof s === 'string' &&
  s !== '' &&
  s !== '.' &&
  s !== '..' &&
  !s.includes('/') &&
  !s.startsWith('-') &&
  !/[\n\r\0]/.test(s);

/**
 * Why the running kernel cannot be adopted on this host, or null: its release must be a plain
 * name (the receipt is named after it), it must have no receipt yet (kernelfile's, or one that
 * does not read), no apply of it may be under way, and it must have its files in /boot.
 */
export function adoptProblem(f: HostFacts, doc: Pick<ImportDocument, 'release'>): string | null {
  const r = doc.release;
  if (!PLAIN_RELEASE.test(r) || r.includes('..'))
    return `the running release "${shown(r)}" is not a plain name, and a receipt is named after it`;
  const receipt = f.receipts.receipts.find((x) => x.release === r);
  if (receipt)
    return receipt.data.adopted
      ? `${r} was already adopted (by the kernelfile ${shown(receipt.data.name)})`
      : `${r} was installed by kernelfile (the kernelfile ${shown(receipt.data.name)}): it has a receipt`;
  if (f.receipts.errors.some((e) => e.file.endsWith(`/${r}.json`)))
    return `${r} has a receipt that does not read (see \`kernelfile facts\`): remove it first if it is not wanted`;
  if ((f.receipts.pending ?? []).some((p) => p.release === r))
    return `an apply of ${r} has not finished on this host`;
  if (!word(f.system.arch)) return 'the host does not say its architecture (uname -m)';
  const k = f.kernels.find((x) => x.release === r);
  if (!absPath(k?.image))
    return `${r} has no image in /boot (it was not booted from this host's /boot): there are no files to adopt`;
  return null;
}

/** The files the receipt of an adopted kernel lists (its sidecar checks them): what /boot holds of it. */
export function adoptFiles(f: HostFacts, release: string): string[] {
  const k = f.kernels.find((x) => x.release === release);
  return [...new Set([k?.image, k?.systemMap, k?.config].filter(absPath))].sort();
}

/** The receipt's data for the adopted running kernel (no build id: see receipt/types.ts). */
export function adoptedReceiptData(
  f: HostFacts,
  doc: Pick<ImportDocument, 'release' | 'name' | 'version' | 'modules'>,
  kernelfile: { path: string; sha256: string },
): Omit<ReceiptData, 'buildId'> {
  const r = doc.release;
  const k = f.kernels.find((x) => x.release === r);
  return {
    name: doc.name,
    kernelfile,
    release: r,
    version: doc.version.version,
    arch: f.system.arch ?? '',
    modules: doc.modules,
    initramfs: absPath(k?.initramfs) ? k.initramfs : null,
    initramfsModules: [],
    // The loader's entries that boot it (rollback chooses among them); kernelfile wrote none.
    entries: f.boot.entries.filter((e) => e.release === r && word(e.id)).map((e) => e.id),
    loader: null,
  };
}
