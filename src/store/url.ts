/**
 * `cache.store`: where the shared artifact store is. Pure (validation uses it too).
 *
 *   oci://HOST[:PORT]/REPO[/…]        HTTPS, the certificate verified (system CAs or cache.storeCa)
 *   oci+http://HOST[:PORT]/REPO[/…]   plain HTTP: a registry on loopback or a network you trust
 *
 * There is no "skip verification" form: a registry with a self-signed or private-CA certificate is
 * trusted by naming its CA (`cache.storeCa`), which keeps the check. Credentials are never part of
 * the URL (a kernelfile is committed): `user@` is refused, they come from the registry's usual
 * configuration (src/store/credentials.ts).
 */

export interface StoreRef {
  /** How the registry is spoken to. */
  protocol: 'https' | 'http';
  /** The host as written (lower case; an IPv6 address in brackets). */
  host: string;
  port?: number;
  /** host[:port]: the key of the registry in docker's config.json `auths`. */
  authority: string;
  /** The repository inside the registry (OCI name grammar). */
  repository: string;
  /** protocol://authority: where /v2/ is. */
  base: string;
  /** The URL as kernelfile shows it. */
  display: string;
}

export interface StoreUrlProblem {
  code: 'bad-store-url' | 'store-credentials-in-url';
  message: string;
  hint: string;
}

const FORMS = '`oci://HOST[:PORT]/REPOSITORY` (HTTPS) or `oci+http://HOST[:PORT]/REPOSITORY` (plain HTTP)';
/** The OCI distribution spec's repository name: path components of lower-case alphanumerics and separators. */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

export function parseStoreUrl(text: string): { ref: StoreRef } | { problem: StoreUrlProblem } {
  const problem = (
    message: string,
    hint = `write it as ${FORMS}`,
    code: StoreUrlProblem['code'] = 'bad-store-url',
  ) => ({
    problem: { code, message, hint },
  });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u0020\u007f]/.test(text))
    return problem('cache.store contains a space or a control character');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(.*)$/.exec(text);
  if (!m) return problem(`cache.store ${JSON.stringify(text)} is not a URL`);
  const scheme = (m[1] as string).toLowerCase();
  const authority = m[2] as string;
  const path = m[3] as string;
  const rest = m[4] as string;
  if (scheme !== 'oci' && scheme !== 'oci+http')
    return problem(
      `cache.store: \`${scheme}://\` is not a store URL`,
      scheme === 'https' || scheme === 'http' || scheme === 'docker'
        ? `an OCI registry is written ${scheme === 'http' ? 'oci+http' : 'oci'}://${authority}${path}`
        : `write it as ${FORMS}`,
    );
  if (authority.includes('@'))
    return problem(
      'cache.store has credentials in it (`user@` or `user:password@`): a kernelfile is committed, credentials must not be',
      'remove them from the URL; kernelfile reads them from docker login (~/.docker/config.json, $DOCKER_CONFIG, $REGISTRY_AUTH_FILE) or KERNELFILE_STORE_USERNAME and KERNELFILE_STORE_PASSWORD (docs/security.md)',
      'store-credentials-in-url',
    );
  if (rest !== '')
    return problem('cache.store has a query or a fragment (`?…`, `#…`): a store URL has neither');
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(authority.toLowerCase());
  const host = hp?.[1] ?? '';
  if (!hp || !(HOSTNAME.test(host) || IPV6.test(host)))
    return problem(`cache.store: ${JSON.stringify(authority)} is not a host name, an address or host:port`);
  const port = hp[2] === undefined ? undefined : Number(hp[2]);
  if (port !== undefined && (port < 1 || port > 65535))
    return problem(`cache.store: port ${hp[2]} is out of range`);
  const repository = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (repository === '')
    return problem(
      'cache.store names no repository',
      'add the repository after the host, e.g. oci://registry.example.com/kernels',
    );
  const bad = repository.split('/').find((c) => !COMPONENT.test(c));
  if (bad !== undefined)
    return problem(
      `cache.store: repository component ${JSON.stringify(bad)} is not a valid OCI repository name`,
      'a repository is lower-case letters and digits separated by `.`, `_`, `__` or `-`, in `/`-separated components',
    );
  if (repository.length > 255)
    return problem('cache.store: the repository name is longer than 255 characters');
  const protocol = scheme === 'oci' ? 'https' : 'http';
  const auth = port === undefined ? host : `${host}:${port}`;
  return {
    ref: {
      protocol,
      host,
      ...(port !== undefined ? { port } : {}),
      authority: auth,
      repository,
      base: `${protocol}://${auth}`,
      display: `${scheme}://${auth}/${repository}`,
    },
  };
}

/** A host name that only this machine reaches (plain HTTP there is not on any network). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]';
}
