/** What became of each lock file (kernelfile.lock), for a terminal: one line, then each difference. */
import type { LockReport } from '../lock/types.js';
import type { Style } from './style.js';

export function renderLockReport(r: LockReport, style: Style): string {
  const list = r.differences.map((d) => `  ${style('change', '~')} ${d.message}\n`).join('');
  switch (r.state) {
    case 'unchanged':
      return '';
    case 'written':
      return `Wrote ${r.path}: what ${r.kernelfile} resolved to. Commit it with the kernelfile.\n`;
    case 'updated':
      return `Updated ${r.path}${r.differences.length ? ` (${r.differences.length} difference${r.differences.length === 1 ? '' : 's'} accepted)` : ''}:\n${list}`;
    case 'missing':
      if (r.path === '-')
        return r.refused
          ? `${style('error', 'error:')} a kernelfile read from standard input has no lock file\n  hint: name the kernelfile's path\n`
          : '';
      return `${style(r.refused ? 'error' : 'warning', r.refused ? 'error:' : 'warning:')} ${r.path} does not exist\n  hint: run \`kernelfile lock ${r.kernelfile}\` and commit it\n`;
    case 'invalid':
      return `${style(r.refused ? 'error' : 'warning', r.refused ? 'error:' : 'warning:')} ${r.path}:${r.error?.line}:${r.error?.column}: ${r.error?.message}${r.refused ? '' : ' (the lock is not used)'}\n  hint: fix it, or write it again with \`kernelfile lock ${r.kernelfile}\`\n`;
    case 'differs':
      return `${style(r.refused ? 'error' : 'warning', r.refused ? 'error:' : 'warning:')} ${r.kernelfile} no longer resolves to what ${r.path} records (${r.differences.length} difference${r.differences.length === 1 ? '' : 's'}):\n${list}  hint: ${r.refused ? 'if this is intended, run' : 'review them; to accept, run'} \`kernelfile lock ${r.kernelfile}\` (or add --update-lock) and commit ${r.path}\n`;
  }
}
