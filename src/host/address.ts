/**
 * `--host` values: `local` (default), `root:/srv/rootfs`, `ssh://[user@]name[:port]`, or a bare
 * `[user@]NAME` (an ~/.ssh/config alias or a host name). Pure: parsing only, no lookups.
 */

export type HostAddress =
  | { kind: 'local' }
  | { kind: 'root'; dir: string }
  | {
      kind: 'ssh';
      host: string;
      user?: string;
      port?: number /** as written, for messages */;
      written: string;
    };

export class AddressError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'AddressError';
  }
}

const HINT = 'use `local`, `root:/path/to/rootfs`, `ssh://user@host:port` or an ~/.ssh/config host alias';

function port(text: string, written: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535)
    throw new AddressError(`bad port \`${text}\` in --host ${written}`, 'a port is 1 to 65535');
  return n;
}

export function parseHostAddress(written: string): HostAddress {
  const s = written.trim();
  if (s === '') throw new AddressError('--host is empty', HINT);
  if (s === 'local') return { kind: 'local' };
  if (s.startsWith('root:')) {
    const dir = s.slice('root:'.length);
    if (!dir.startsWith('/'))
      throw new AddressError(`root:${dir} must be an absolute path`, 'e.g. --host root:/srv/rootfs');
    return { kind: 'root', dir: dir.length > 1 ? dir.replace(/\/+$/, '') : dir };
  }
  let rest = s;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) {
    if (!s.toLowerCase().startsWith('ssh://')) throw new AddressError(`unknown scheme in --host ${s}`, HINT);
    rest = s.slice('ssh://'.length).replace(/\/$/, '');
  }
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = decodeURIComponent(rest.slice(0, at));
    rest = rest.slice(at + 1);
    if (!user) throw new AddressError(`empty user name in --host ${s}`, HINT);
  }
  let host = rest;
  let p: number | undefined;
  const v6 = rest.match(/^\[([^\]]+)\](?::(.*))?$/);
  if (v6) {
    host = v6[1] as string;
    if (v6[2] !== undefined) p = port(v6[2], s);
  } else if ((rest.match(/:/g) ?? []).length === 1) {
    const i = rest.indexOf(':');
    host = rest.slice(0, i);
    p = port(rest.slice(i + 1), s);
  }
  if (!host || /[\s/'"`$;&|<>]/.test(host))
    throw new AddressError(`cannot read a host name in --host ${s}`, HINT);
  return { kind: 'ssh', host, ...(user ? { user } : {}), ...(p ? { port: p } : {}), written: s };
}
