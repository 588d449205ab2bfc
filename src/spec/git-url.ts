/**
 * What a `kernel.source.git` value may be. git reads a repository argument that starts with `-`
 * as an option (`--upload-pack=CMD` runs CMD), and `X::ADDRESS` asks it to run the remote helper
 * git-remote-X (`ext::CMD` runs CMD); both are refused here and again before git runs. Only
 * https://, ssh://, file://, scp-like `[user@]host:path` and local paths are accepted. Pure.
 */

export type GitUrlKind = 'https' | 'ssh' | 'scp' | 'file' | 'path';

export interface GitUrlProblem {
  code: 'git-option' | 'git-transport-helper' | 'insecure-url' | 'unsupported-url' | 'bad-url';
  message: string;
  hint: string;
}

const ALLOWED = 'an https://, ssh:// or file:// URL, `user@host:path`, or a local path';

/** The kind of a git repository value, or why it is refused. */
export function classifyGitUrl(value: string): { kind: GitUrlKind } | { problem: GitUrlProblem } {
  const problem = (code: GitUrlProblem['code'], message: string, hint = `use ${ALLOWED}`) => ({
    problem: { code, message, hint },
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value))
    return problem('bad-url', 'the git repository contains a control character (a newline, a tab…)');
  if (value.trim() === '') return problem('bad-url', 'the git repository is empty');
  if (value.startsWith('-'))
    return problem(
      'git-option',
      'the git repository starts with `-`: git would read it as an option, not a repository',
    );
  const helper = value.match(/^([A-Za-z0-9][A-Za-z0-9+.-]*)::/);
  if (helper)
    return problem(
      'git-transport-helper',
      `\`${helper[1]}::\` asks git to run the remote helper git-remote-${helper[1]}${helper[1] === 'ext' ? ' (`ext::` runs any command)' : ''}; kernelfile does not allow transport helpers`,
    );
  const scheme = value.match(/^([A-Za-z][A-Za-z0-9+.-]*):\/\//)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === 'git' || scheme === 'http' || scheme === 'ftp' || scheme === 'ftps')
      return problem(
        'insecure-url',
        `the \`${scheme}://\` protocol is not authenticated`,
        'use https://, ssh:// or a local path',
      );
    if (scheme !== 'https' && scheme !== 'ssh' && scheme !== 'file')
      return problem('unsupported-url', `git repositories over \`${scheme}://\` are not supported`);
    const rest = value.slice(scheme.length + 3);
    if (scheme === 'file') {
      if (!rest.startsWith('/'))
        return problem('bad-url', 'a file:// URL names an absolute path: `file:///srv/git/linux.git`');
      return { kind: 'file' };
    }
    const authority = rest.split('/')[0] ?? '';
    const host = authority.replace(/^[^@]*@/, '');
    const user = authority.includes('@') ? authority.slice(0, authority.lastIndexOf('@')) : '';
    if (host === '' || host.startsWith('-'))
      return problem('bad-url', `the host in \`${value}\` is empty or starts with \`-\``);
    if (user.startsWith('-')) return problem('bad-url', `the user in \`${value}\` starts with \`-\``);
    return { kind: scheme === 'https' ? 'https' : 'ssh' };
  }
  // scp-like syntax, as git reads it: a `:` before the first `/`.
  const colon = value.indexOf(':');
  const slash = value.indexOf('/');
  if (colon > 0 && (slash < 0 || colon < slash)) {
    const authority = value.slice(0, colon);
    const host = authority.replace(/^.*@/, '');
    if (host === '' || host.startsWith('-'))
      return problem('bad-url', `the host in \`${value}\` is empty or starts with \`-\``);
    return { kind: 'scp' };
  }
  return { kind: 'path' };
}

/** Why a git value is refused, or undefined when it may be given to git. */
export function gitUrlProblem(value: string): GitUrlProblem | undefined {
  const c = classifyGitUrl(value);
  return 'problem' in c ? c.problem : undefined;
}
