/**
 * What `kernelfile import` prints: the files written, how each value was found, the receipt of an
 * adoption, what the user must still provide, and the checks to run. Host strings escaped.
 */
import { relative } from 'node:path';
import type { ImportResult } from '../engine/import.js';
import { printable } from './escape.js';
import type { Style } from './style.js';

const STATE = { written: 'wrote', replaced: 'replaced', unchanged: 'unchanged' } as const;

export function renderImport(r: ImportResult, cwd: string, style: Style): string {
  const rel = (p: string) => {
    const x = relative(cwd, p);
    return x === '' || x.startsWith('..') ? p : x;
  };
  const d = r.document;
  const v = d.version;
  const version = `version ${v.version}${v.localversion ? `, localversion ${v.localversion}` : ''}`;
  const what = ['the kernelfile', `the running config (config.base.file)`];
  const width = Math.max(...r.files.map((f) => rel(f.path).length));
  return [
    `${style('ok', 'imported')} the running kernel ${printable(d.release)} of ${printable(r.host)} as ${style('bold', d.name)} (${version})`,
    ...r.files.map(
      (f, i) =>
        `  ${STATE[f.state].padEnd(9)} ${rel(f.path).padEnd(width)}   ${what[i] ?? ''}${f.state === 'unchanged' ? ', already there as it is' : ''}`,
    ),
    '',
    'Found:',
    ...d.notes.map((n) => `  - ${printable(n)}`),
    ...(r.adopted
      ? [
          '',
          `${style('ok', 'adopted')} ${printable(r.adopted.release)}: wrote the receipt ${r.adopted.receipt} on ${printable(r.host)} (${r.adopted.files} file${r.adopted.files === 1 ? '' : 's'} listed for drift).`,
          '  The next plan installs the build beside it and compares with its config; rollback can return',
          '  to it; kernelfile never removes it (remove it by hand when it is no longer wanted).',
        ]
      : []),
    ...(r.warnings.length
      ? ['', 'validate warns (expected until the list below is done):', ...r.warnings.map((w) => `  ${w}`)]
      : []),
    '',
    `${style('warning', 'Still to provide')} (also at the top of ${rel(r.files[0]?.path ?? 'kernelfile.yaml')}):`,
    ...d.todo.flatMap((t) => [
      `  - ${t.what}: ${printable(t.how)}`,
      ...(t.commands ?? []).map((c) => `      ${printable(c)}`),
    ]),
    '',
    'Then check it:',
    ...d.checks.map((c) => `  ${printable(c)}`),
    '',
  ].join('\n');
}
