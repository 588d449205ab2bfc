/**
 * `root:DIR` is an image, not the controller (issue 12, defect 8). The image's /usr/bin/sh is
 * replaced by a hostile one that, before doing its job, tries to write into the controller's /tmp
 * (directly, through /proc/1/root, and by leaving the chroot with a second chroot), to reach a
 * listener on the controller's 127.0.0.1, and to make a device node. `kernelfile facts --host
 * root:DIR` must let none of it through, and must not report the controller's hostname, command
 * line or running kernel as the image's; its Kconfig is that of the kernel kernelfile installed.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname, release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { ChrootTransport } from '../../src/host/chroot.js';
import { fakeIo } from '../helpers/io.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { copyRoot, ensureDebianRoot } from '../helpers/rootfs.js';

const tag = `kf-image-${process.pid}-${randomBytes(4).toString('hex')}`;
/** Paths on the controller the hostile image tries to create. */
const markers = [`/tmp/${tag}-direct`, `/tmp/${tag}-proc`, `/tmp/${tag}-escape`];
const RELEASE = '6.1.0-kf0123abcd';

let root: { dir: string; cleanup(): Promise<void> };
let server: Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  root = await copyRoot(await ensureDebianRoot());
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  const sh = `${root.dir}/usr/bin/sh`;
  unlinkSync(sh);
  writeFileSync(
    sh,
    `#!/usr/bin/dash
{
  echo ran >> /tmp/${tag}-report
  echo pwned > ${markers[0]}
  echo pwned > /proc/1/root${markers[1]}
  perl -e 'mkdir "/kf-esc"; chroot "/kf-esc" or die; chdir ".." for 1..64; chroot "." or die; open(my $f, ">", "${markers[2]}") or die; print $f "pwned"' \\
    && echo chroot-escaped >> /tmp/${tag}-report || echo chroot-refused >> /tmp/${tag}-report
  bash -c 'echo hi > /dev/tcp/127.0.0.1/${port}' && echo connected >> /tmp/${tag}-report || echo no-connection >> /tmp/${tag}-report
  mknod /tmp/${tag}-dev b 8 0 && echo mknod-ok >> /tmp/${tag}-report || echo mknod-refused >> /tmp/${tag}-report
  hostname >> /tmp/${tag}-report
} </dev/null >/dev/null 2>&1
exec /usr/bin/dash "$@"
`,
  );
  chmodSync(sh, 0o755);
  writeFileSync(`${root.dir}/etc/hostname`, 'builder-image\n');
  // A kernel kernelfile installed in the image: its receipt and its config.
  mkdirSync(`${root.dir}/var/lib/kernelfile`, { recursive: true });
  writeFileSync(`${root.dir}/var/lib/kernelfile/${RELEASE}.json`, '{}\n');
  writeFileSync(`${root.dir}/boot/config-${RELEASE}`, 'CONFIG_64BIT=y\nCONFIG_KF_IMAGE_BUILD=y\n');
}, 300_000);

afterAll(async () => {
  for (const m of markers) rmSync(m, { force: true });
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await root?.cleanup();
});

async function facts() {
  const io = fakeIo(root.dir, { env: { HOME: root.dir } });
  const code = await main(['node', 'kernelfile', 'facts', '--host', `root:${root.dir}`, '--json'], io);
  return { code, out: io.stdout, err: io.stderr };
}

describe('kernelfile facts --host root:DIR with a hostile /usr/bin/sh', () => {
  let r: Awaited<ReturnType<typeof facts>>;
  let report: string;
  beforeAll(async () => {
    r = await facts();
    report = readFileSync(`${root.dir}/tmp/${tag}-report`, 'utf8');
  }, 120_000);

  it('ran the image sh (the test means something), inside the image', () => {
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(report).toMatch(/^ran$/m);
    // What it wrote to /tmp went to the image's /tmp.
    expect(readFileSync(`${root.dir}${markers[0]}`, 'utf8')).toBe('pwned\n');
  });

  it('wrote nothing on the controller: not directly, not through /proc/1/root, not by leaving the chroot', () => {
    for (const m of markers) expect(existsSync(m), m).toBe(false);
    expect(report).toMatch(/^chroot-refused$/m);
  });

  it('reached nothing on the controller network, made no device node', () => {
    expect(connections).toBe(0);
    expect(report).toMatch(/^no-connection$/m);
    expect(report).toMatch(/^mknod-refused$/m);
    expect(existsSync(`${root.dir}/tmp/${tag}-dev`)).toBe(false);
  });

  it('saw its own hostname, not the controller’s', () => {
    expect(report).not.toContain(hostname());
    expect(report).toMatch(/^kernelfile-image$/m);
  });

  it('reports no running kernel, no command line, and the image’s hostname', () => {
    const f = jsonOutput(r.out, 'facts');
    expect(f.system).toMatchObject({
      running: null,
      kernelVersion: null,
      cmdline: null,
      hostname: 'builder-image',
    });
    expect(r.out).not.toContain(release());
    expect(r.out).not.toContain(`"${hostname()}"`);
    const cmdline = existsSync('/proc/cmdline') ? readFileSync('/proc/cmdline', 'utf8').trim() : '';
    if (cmdline) expect(r.out).not.toContain(JSON.stringify(cmdline).slice(1, -1));
  });

  it('its Kconfig is that of the kernel kernelfile installed in the image', () => {
    const f = jsonOutput(r.out, 'facts');
    expect(f.config.source).toBe(`/boot/config-${RELEASE}`);
    expect(f.config.options).toEqual({ CONFIG_64BIT: 'y', CONFIG_KF_IMAGE_BUILD: 'y' });
    // The installed build's config is that same file: read once, listed for the plan to compare with.
    expect(f.config.installed).toEqual([
      {
        release: RELEASE,
        path: `/boot/config-${RELEASE}`,
        options: { CONFIG_64BIT: 'y', CONFIG_KF_IMAGE_BUILD: 'y' },
        error: null,
      },
    ]);
  });
});

describe('the image transport', () => {
  it('leaves nothing running: a background process dies with the command', async () => {
    const t = new ChrootTransport(root.dir);
    // A duration no other process on the machine is likely to sleep for: pgrep matches machine-wide.
    const secs = 30_000 + Math.floor(Math.random() * 9_000);
    const r = await t.run(['sh', '-c', `(sleep ${secs} &) ; echo started`]);
    expect(r.stdout).toBe('started\n');
    const left = execFileSync('sh', ['-c', `pgrep -f "^sleep ${secs}$" || true`], { encoding: 'utf8' });
    expect(left.trim()).toBe('');
  });
});
