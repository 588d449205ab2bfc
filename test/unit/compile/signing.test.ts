import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeBuildId, type Prepared } from '../../../src/compile/build.js';
import { generatedFragment, type ResolvedConfig, requestedValues } from '../../../src/compile/config.js';
import { compileArgs } from '../../../src/compile/make.js';
import {
  type BuildSigning,
  buildSigning,
  checkSignedArtifacts,
  imageSigningProblem,
  isSigned,
  moduleSigHash,
  SIG_KEY_PATH,
  SIGNATURE_MAGIC,
  signEnv,
  signingOptions,
  stripSignature,
  withKeyFile,
} from '../../../src/compile/signing.js';
import { signingDiagnostics, signingFactsOf } from '../../../src/engine/prepare.js';
import type { Spec } from '../../../src/spec/schema.js';
import { keyPem, makeCertificate, rsaKey } from '../../helpers/x509.js';

const spec = (signing?: object, set: Record<string, string> = {}) =>
  ({
    apiVersion: 'kernelfile/v1',
    name: 'signed',
    kernel: { version: '6.1.192', localversion: '-s', source: { path: '/usr/src/linux-source-6.1.tar.xz' } },
    config: { set, onDropped: 'error' },
    build: { makeVars: {} },
    ...(signing ? { signing } : {}),
  }) as unknown as Spec;
const SIGNING = { key: 'keys/mok.key', certificate: 'keys/mok.crt', modules: true, dkms: true, image: false };

let dir: string;
let keyText: string;
let certText: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kf-signing-'));
  const key = rsaKey();
  keyText = keyPem(key);
  certText = makeCertificate(key, { cn: 'kernelfile test MOK' });
  mkdirSync(join(dir, 'keys'));
  writeFileSync(join(dir, 'keys/mok.key'), keyText, { mode: 0o600 });
  writeFileSync(join(dir, 'keys/mok.crt'), certText);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const resolve = (w: string) => join(dir, w);

describe('the module signing options', () => {
  it('are added to the generated fragment, before config.set, with the key at a fixed relative path', () => {
    const lines = generatedFragment(spec(SIGNING, { CONFIG_MODULES: 'y' })).split('\n');
    expect(lines.slice(3)).toEqual([
      '# signing.modules: the certificate embedded, every module signed at modules_install',
      'CONFIG_MODULE_SIG=y',
      'CONFIG_MODULE_SIG_ALL=y',
      'CONFIG_MODULE_SIG_SHA256=y',
      `CONFIG_MODULE_SIG_KEY="${SIG_KEY_PATH}"`,
      'CONFIG_MODULES=y',
      '',
    ]);
    expect(SIG_KEY_PATH).not.toMatch(/^\//);
  });

  it('keep a hash the kernelfile chose, and are absent without signing or with signing.modules: false', () => {
    expect(signingOptions(spec(SIGNING), ['CONFIG_MODULE_SIG_SHA512']).map((o) => o.symbol)).toEqual([
      'CONFIG_MODULE_SIG',
      'CONFIG_MODULE_SIG_ALL',
      'CONFIG_MODULE_SIG_KEY',
    ]);
    expect(signingOptions(spec(), [])).toEqual([]);
    expect(signingOptions(spec({ ...SIGNING, modules: false }), [])).toEqual([]);
    expect(generatedFragment(spec())).not.toContain('MODULE_SIG');
  });

  it('are requested like the user’s own values, from where signing is written, so a drop is explained there', () => {
    const req = requestedValues({
      tree: { dir: '/t', key: 'k' },
      spec: spec(SIGNING, { CONFIG_MODULES: 'y' }),
      arch: 'x86_64',
      fragments: [{ abs: '/p/f.config', written: 'f.config', text: 'CONFIG_PRINTK=y\n' }],
      setOrigin: (symbol) => ({
        file: 'kernelfile.yaml',
        line: symbol.startsWith('CONFIG_MODULE_SIG') ? 30 : 12,
      }),
      toolchain: 'gcc',
      dirs: {} as never,
    });
    expect(req.map((r) => [r.symbol, r.value, r.origin.line, r.onDropped])).toEqual([
      ['CONFIG_PRINTK', 'y', 1, 'error'],
      ['CONFIG_MODULE_SIG', 'y', 30, 'error'],
      ['CONFIG_MODULE_SIG_ALL', 'y', 30, 'error'],
      ['CONFIG_MODULE_SIG_SHA256', 'y', 30, 'error'],
      ['CONFIG_MODULE_SIG_KEY', `"${SIG_KEY_PATH}"`, 30, 'error'],
      ['CONFIG_MODULES', 'y', 12, 'error'],
    ]);
  });

  it('read the hash sign-file uses from the effective config', () => {
    expect(moduleSigHash({ CONFIG_MODULE_SIG_HASH: '"sha256"' })).toBe('sha256');
    expect(moduleSigHash({})).toBeUndefined();
  });
});

describe('the build id of a signing build', () => {
  const base = {
    arch: 'x86_64',
    source: { kind: 'tarball' as const, file: '/x.tar.xz', sha256: 'a'.repeat(64) },
    patches: [],
    config: { text: 'CONFIG_64BIT=y\n' } as ResolvedConfig,
    toolchain: 'gcc 12',
  };
  const signing = (over: Partial<BuildSigning>) =>
    ({ ...buildSigning(spec(SIGNING), resolve), ...over }) as BuildSigning;

  it('covers the certificate and what is signed, not where the key is', () => {
    const s = spec(SIGNING);
    const id = computeBuildId({ ...base, spec: s, signing: signing({}) });
    expect(computeBuildId({ ...base, spec: s, signing: signing({ keyFile: '/elsewhere/mok.key' }) })).toBe(
      id,
    );
    expect(
      computeBuildId({ ...base, spec: s, signing: signing({ certificateSha256: 'f'.repeat(64) }) }),
    ).not.toBe(id);
    expect(computeBuildId({ ...base, spec: s, signing: signing({ image: true }) })).not.toBe(id);
  });

  it('stays what it was for a kernelfile without signing (the id main computed for these inputs, recipe 2)', () => {
    expect(computeBuildId({ ...base, spec: spec() })).toBe(
      '29dd2dbf39db96b7961b7e783e0bb9c82e70707d74a7d2b0a1949a2968b8f9e2',
    );
  });

  it('holds the certificate digest, the facts the planner needs, and no key bytes', () => {
    const s = buildSigning(spec({ ...SIGNING, passphraseEnv: 'PIN' }), resolve, { PIN: 'sesame' });
    expect(s?.facts.subject).toBe('kernelfile test MOK');
    expect(signingFactsOf({ signing: s as BuildSigning })).toEqual({
      certificateDerBase64: expect.stringMatching(/^MII/),
      sha1: expect.stringMatching(/^[0-9a-f]{40}$/),
      subject: 'kernelfile test MOK',
      enroll: true,
      modules: true,
      dkms: true,
      image: false,
    });
    expect(signingFactsOf({})).toBeUndefined();
    expect(s?.certificateSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(signEnv(s as BuildSigning)).toEqual({ KBUILD_SIGN_PIN: 'sesame' });
    const serialised = JSON.stringify(s);
    expect(serialised).not.toContain('sesame');
    expect(serialised).not.toContain(keyText.split('\n')[2]);
  });

  it('passes the passphrase to make in the environment, not on its command line', () => {
    const { args, env } = compileArgs({
      spec: spec(SIGNING),
      arch: 'x86_64',
      buildId: 'f'.repeat(64),
      env: { KBUILD_SIGN_PIN: 'sesame' },
    });
    expect(env.KBUILD_SIGN_PIN).toBe('sesame');
    expect(args.join(' ')).not.toContain('sesame');
  });
});

describe('the key in the object tree', () => {
  it('is there (0600, key then certificate) while the function runs, and gone afterwards, also after a failure', async () => {
    const s = buildSigning(spec(SIGNING), resolve) as BuildSigning;
    const objtree = join(dir, 'obj');
    mkdirSync(join(objtree, 'certs'), { recursive: true });
    const path = join(objtree, SIG_KEY_PATH);
    const seen = await withKeyFile(s, objtree, async () => {
      const text = readFileSync(path, 'utf8');
      return {
        mode: statSync(path).mode & 0o777,
        key: text.indexOf('PRIVATE KEY'),
        cert: text.indexOf('CERTIFICATE'),
      };
    });
    expect(seen.mode).toBe(0o600);
    expect(seen.key).toBeGreaterThan(0);
    expect(seen.cert).toBeGreaterThan(seen.key);
    expect(existsSync(path)).toBe(false);
    await expect(
      withKeyFile(s, objtree, async () => {
        throw new Error('make failed');
      }),
    ).rejects.toThrow('make failed');
    expect(existsSync(path)).toBe(false);
  });
});

describe('module signatures', () => {
  const signed = (body: string, sig = 256) => {
    const info = Buffer.alloc(12);
    info.writeUInt32BE(sig, 8);
    return Buffer.concat([Buffer.from(body), Buffer.alloc(sig, 7), info, SIGNATURE_MAGIC]);
  };

  it('are recognised by their trailer and stripped to the module as it was', () => {
    const ko = signed('\x7fELF module bytes');
    expect(isSigned(ko)).toBe(true);
    expect(stripSignature(ko).toString()).toBe('\x7fELF module bytes');
    expect(isSigned(stripSignature(ko))).toBe(false);
    expect(stripSignature(Buffer.from('plain'))).toEqual(Buffer.from('plain'));
  });

  it('are required of every in-tree module, and the key must be in no artifact', () => {
    const s = buildSigning(spec(SIGNING), resolve) as BuildSigning;
    const art = join(dir, 'art');
    const mods = join(art, 'modules/lib/modules/6.1.192-s/kernel/lib');
    mkdirSync(mods, { recursive: true });
    writeFileSync(join(mods, 'crc7.ko'), signed('crc7'));
    writeFileSync(join(art, 'config'), `CONFIG_MODULE_SIG_KEY="${SIG_KEY_PATH}"\n`);
    expect(checkSignedArtifacts(s, art, '6.1.192-s')).toEqual({ modules: 1 });
    writeFileSync(join(mods, 'crc8.ko'), 'crc8 unsigned');
    expect(() => checkSignedArtifacts(s, art, '6.1.192-s')).toThrow(
      '1 of 2 in-tree module(s) carry no signature after modules_install, e.g. kernel/lib/crc8.ko',
    );
    rmSync(join(mods, 'crc8.ko'));
    mkdirSync(join(art, 'headers/certs'), { recursive: true });
    writeFileSync(join(art, 'headers/certs/leak.pem'), keyText);
    expect(() => checkSignedArtifacts(s, art, '6.1.192-s')).toThrow(
      'the private key was found in 1 artifact file(s), e.g. headers/certs/leak.pem',
    );
    const der = Buffer.from(keyText.split('\n').slice(1, -2).join(''), 'base64');
    writeFileSync(join(art, 'headers/certs/leak.pem'), Buffer.concat([Buffer.alloc(5000), der]));
    expect(() => checkSignedArtifacts(s, art, '6.1.192-s')).toThrow('private key was found');
    rmSync(join(art, 'headers/certs/leak.pem'));
    // The certificate (the public modulus, as the kernel and an Authenticode signature embed it) is no leak.
    const certDer = Buffer.from(certText.split('\n').slice(1, -2).join(''), 'base64');
    writeFileSync(join(art, 'vmlinuz'), Buffer.concat([Buffer.alloc(3000), certDer, Buffer.from(certText)]));
    writeFileSync(join(art, 'headers/certs/cert.pem'), certText);
    expect(checkSignedArtifacts(s, art, '6.1.192-s')).toEqual({ modules: 1 });
  });
});

describe('signing.image', () => {
  it('needs the EFI stub, and says what to request', () => {
    const s = buildSigning(spec({ ...SIGNING, image: true }), resolve, {}, () => ({
      file: 'kernelfile.yaml',
      line: 44,
      column: 3,
    })) as BuildSigning;
    expect(imageSigningProblem(s, { CONFIG_EFI_STUB: 'y' })).toBeUndefined();
    expect(imageSigningProblem({ ...s, image: false }, {})).toBeUndefined();
    expect(imageSigningProblem(undefined, {})).toBeUndefined();
    expect(imageSigningProblem(s, {})).toEqual({
      message:
        'signing.image: the kernel has no EFI stub (CONFIG_EFI_STUB is not set, CONFIG_EFI not set), so there is no PE image for sbsign to sign',
      hint: 'request CONFIG_EFI=y and CONFIG_EFI_STUB=y (on x86 they need CONFIG_ACPI=y), or set signing.image: false',
    });
    const p = { signing: s, config: { effective: {} } } as unknown as Prepared;
    expect(signingDiagnostics(p)).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: 'signing-image-no-efi-stub',
        file: 'kernelfile.yaml',
        line: 44,
        column: 3,
      }),
    ]);
  });
});
