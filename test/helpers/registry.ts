/**
 * A real OCI distribution registry for tests: Debian's docker-registry (distribution 2.8) serving a
 * temp directory on a free port, started per test file and killed after it (never the system
 * service). Options:
 *  - tls: HTTPS with a self-signed certificate made by openssl for localhost and 127.0.0.1
 *    (`caFile` is the certificate, for cache.storeCa);
 *  - basic: htpasswd users (htpasswd -B from apache2-utils) and Basic auth;
 *  - token: the Bearer token flow: a token service in this process (a node:http server that checks
 *    Basic credentials and signs RS256 JWTs with a key whose self-signed certificate the registry
 *    trusts; the token carries the scope's actions);
 *  - listen: the address (default 127.0.0.1; 0.0.0.0 for hosts in network namespaces).
 * The registry logs JSON: requests() lists what it served, with the client's address, so a test
 * proves who fetched which blob.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, createSign, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands, runOk, sleep } from './proc.js';
import { freePort, portOpen } from './sshd.js';

export interface RegistryRequest {
  method: string;
  uri: string;
  status: number;
  remote: string;
  /** Bytes written in the answer. */
  bytes: number;
}

export interface Registry {
  /** host:port the controller uses. */
  authority: string;
  port: number;
  /** oci+http://… or oci://… with the repository. */
  url(repository?: string): string;
  /** The registry's certificate (tls). */
  caFile?: string;
  storage: string;
  /** Requests served so far (read from the registry's log). */
  requests(): RegistryRequest[];
  /** Token requests the token service answered (token: true). */
  tokenRequests: { scope: string; user: string | undefined }[];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  tls?: boolean;
  basic?: { user: string; password: string };
  token?: { user: string; password: string; expiresIn?: number };
  listen?: string;
  /** The host name in url() (default 127.0.0.1; `localhost` for TLS, which the certificate names too). */
  hostname?: string;
}

export function requireRegistry(what: string): void {
  requireCommands(what, [
    ['docker-registry', 'docker-registry'],
    ['openssl', 'openssl'],
    ['htpasswd', 'apache2-utils'],
  ]);
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

async function selfSigned(
  dir: string,
  name: string,
  cn: string,
  san: string,
): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  await runOk([
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    `subjectAltName=${san}`,
  ]);
  return { key, cert };
}

/** The token service of the Bearer flow: GET /token?service=…&scope=… with Basic credentials. */
async function tokenService(
  dir: string,
  o: NonNullable<RegistryOptions['token']>,
  seen: Registry['tokenRequests'],
): Promise<{ realm: string; certFile: string; close(): Promise<void> }> {
  const { key, cert } = await selfSigned(dir, 'token', 'kernelfile test token issuer', 'DNS:token.invalid');
  const der = new X509Certificate(readFileSync(cert)).raw;
  const priv = createPrivateKey(readFileSync(key));
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    const basic = auth?.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : undefined;
    const user = basic?.slice(0, basic.indexOf(':'));
    const scope = u.searchParams.get('scope') ?? '';
    seen.push({ scope, user });
    if (basic !== undefined && basic !== `${o.user}:${o.password}`) {
      res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const m = /^repository:([^:]+):(.+)$/.exec(scope);
    // Anonymous callers get nothing; the user gets what the scope asks.
    const access =
      m && basic !== undefined
        ? [{ type: 'repository', name: m[1], actions: (m[2] as string).split(',') }]
        : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] };
    const claims = {
      iss: 'kernelfile-test-issuer',
      sub: user ?? '',
      aud: 'kernelfile-test',
      exp: now + (o.expiresIn ?? 300),
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(priv);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: o.expiresIn ?? 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certFile: cert,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export async function startRegistry(o: RegistryOptions = {}): Promise<Registry> {
  requireRegistry('the store tests');
  const dir = mkdtempSync(join(tmpdir(), 'kf-registry-'));
  const storage = join(dir, 'storage');
  const port = await freePort();
  const listen = o.listen ?? '127.0.0.1';
  const hostname = o.hostname ?? (o.tls ? 'localhost' : '127.0.0.1');
  const tokenRequests: Registry['tokenRequests'] = [];
  const lines: string[] = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: json',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${listen}:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  let caFile: string | undefined;
  if (o.tls) {
    const { key, cert } = await selfSigned(dir, 'registry', 'localhost', 'DNS:localhost,IP:127.0.0.1');
    caFile = cert;
    lines.push('  tls:', `    certificate: ${cert}`, `    key: ${key}`);
  }
  let token: Awaited<ReturnType<typeof tokenService>> | undefined;
  if (o.basic) {
    const file = join(dir, 'htpasswd');
    await runOk(['htpasswd', '-Bbc', file, o.basic.user, o.basic.password]);
    lines.push('auth:', '  htpasswd:', '    realm: kernelfile-test', `    path: ${file}`);
  } else if (o.token) {
    token = await tokenService(dir, o.token, tokenRequests);
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${token.realm}`,
      '    service: kernelfile-test',
      '    issuer: kernelfile-test-issuer',
      `    rootcertbundle: ${token.certFile}`,
    );
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  const log: Buffer[] = [];
  const child: ChildProcess = spawn('docker-registry', ['serve', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => log.push(b));
  child.stderr?.on('data', (b: Buffer) => log.push(b));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const probe = listen === '0.0.0.0' ? '127.0.0.1' : listen;
  for (let i = 0; !(await portOpen(port, 500, probe)); i++) {
    if (i > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${Buffer.concat(log).toString().slice(-2000)}`);
    }
    await sleep(100);
  }
  const authority = `${hostname}:${port}`;
  return {
    authority,
    port,
    storage,
    ...(caFile ? { caFile } : {}),
    url: (repository = 'kernels') => `${o.tls ? 'oci' : 'oci+http'}://${authority}/${repository}`,
    tokenRequests,
    requests() {
      const out: RegistryRequest[] = [];
      for (const line of Buffer.concat(log).toString().split('\n')) {
        if (!line.startsWith('{')) continue;
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(line);
        } catch {
          continue;
        }
        if (e.msg !== 'response completed' || typeof e['http.request.uri'] !== 'string') continue;
        out.push({
          method: String(e['http.request.method']),
          uri: e['http.request.uri'] as string,
          status: Number(e['http.response.status']),
          remote: String(e['http.request.remoteaddr'] ?? '').replace(/:\d+$/, ''),
          bytes: Number(e['http.response.written'] ?? 0),
        });
      }
      return out;
    },
    async stop() {
      child.kill('SIGKILL');
      await exited;
      await token?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
