/**
 * `build.distcc` host specifications, as distcc(1) reads DISTCC_HOSTS, restricted to what kernelfile
 * runs and checks before a compile: TCP daemons (`HOST[:PORT][/LIMIT][,lzo]`, also distcc's old order
 * `HOST[/LIMIT][:PORT]`) and `localhost[/N]`. Pure: no I/O. SSH hosts (`@HOST`), pump mode (`,cpp`),
 * GSSAPI (`,auth`), zeroconf and global options are refused with what to do instead.
 */

/** distcc's default job limit for a TCP host without `/LIMIT` (distcc(1): "four per host"). */
export const DISTCC_DEFAULT_LIMIT = 4;
/** distcc's default for `localhost` without `/N` (distcc(1): "two for localhost"). */
export const DISTCC_LOCAL_DEFAULT_LIMIT = 2;
/** distccd's port. */
export const DISTCC_DEFAULT_PORT = 3632;
/** The largest `/LIMIT` accepted (make's `-j` is at most 1024 in the schema). */
const MAX_LIMIT = 256;

export type DistccHost =
  | { kind: 'local'; limit: number; written: string }
  | {
      kind: 'tcp';
      /** A host name, an IPv4 address or an IPv6 address (without its brackets). */
      host: string;
      port: number;
      limit: number;
      lzo: boolean;
      /** The specification as written: what DISTCC_HOSTS gets and what distcc's log names. */
      written: string;
    };

export type DistccParse = { ok: true; host: DistccHost } | { ok: false; message: string; hint: string };

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

const fail = (message: string, hint: string): DistccParse => ({ ok: false, message, hint });

/** The `/LIMIT` or `:PORT` number, or why not. */
function number(text: string, what: string, max: number): number | string {
  if (!/^[0-9]{1,6}$/.test(text)) return `${what} \`${text}\` is not a number`;
  const n = Number(text);
  if (n < 1 || n > max) return `${what} ${n} is out of range (1–${max})`;
  return n;
}

/** One `build.distcc` entry → a host, or a message and a hint saying what to write instead. */
export function parseDistccHost(written: string): DistccParse {
  const s = written;
  if (s.length === 0 || s.length > 300)
    return fail('an empty or overlong distcc host', 'write HOST[:PORT][/LIMIT]');
  // Nothing that a shell, DISTCC_HOSTS' own word splitting or its comments would read differently.
  if (/[\s#'"`$\\;&|<>(){}*?!~^]/.test(s) || /[^\x21-\x7e]/.test(s))
    return fail(
      `distcc host \`${s.replace(/[^\x21-\x7e]/g, '?')}\` contains a space, a shell or non-ASCII character`,
      'one host per list entry: HOST[:PORT][/LIMIT][,lzo] or localhost[/N]',
    );
  if (s.startsWith('--') || s.startsWith('+'))
    return fail(
      `\`${s}\` is a distcc global option or zeroconf, not a host`,
      'list the distcc hosts themselves (HOST[:PORT][/LIMIT]); kernelfile sets make -j from their limits',
    );
  if (s.includes('@'))
    return fail(
      `distcc host \`${s}\` uses SSH mode (@HOST), which kernelfile does not run`,
      'run distccd on that host as a TCP daemon restricted to this machine (`distccd --daemon --allow ADDRESS`) and list it as HOST/LIMIT; kernelfile checks each daemon before the compile',
    );
  const [main = '', ...options] = s.split(',');
  let lzo = false;
  for (const o of options) {
    if (o === 'lzo') lzo = true;
    else if (o === 'cpp')
      return fail(
        `distcc host \`${s}\`: pump mode (,cpp) is not used by kernelfile`,
        'drop ,cpp: kernelfile runs distcc in its normal mode (preprocessing here, compiling there), which keeps builds bit-identical with local ones',
      );
    else if (o === 'auth' || o.startsWith('auth='))
      return fail(
        `distcc host \`${s}\`: GSSAPI authentication (,auth) is not supported`,
        'drop ,auth and restrict the daemon with --allow to this machine (see docs/security.md)',
      );
    else return fail(`distcc host \`${s}\`: unknown option \`,${o}\``, 'the options are ,lzo (compression)');
  }
  // [IPv6]:PORT/LIMIT, or HOST:PORT/LIMIT, or distcc's old HOST/LIMIT:PORT.
  let host: string;
  let rest: string;
  if (main.startsWith('[')) {
    const close = main.indexOf(']');
    if (close < 0)
      return fail(`distcc host \`${s}\`: \`[\` without \`]\``, 'write an IPv6 address as [ADDRESS]');
    host = main.slice(1, close);
    rest = main.slice(close + 1);
    if (!IPV6.test(host) || !host.includes(':'))
      return fail(
        `distcc host \`${s}\`: \`${host}\` is not an IPv6 address`,
        'write an IPv6 address as [ADDRESS]',
      );
  } else {
    const at = main.search(/[:/]/);
    host = at < 0 ? main : main.slice(0, at);
    rest = at < 0 ? '' : main.slice(at);
  }
  let port: number | undefined;
  let limit: number | undefined;
  for (const m of rest.matchAll(/([:/])([^:/]*)/g)) {
    const [, sep, value = ''] = m;
    if (sep === ':') {
      if (port !== undefined) return fail(`distcc host \`${s}\`: two ports`, 'write HOST[:PORT][/LIMIT]');
      const n = number(value, 'port', 65535);
      if (typeof n === 'string') return fail(`distcc host \`${s}\`: ${n}`, 'write HOST[:PORT][/LIMIT]');
      port = n;
    } else {
      if (limit !== undefined) return fail(`distcc host \`${s}\`: two limits`, 'write HOST[:PORT][/LIMIT]');
      const n = number(value, 'limit', MAX_LIMIT);
      if (typeof n === 'string') return fail(`distcc host \`${s}\`: ${n}`, 'write HOST[:PORT][/LIMIT]');
      limit = n;
    }
  }
  if (rest.replace(/([:/])([^:/]*)/g, '') !== '')
    return fail(`distcc host \`${s}\` is not HOST[:PORT][/LIMIT]`, 'write HOST[:PORT][/LIMIT][,lzo]');
  if (host === 'localhost') {
    if (port !== undefined || lzo)
      return fail(
        `distcc host \`${s}\`: \`localhost\` means compiling in place (no daemon, no port, no compression)`,
        "write localhost/N; to use a daemon on this machine, give this machine's address instead",
      );
    return { ok: true, host: { kind: 'local', limit: limit ?? DISTCC_LOCAL_DEFAULT_LIMIT, written: s } };
  }
  const v4 = IPV4.exec(host);
  const valid =
    main.startsWith('[') || (v4 ? v4.slice(1).every((o) => Number(o) <= 255) : HOSTNAME.test(host));
  if (!valid || /^[0-9.]+$/.test(host) !== Boolean(v4))
    return fail(
      `distcc host \`${s}\`: \`${host}\` is not a host name or an IP address`,
      'write HOST[:PORT][/LIMIT]',
    );
  return {
    ok: true,
    host: {
      kind: 'tcp',
      host,
      port: port ?? DISTCC_DEFAULT_PORT,
      limit: limit ?? DISTCC_DEFAULT_LIMIT,
      lzo,
      written: s,
    },
  };
}

/** A host as a person reads it: `HOST:PORT` (IPv6 in brackets). */
export function distccAddress(h: Extract<DistccHost, { kind: 'tcp' }>): string {
  return `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}`;
}

/**
 * make's `-j` for these hosts: every remote slot (their limits) plus the local ones (localhost's
 * limit when it is listed, else this machine's cores, which preprocess for the remote jobs and run
 * what cannot go remote: links, assembler files, compiler probes).
 */
export function distccJobs(hosts: DistccHost[], localCores: number): number {
  const remote = hosts.reduce((n, h) => n + (h.kind === 'tcp' ? h.limit : 0), 0);
  const local = hosts.find((h) => h.kind === 'local')?.limit ?? localCores;
  return Math.min(1024, remote + Math.max(1, local));
}

/** Every entry parsed (the kernelfile was validated: a bad one throws). */
export function distccHosts(written: readonly string[]): DistccHost[] {
  return written.map((w) => {
    const r = parseDistccHost(w);
    if (!r.ok) throw new Error(`build.distcc: ${r.message}`);
    return r.host;
  });
}
