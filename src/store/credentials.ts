/**
 * Credentials for the store, from where registry tools keep them (never from the kernelfile):
 *
 *   1. KERNELFILE_STORE_USERNAME and KERNELFILE_STORE_PASSWORD (both set)
 *   2. $REGISTRY_AUTH_FILE (podman, skopeo, buildah: the same `auths` format)
 *   3. $DOCKER_CONFIG/config.json, else ~/.docker/config.json (what `docker login` writes)
 *
 * An entry of `auths` is keyed by the registry (host[:port], optionally with a scheme and a path,
 * as older docker versions wrote it) and holds `auth` (base64 of user:password) or `username` and
 * `password`. Credential helpers (`credsStore`, `credHelpers`) are not run: kernelfile says so
 * when the registry's credentials live only there. A password is never part of a message.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  username: string;
  password: string;
  /** Where they came from, for messages: "KERNELFILE_STORE_USERNAME", "~/.docker/config.json". */
  source: string;
}

export interface CredentialLookup {
  credentials?: Credentials;
  /** Why none were found although a file mentions the registry (a credential helper), for hints. */
  note?: string;
}

const MAX_CONFIG_BYTES = 1024 * 1024;

/** host[:port] of an `auths` key: `https://reg.example.com/v1/` → `reg.example.com`. */
export function registryKey(key: string): string {
  return key
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
}

/** The registry's credentials in a docker-style config (its text), or why there are none. */
export function credentialsFromConfig(text: string, authority: string, source: string): CredentialLookup {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { note: `${source} is not JSON` };
  }
  const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  const auths = o.auths && typeof o.auths === 'object' ? (o.auths as Record<string, unknown>) : {};
  const want = authority.toLowerCase();
  for (const [key, entry] of Object.entries(auths)) {
    if (registryKey(key) !== want || !entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    if (typeof e.auth === 'string' && e.auth !== '') {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0)
        return {
          credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source },
        };
      return {
        note: `the entry for ${authority} in ${source} has an \`auth\` that is not base64 of user:password`,
      };
    }
    if (typeof e.username === 'string' && typeof e.password === 'string' && e.username !== '')
      return { credentials: { username: e.username, password: e.password, source } };
    if (typeof e.identitytoken === 'string')
      return {
        note: `${source} holds an identity token for ${authority}, which kernelfile does not exchange; set KERNELFILE_STORE_USERNAME and KERNELFILE_STORE_PASSWORD`,
      };
  }
  const helper =
    (o.credHelpers && typeof o.credHelpers === 'object'
      ? Object.entries(o.credHelpers as Record<string, unknown>).find(([k]) => registryKey(k) === want)?.[1]
      : undefined) ?? o.credsStore;
  if (typeof helper === 'string')
    return {
      note: `${source} keeps registry credentials in the credential helper docker-credential-${helper}, which kernelfile does not run; set KERNELFILE_STORE_USERNAME and KERNELFILE_STORE_PASSWORD`,
    };
  return {};
}

function readSmall(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_CONFIG_BYTES) return undefined;
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The store's credentials for `authority` (host[:port]) from the environment and the usual files. */
export function findCredentials(
  authority: string,
  vars: Record<string, string | undefined>,
): CredentialLookup {
  const user = vars.KERNELFILE_STORE_USERNAME;
  const pass = vars.KERNELFILE_STORE_PASSWORD;
  if (user && pass !== undefined)
    return { credentials: { username: user, password: pass, source: 'KERNELFILE_STORE_USERNAME' } };
  const home = vars.HOME || homedir();
  const files: [string, string][] = [];
  if (vars.REGISTRY_AUTH_FILE) files.push([vars.REGISTRY_AUTH_FILE, '$REGISTRY_AUTH_FILE']);
  if (vars.DOCKER_CONFIG) files.push([join(vars.DOCKER_CONFIG, 'config.json'), '$DOCKER_CONFIG/config.json']);
  else files.push([join(home, '.docker/config.json'), '~/.docker/config.json']);
  let note: string | undefined;
  for (const [path, shown] of files) {
    const text = readSmall(path);
    if (text === undefined) continue;
    const found = credentialsFromConfig(text, authority, shown);
    if (found.credentials) return found;
    note ??= found.note;
  }
  return note ? { note } : {};
}
