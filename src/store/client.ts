/**
 * A small client of the OCI distribution API (v2) over node:http and node:https: what the store
 * needs and nothing else. No npm OCI client is both kept up and usable from Node (the maintained
 * ones are Go: oras, crane, skopeo), and the part used here is small:
 *
 *   GET  /v2/                              ping, and the first auth challenge
 *   HEAD /v2/<repo>/manifests/<tag>        is a build there (plan), without fetching it
 *   GET  /v2/<repo>/manifests/<tag>        its manifest, size-bounded
 *   PUT  /v2/<repo>/manifests/<tag>        publish a build
 *   HEAD /v2/<repo>/blobs/<digest>         skip blobs already there
 *   POST /v2/<repo>/blobs/uploads/ + PUT   a monolithic upload
 *   GET  /v2/<repo>/blobs/<digest>         streamed to a file, sha256 and size checked while streaming
 *
 * Authentication answers the registry's challenge: Basic with the credentials, or the Bearer token
 * flow (a token from the realm, per scope, Basic credentials to the realm when there are any). TLS
 * is always verified (the system CAs, or the store's CA file). Credentials and tokens appear in no
 * message; registry error texts are shortened and stripped of control characters.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { type Challenge, parseTokenAnswer, pickChallenge, tokenUrl } from './challenge.js';
import type { Credentials } from './credentials.js';
import { MAX_MANIFEST_BYTES, OCI_MANIFEST } from './manifest.js';
import type { StoreRef } from './url.js';

export class StoreError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    /** The registry answered 404 (not there), as opposed to failing. */
    readonly notFound = false,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

export interface ClientOptions {
  ref: StoreRef;
  credentials?: Credentials;
  /** Why there are no credentials although a file names the registry (for the hint on a 401). */
  credentialsNote?: string;
  /** PEM CA certificates to verify the registry's certificate against (instead of the system's). */
  ca?: string;
  /** Per request: no answer within this time fails it (default 30 s; a blob's body may take longer). */
  timeoutMs?: number;
}

type Scope = 'pull' | 'pull,push';

interface Req {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST';
  /** A path on the registry (/v2/…) or, for an upload location or a redirect, a full URL. */
  url: string;
  scope: Scope;
  headers?: OutgoingHttpHeaders;
  /** The body, made afresh for a retry after an auth challenge. */
  body?: () => Buffer | NodeJS.ReadableStream;
  /** Follow redirects (blob downloads: registries send them to object storage). */
  follow?: boolean;
}

const clean = (s: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').slice(0, 300);

/** What a registry's JSON error body says, shortened (`{"errors":[{"code","message"}]}`). */
function registryMessage(body: string): string {
  try {
    const v = JSON.parse(body) as { errors?: { code?: unknown; message?: unknown }[] };
    const e = v.errors?.[0];
    if (e) return clean(`${String(e.code ?? '')}${e.message ? `: ${String(e.message)}` : ''}`);
  } catch {
    // not JSON
  }
  return clean(body.trim());
}

export async function readBody(res: IncomingMessage, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (n > max) {
      res.destroy();
      throw new StoreError(`${what} is larger than ${max} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

export class OciClient {
  private readonly tokens = new Map<Scope, { token: string; until: number }>();
  /** The registry asked for Basic: send it up front from now on. */
  private basic = false;
  /** The registry's Bearer challenge, once seen (a pull token for hosts is asked with it). */
  private bearer: Extract<Challenge, { scheme: 'bearer' }> | undefined;
  private readonly timeoutMs: number;

  constructor(readonly o: ClientOptions) {
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  get display(): string {
    return this.o.ref.display;
  }

  private repoPath(kind: 'manifests' | 'blobs', ref: string): string {
    return `/v2/${this.o.ref.repository}/${kind}/${ref}`;
  }

  private authHeader(scope: Scope): string | undefined {
    const t = this.tokens.get(scope) ?? (scope === 'pull' ? this.tokens.get('pull,push') : undefined);
    if (t && t.until > Date.now()) return `Bearer ${t.token}`;
    if (this.basic && this.o.credentials)
      return `Basic ${Buffer.from(`${this.o.credentials.username}:${this.o.credentials.password}`).toString('base64')}`;
    return undefined;
  }

  /** One request, no retries: the response, its body unread. */
  private raw(
    url: URL,
    method: string,
    headers: OutgoingHttpHeaders,
    body?: Buffer | NodeJS.ReadableStream,
  ): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          headers: { 'user-agent': 'kernelfile', ...headers },
          ...(secure ? { ca: this.o.ca, rejectUnauthorized: true } : {}),
          timeout: this.timeoutMs,
        },
        resolve,
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (e) => reject(this.networkError(url, e)));
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        (body as NodeJS.ReadableStream).on('error', (e) => req.destroy(e));
        (body as NodeJS.ReadableStream).pipe(req);
      }
    });
  }

  private networkError(url: URL, e: Error & { code?: string }): StoreError {
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|altnames/i.test(
      `${e.code ?? ''} ${e.message}`,
    );
    return new StoreError(
      `cannot reach the store ${this.display} (${url.host}): ${clean(e.message)}`,
      tls
        ? "its TLS certificate is not trusted: if it is signed by a private CA or self-signed, name the CA's PEM file in cache.storeCa"
        : 'check that the registry runs and this machine reaches it',
    );
  }

  /** A request with the registry's auth: a 401 is answered once (Basic or a Bearer token), then retried. */
  private async send(r: Req): Promise<IncomingMessage> {
    let url = new URL(r.url, this.o.ref.base);
    const origin = new URL(this.o.ref.base).origin;
    let answered = false;
    for (let hops = 0; ; ) {
      const sameOrigin = url.origin === origin;
      const auth = sameOrigin ? this.authHeader(r.scope) : undefined;
      const res = await this.raw(
        url,
        r.method,
        { ...r.headers, ...(auth ? { authorization: auth } : {}) },
        r.body?.(),
      );
      const status = res.statusCode ?? 0;
      if (status === 401 && sameOrigin && !answered) {
        res.resume();
        answered = true;
        await this.answer(pickChallenge(res.headers['www-authenticate']), r.scope);
        continue;
      }
      if (r.follow && [301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (++hops > 5) throw new StoreError(`the store ${this.display} redirected more than 5 times`);
        const next = new URL(res.headers.location, url);
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && url.protocol === 'http:'))
          throw new StoreError(`the store ${this.display} redirected to ${clean(next.origin)}, off HTTPS`);
        url = next;
        continue;
      }
      return res;
    }
  }

  private async answer(c: Challenge | undefined, scope: Scope): Promise<void> {
    const creds = this.o.credentials;
    const noCreds = () =>
      new StoreError(
        `the store ${this.display} asks for credentials and kernelfile has none for ${this.o.ref.authority}`,
        this.o.credentialsNote ??
          `log in with \`docker login ${this.o.ref.authority}\` (or podman login), or set KERNELFILE_STORE_USERNAME and KERNELFILE_STORE_PASSWORD`,
      );
    if (!c)
      throw new StoreError(`the store ${this.display} refused the request (401) without a usable challenge`);
    if (c.scheme === 'basic') {
      if (!creds) throw noCreds();
      this.basic = true;
      return;
    }
    this.bearer = c;
    const u = tokenUrl(c, `repository:${this.o.ref.repository}:${scope}`, this.o.ref.protocol);
    if ('problem' in u) throw new StoreError(`cannot log in to the store ${this.display}: ${u.problem}`);
    const headers: OutgoingHttpHeaders = creds
      ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` }
      : {};
    const res = await this.raw(u, 'GET', headers);
    const body = (await readBody(res, 64 * 1024, 'the token answer')).toString('utf8');
    if (res.statusCode === 401 || res.statusCode === 403) {
      if (!creds) throw noCreds();
      throw new StoreError(
        `the store ${this.display} refused the credentials from ${creds.source} (${res.statusCode} from its token service)`,
        'check the user name and password (docker login again)',
      );
    }
    if (res.statusCode !== 200)
      throw new StoreError(`the store's token service answered ${res.statusCode}: ${registryMessage(body)}`);
    const t = parseTokenAnswer(body);
    if ('problem' in t) throw new StoreError(`cannot log in to the store ${this.display}: ${t.problem}`);
    // The spec's default lifetime is 60 s; a token is renewed 10 s before it ends.
    const life = Math.max(10, (t.expiresIn ?? 60) - 10);
    this.tokens.set(scope, { token: t.token, until: Date.now() + life * 1000 });
  }

  private async fail(res: IncomingMessage, what: string): Promise<never> {
    const body = (await readBody(res, 64 * 1024, 'an error answer').catch(() => Buffer.alloc(0))).toString(
      'utf8',
    );
    const status = res.statusCode ?? 0;
    if (status === 401 || status === 403) {
      const creds = this.o.credentials;
      throw new StoreError(
        `the store ${this.display} refused ${what} (${status}${creds ? `, with the credentials from ${creds.source}` : ', without credentials'})`,
        creds
          ? 'check that this user may read (and, to push, write) the repository'
          : (this.o.credentialsNote ?? `log in with \`docker login ${this.o.ref.authority}\``),
      );
    }
    throw new StoreError(`the store ${this.display} answered ${status} to ${what}: ${registryMessage(body)}`);
  }

  /** GET /v2/: the registry is there and speaks the API (and answers its challenge). */
  async ping(scope: Scope = 'pull'): Promise<void> {
    const res = await this.send({ method: 'GET', url: '/v2/', scope });
    res.resume();
    if (res.statusCode !== 200) await this.fail(res, 'GET /v2/');
  }

  /** The digest of the manifest tagged `tag`, or undefined when there is none. */
  async manifestDigest(tag: string): Promise<string | undefined> {
    const res = await this.send({
      method: 'HEAD',
      url: this.repoPath('manifests', tag),
      scope: 'pull',
      headers: { accept: OCI_MANIFEST },
    });
    res.resume();
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) return this.fail(res, `HEAD manifest ${tag}`);
    const d = res.headers['docker-content-digest'];
    return typeof d === 'string' ? d : 'present';
  }

  /** The manifest tagged `tag` (bounded, its digest checked when the registry names one), or undefined. */
  async getManifest(tag: string): Promise<{ bytes: Buffer; digest: string } | undefined> {
    const res = await this.send({
      method: 'GET',
      url: this.repoPath('manifests', tag),
      scope: 'pull',
      headers: { accept: OCI_MANIFEST },
    });
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) return this.fail(res, `GET manifest ${tag}`);
    const bytes = await readBody(res, MAX_MANIFEST_BYTES, `the manifest of ${tag}`);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const named = res.headers['docker-content-digest'];
    if (typeof named === 'string' && named.startsWith('sha256:') && named !== digest)
      throw new StoreError(
        `the store ${this.display} sent a manifest for ${tag} whose sha256 is not the one it named`,
      );
    return { bytes, digest };
  }

  async putManifest(tag: string, bytes: Buffer): Promise<string> {
    const res = await this.send({
      method: 'PUT',
      url: this.repoPath('manifests', tag),
      scope: 'pull,push',
      headers: { 'content-type': OCI_MANIFEST, 'content-length': bytes.length },
      body: () => bytes,
    });
    res.resume();
    if (res.statusCode !== 201) return this.fail(res, `PUT manifest ${tag}`);
    return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  async hasBlob(digest: string, scope: Scope = 'pull'): Promise<boolean> {
    const res = await this.send({ method: 'HEAD', url: this.repoPath('blobs', digest), scope, follow: true });
    res.resume();
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    return this.fail(res, `HEAD blob ${digest}`);
  }

  /** Upload a blob (a file, or bytes) in one PUT after the POST that opens the upload. */
  async pushBlob(digest: string, size: number, from: string | Buffer): Promise<void> {
    const start = await this.send({
      method: 'POST',
      url: `/v2/${this.o.ref.repository}/blobs/uploads/`,
      scope: 'pull,push',
      headers: { 'content-length': 0 },
    });
    start.resume();
    if (start.statusCode !== 202 || !start.headers.location) return this.fail(start, 'POST blob upload');
    const at = new URL(start.headers.location, this.o.ref.base);
    if (at.origin !== new URL(this.o.ref.base).origin)
      throw new StoreError(
        `the store ${this.display} sent the upload elsewhere (${clean(at.origin)}); kernelfile uploads only to the store`,
      );
    at.searchParams.set('digest', digest);
    const res = await this.send({
      method: 'PUT',
      url: at.toString(),
      scope: 'pull,push',
      headers: { 'content-type': 'application/octet-stream', 'content-length': size },
      body: () => (typeof from === 'string' ? createReadStream(from) : from),
    });
    res.resume();
    if (res.statusCode !== 201) return this.fail(res, `PUT blob ${digest}`);
  }

  /**
   * Download a blob into `dest` through a temporary name: its size and sha256 are checked while it
   * streams (more bytes than announced stop it at once) and the file is renamed only when both hold.
   */
  async pullBlob(digest: string, size: number, dest: string): Promise<void> {
    const res = await this.send({
      method: 'GET',
      url: this.repoPath('blobs', digest),
      scope: 'pull',
      follow: true,
    });
    if (res.statusCode !== 200) return this.fail(res, `GET blob ${digest}`);
    const tmp = `${dest}.part`;
    const out = createWriteStream(tmp, { mode: 0o644 });
    const h = createHash('sha256');
    let n = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        out.on('error', reject);
        res.on('error', reject);
        res.on('data', (chunk: Buffer) => {
          n += chunk.length;
          if (n > size) {
            res.destroy();
            reject(
              new StoreError(`the store ${this.display} sent more than the ${size} bytes of blob ${digest}`),
            );
            return;
          }
          h.update(chunk);
          if (!out.write(chunk)) {
            res.pause();
            out.once('drain', () => res.resume());
          }
        });
        res.on('end', () => out.end(() => resolve()));
      });
      if (n !== size)
        throw new StoreError(`the store ${this.display} sent ${n} of the ${size} bytes of blob ${digest}`);
      const got = `sha256:${h.digest('hex')}`;
      if (got !== digest)
        throw new StoreError(
          `the store ${this.display} sent a blob whose sha256 is not ${digest} (got ${got}): refused`,
          'the registry holds damaged or substituted data; nothing of it was kept',
        );
      renameSync(tmp, dest);
    } catch (e) {
      out.destroy();
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  /**
   * What a host needs to fetch blobs itself: nothing (an open registry), a short-lived pull token
   * (Bearer), or Basic credentials, which never leave the controller (such hosts are shipped to).
   */
  async hostAuth(): Promise<{ kind: 'none' } | { kind: 'bearer'; token: string } | { kind: 'basic' }> {
    await this.ping('pull');
    if (this.bearer) {
      // A token of its own, scoped to pull only, fresh for this host.
      await this.answer(this.bearer, 'pull');
      const t = this.tokens.get('pull');
      if (t) return { kind: 'bearer', token: t.token };
    }
    return this.basic ? { kind: 'basic' } : { kind: 'none' };
  }
}
