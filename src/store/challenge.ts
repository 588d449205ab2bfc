/**
 * The registry's `WWW-Authenticate` challenge (RFC 7235) and the token endpoint's answer (the
 * distribution token authentication spec). Pure: both are remote data, parsed with bounds.
 */

export type Challenge =
  | { scheme: 'basic'; realm?: string }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

/** The challenges of one header value: `Bearer realm="…",service="…", Basic realm="…"`. */
export function parseChallenges(header: string): { scheme: string; params: Record<string, string> }[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const s = header.slice(0, 8192);
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
  };
  const token = () => {
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return m[0];
  };
  for (;;) {
    ws();
    const scheme = token();
    if (!scheme) break;
    const params: Record<string, string> = {};
    out.push({ scheme: scheme.toLowerCase(), params });
    for (;;) {
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      const save = i;
      const name = token();
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      if (!name || s[i] !== '=') {
        // the next challenge's scheme (or token68, which registries do not use)
        i = save;
        break;
      }
      i++;
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i];
          i++;
        }
        i++;
      } else value = token() ?? '';
      params[name.toLowerCase()] = value;
      while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
      if (s[i] !== ',') break;
      i++;
    }
    if (i >= s.length) break;
  }
  return out;
}

/** The challenge kernelfile answers: Bearer (a token from the realm) before Basic. */
export function pickChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const all = parseChallenges(header);
  const bearer = all.find((c) => c.scheme === 'bearer' && c.params.realm);
  if (bearer)
    return {
      scheme: 'bearer',
      realm: bearer.params.realm as string,
      ...(bearer.params.service !== undefined ? { service: bearer.params.service } : {}),
      ...(bearer.params.scope !== undefined ? { scope: bearer.params.scope } : {}),
    };
  const basic = all.find((c) => c.scheme === 'basic');
  if (basic)
    return { scheme: 'basic', ...(basic.params.realm !== undefined ? { realm: basic.params.realm } : {}) };
  return undefined;
}

/**
 * Where to ask for a token: the realm with `service` and `scope` as the spec says. The realm is the
 * registry's word: only http(s), and never plain HTTP when the store itself is HTTPS (the request
 * carries the credentials).
 */
export function tokenUrl(
  c: Extract<Challenge, { scheme: 'bearer' }>,
  scope: string,
  storeProtocol: 'https' | 'http',
): URL | { problem: string } {
  let u: URL;
  try {
    u = new URL(c.realm);
  } catch {
    return { problem: `the registry's token realm ${JSON.stringify(c.realm.slice(0, 200))} is not a URL` };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    return { problem: `the registry's token realm is ${u.protocol}//, not https://` };
  if (storeProtocol === 'https' && u.protocol !== 'https:')
    return { problem: `the registry's token realm ${u.origin} is plain HTTP while the store is HTTPS` };
  if (u.username || u.password) return { problem: 'the registry token realm carries credentials in its URL' };
  if (c.service !== undefined) u.searchParams.set('service', c.service);
  u.searchParams.set('scope', scope);
  return u;
}

/** The token in a token endpoint's JSON answer (`token`, or OAuth2's `access_token`), and how long it lives. */
export function parseTokenAnswer(text: string): { token: string; expiresIn?: number } | { problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { problem: 'the token endpoint did not answer JSON' };
  }
  const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  const token =
    typeof o.token === 'string' ? o.token : typeof o.access_token === 'string' ? o.access_token : '';
  // A token goes into an Authorization header (and, for hosts, a curl config line): visible ASCII only.
  if (!/^[\x21-\x7e]{1,8192}$/.test(token)) return { problem: 'the token endpoint answered no usable token' };
  const e = o.expires_in;
  return { token, ...(typeof e === 'number' && Number.isFinite(e) && e > 0 ? { expiresIn: e } : {}) };
}
