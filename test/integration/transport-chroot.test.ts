/** The root-filesystem transport against a real Debian bookworm root (copied per test file). */
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChrootTransport } from '../../src/host/chroot.js';
import { copyRoot, ensureDebianRoot } from '../helpers/rootfs.js';
import { transportContract } from './contract.js';

/** Mount points under `dir` in this process's mount namespace (what must never be left behind). */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

transportContract('root filesystem (chroot)', async () => {
  const root = await copyRoot(await ensureDebianRoot());
  const t = new ChrootTransport(root.dir);
  await t.run(['mkdir', '-p', '/tmp/kf-scratch']);
  return { t, scratch: '/tmp/kf-scratch', sudoBecomesRoot: true, stop: () => root.cleanup() };
});

describe('root filesystem transport', () => {
  let root: { dir: string; cleanup(): Promise<void> };
  let t: ChrootTransport;
  beforeAll(async () => {
    root = await copyRoot(await ensureDebianRoot());
    t = new ChrootTransport(root.dir);
  }, 300_000);
  afterAll(() => root?.cleanup());

  it('runs inside the root, with /proc, /sys and /dev mounted for the command', async () => {
    const r = await t.run([
      'sh',
      '-c',
      '. /etc/os-release; echo $VERSION_ID; test -r /proc/self/status && test -d /sys/kernel && test -c /dev/null && echo mounted',
    ]);
    expect(r.stdout).toBe('12\nmounted\n');
  });

  it('leaves no mount behind: after success, failure, a timeout', async () => {
    await t.run(['true']);
    await t.run(['false']);
    await t.run(['sleep', '5'], { timeoutMs: 200 });
    expect(mountsUnder(root.dir)).toEqual([]);
  });

  it('resolves symlinks inside the root, never into this machine', async () => {
    writeFileSync(`${root.dir}/etc/kf-marker`, 'inside the image\n');
    symlinkSync('/etc/kf-marker', `${root.dir}/tmp/kf-link`);
    expect((await t.get('/tmp/kf-link')).toString()).toBe('inside the image\n');
    await t.write('/tmp/kf-link', 'rewritten\n');
    expect(readFileSync(`${root.dir}/etc/kf-marker`, 'utf8')).toBe('inside the image\n');
    expect(readFileSync(`${root.dir}/tmp/kf-link`, 'utf8')).toBe('rewritten\n');
  });

  it('refuses a directory that does not exist, naming it', () => {
    expect(() => new ChrootTransport('/nonexistent/rootfs')).toThrow(
      /root:\/nonexistent\/rootfs: \/nonexistent\/rootfs is not a directory/,
    );
  });
});
