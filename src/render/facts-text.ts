/** `kernelfile facts` as a readable summary (the JSON form is the HostFacts object itself). */
import type { HostFacts, SecureBootFacts } from '../facts/types.js';
import { bytes } from './bytes.js';
import { printable } from './escape.js';
import type { Style } from './style.js';

export function renderFacts(f: HostFacts, style: Style): string {
  const out: string[] = [];
  const row = (label: string, value: string) => out.push(`${style('bold', `${label}:`.padEnd(13))}${value}`);
  const none = style('dim', 'none');
  const s = f.system;
  row('Host', f.host);
  row(
    'System',
    [
      s.distro.prettyName ?? s.distro.id ?? 'unknown distribution',
      s.arch,
      s.hostname && `hostname ${s.hostname}`,
    ]
      .filter(Boolean)
      .join(', '),
  );
  row('Running', `${s.running ?? 'unknown'}${s.cmdline ? style('dim', `  cmdline: ${s.cmdline}`) : ''}`);
  row(
    'Config',
    f.config.source ? `${f.config.source} (${Object.keys(f.config.options).length} options)` : none,
  );
  for (const c of f.config.installed ?? [])
    out.push(
      `  ${style('dim', 'installed by kernelfile:')} ${c.path} (${c.options ? `${Object.keys(c.options).length} options` : c.error})`,
    );

  row('Kernels', f.kernels.length ? `${f.kernels.length} installed` : none);
  for (const k of f.kernels) {
    const parts = [
      k.image && 'image',
      k.systemMap && 'System.map',
      k.config && 'config',
      k.initramfs && 'initramfs',
      k.modules && `modules${k.modules.build === 'present' ? '+headers' : ''}`,
    ].filter(Boolean);
    const mark = k.release === s.running ? style('ok', ' (running)') : '';
    out.push(`  ${k.release}${mark}  ${style('dim', parts.join(', ') || 'no files')}`);
  }

  const d = f.dkms;
  row(
    'DKMS',
    d.version
      ? `dkms ${d.version}`
      : d.modules.length
        ? 'dkms not installed (modules found in its tree)'
        : 'not installed',
  );
  for (const m of d.modules)
    out.push(
      `  ${m.name}/${m.version}${m.kernel ? ` for ${m.kernel}` : ''}: ${m.rawState ?? m.state}${m.note ? ` ${m.note}` : ''}`,
    );

  row('Initramfs', f.initramfs.tool ? `${f.initramfs.tool} (${f.initramfs.images.length} images)` : none);

  const b = f.boot;
  const def = b.entries.find((e) => e.id === b.default);
  row('Boot loader', b.loader ? `${b.loader}${b.efi ? ' (UEFI)' : ''}` : `${none}${b.efi ? ' (UEFI)' : ''}`);
  if (b.default) out.push(`  default: ${def ? `${def.title} ${style('dim', `[${b.default}]`)}` : b.default}`);
  if (b.oneshot) out.push(`  next boot only: ${b.oneshot}`);
  for (const e of b.entries)
    out.push(
      `  ${e.id === b.default ? '*' : ' '} ${e.title}${e.release ? style('dim', `  (${e.release})`) : ''}`,
    );

  if (f.secureboot) secureBootRows(f.secureboot, row, out, style);

  const sp = f.space;
  const fsLine = (x: NonNullable<typeof sp.boot>) =>
    `${x.path} ${bytes(x.freeBytes)} free of ${bytes(x.totalBytes)} (on ${x.mountPoint})`;
  row(
    'Space',
    [sp.boot && fsLine(sp.boot), sp.modules && fsLine(sp.modules)].filter(Boolean).join('; ') || none,
  );

  row(
    'Receipts',
    f.receipts.receipts.length
      ? f.receipts.receipts.map((r) => `${r.release}${r.data.adopted ? ' (adopted)' : ''}`).join(', ')
      : none,
  );
  for (const e of f.receipts.errors) out.push(`  ${style('warning', 'unreadable')} ${e.file}: ${e.error}`);

  const present = Object.entries(f.tools)
    .filter(([, p]) => p)
    .map(([t]) => t);
  const missing = Object.entries(f.tools)
    .filter(([, p]) => !p)
    .map(([t]) => t);
  row(
    'Tools',
    `${present.join(' ') || none}${missing.length ? style('dim', `; missing: ${missing.join(' ')}`) : ''}`,
  );
  const libs = f.libs;
  row(
    'Libraries',
    libs
      ? `${libs.sonames.length} in ${libs.dirs.join(' ')}; glibc ${libs.glibc ?? 'unknown'}`
      : style('dim', 'not listed (whether the headers of a build can run here is not checked)'),
  );
  if (f.unreadable.length)
    row(
      'Unreadable',
      `${f.unreadable.join(', ')} ${style('dim', '(gathered without root: facts about these are missing)')}`,
    );
  row('Digest', f.digest);
  return `${out.join('\n')}\n`;
}

export const SECURE_BOOT_TEXT: Record<SecureBootFacts['state'], string> = {
  enabled: 'on (only modules signed by an enrolled key load)',
  disabled: 'off',
  'setup-mode': 'off (setup mode: no platform key)',
  'not-efi': 'off (not booted through UEFI)',
  unknown: 'unknown',
};

const colons = (sha1: string) => sha1.match(/../g)?.join(':') ?? sha1;

function secureBootRows(
  sb: SecureBootFacts,
  row: (label: string, value: string) => void,
  out: string[],
  style: Style,
): void {
  const from = sb.source === 'mokutil' ? ' (mokutil --sb-state)' : '';
  row(
    'Secure Boot',
    `${SECURE_BOOT_TEXT[sb.state]}${from}${sb.shimValidationDisabled ? '; shim validation disabled' : ''}`,
  );
  const list = (label: string, l: SecureBootFacts['enrolled']) => {
    if (!l) return;
    const parts = [l.sha1.length && `${l.sha1.length} certificates`, l.hashes && `${l.hashes} hashes`];
    out.push(`  ${label}: ${parts.filter(Boolean).join(', ') || 'none'}`);
    for (const fp of l.sha1) out.push(`    ${colons(fp)}`);
  };
  if (!sb.mokutil && sb.state !== 'unknown' && sb.state !== 'not-efi')
    out.push(`  ${style('dim', 'mokutil not installed: enrolled keys unknown')}`);
  list('enrolled MOKs', sb.enrolled);
  list('pending enrolment (next boot)', sb.pending);
  const d = sb.dkms;
  if (d.key || d.certificate) {
    const exists = (x: boolean | null) => (x === null ? '' : x ? '' : style('warning', ' (missing)'));
    out.push(
      `  dkms signs with: ${printable(d.key ?? 'no key')}${exists(d.keyExists)}, ${printable(d.certificate ?? 'no certificate')}${exists(d.certificateExists)}${style('dim', ` (${d.from === 'default' ? "dkms's default" : printable(d.from ?? '')})`)}`,
    );
  }
}
