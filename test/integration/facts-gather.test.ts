/**
 * gather(): one round trip over the transport. The fake transport runs what it is given with the
 * local sh, so the facts are real (split from test/unit/facts/gather.test.ts: it starts sh).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeptPerBoot } from '../../src/engine/kept-per-boot.js';
import { factsScript, gather } from '../../src/facts/gather.js';
import type { RunResult } from '../../src/host/transport.js';
import { gatherTransport } from '../helpers/gather-transport.js';
import { runSh } from '../helpers/sh.js';

function fakeTransport(respond?: (stdin: string) => RunResult) {
  return gatherTransport(respond ?? runSh);
}

describe('gather', () => {
  it('makes exactly one run call: sh -s with the whole script on stdin', async () => {
    const { t, calls } = fakeTransport();
    const facts = await gather(t);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.argv).toEqual(['sh', '-s']);
    const stdin = String(calls[0]?.opts?.stdin);
    for (const family of [
      'system',
      'kernels',
      'config',
      'dkms',
      'initramfs',
      'boot',
      'space',
      'receipts',
      'tools',
      'libs',
    ])
      expect(stdin).toContain(`kf__fam=${family}\n`);
    expect(calls[0]?.opts?.sudo).toBeUndefined();
    expect(facts.host).toBe('ssh://root@web-1:22');
    expect(facts.system.arch).toBeTruthy();
    expect(JSON.parse(JSON.stringify(facts))).toEqual(facts);
  });

  it('uses a fresh nonce each time and passes sudo through', async () => {
    const { t, calls } = fakeTransport();
    await gather(t, { sudo: true });
    await gather(t);
    const nonce = (i: number) => String(calls[i]?.opts?.stdin).match(/kf__nonce='(\w+)'/)?.[1];
    expect(nonce(0)).toMatch(/^kf[0-9a-f]{24}$/);
    expect(nonce(0)).not.toBe(nonce(1));
    expect(calls[0]?.opts?.sudo).toBe(true);
  });
});

/** The local machine as a host: every run is a real process, argv as given, stdin piped. */
function localHost() {
  const calls: { argv: readonly string[]; stdin: string; stdout: string }[] = [];
  const { t } = gatherTransport(() => ({ code: 0, stdout: '', stderr: '' }));
  t.run = async (argv, opts) => {
    const stdin = String(opts?.stdin ?? '');
    const r = spawnSync(argv[0] as string, argv.slice(1), { input: stdin, encoding: 'utf8' });
    calls.push({ argv, stdin, stdout: r.stdout });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  return { t, calls };
}
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
/** A controller cache directory of its own. */
const cacheDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kf-kept-per-boot-'));
  dirs.push(d);
  return d;
};

/** A first gather of the local machine with a cache of its own: what it kept, and how. */
async function gatheredOnce() {
  const dir = cacheDir();
  const { t, calls } = localHost();
  const first = await gather(t, { kept: new KeptPerBoot({}, dir) });
  return { dir, t, calls, first };
}

describe('gather with the running configs kept (src/engine/kept-per-boot.ts)', () => {
  const hasProcConfig = existsSync('/proc/config.gz');

  it.skipIf(!hasProcConfig)(
    'sends /proc/config.gz once per boot: the next gather gets the kept text',
    async () => {
      const { dir, t, calls, first } = await gatheredOnce();
      expect(first.config.source).toBe('/proc/config.gz');
      expect(String(calls[0]?.stdout)).toContain('CONFIG_');
      // A new process (a new RunningConfigs): what it knows comes from the files.
      const second = await gather(t, { kept: new KeptPerBoot({}, dir) });
      expect(calls).toHaveLength(2);
      expect(String(calls[1]?.argv)).toBe('sh,-s');
      expect(calls[1]?.stdout).toContain(` config proc-kept\n${bootId}\n`);
      expect(calls[1]?.stdout).not.toMatch(/^CONFIG_/m);
      expect(second.config).toEqual(first.config);
      expect(second.digest).toBe(first.digest);
    },
  );

  it.skipIf(!hasProcConfig)('a kept text that is gone or damaged is fetched again, never used', async () => {
    const { dir, t, calls, first } = await gatheredOnce();
    const [text] = readdirSync(dir).filter((f) => f.endsWith('.config'));
    writeFileSync(join(dir, text as string), 'CONFIG_FORGED=y\n');
    const damaged = await gather(t, { kept: new KeptPerBoot({}, dir) });
    expect(calls.map((c) => c.argv.join(' ')).slice(1)).toEqual([
      'sh -s',
      'sh -c gzip -dc /proc/config.gz || zcat /proc/config.gz',
    ]);
    expect(damaged.config).toEqual(first.config);
    rmSync(join(dir, text as string));
    const gone = await gather(t, { kept: new KeptPerBoot({}, dir) });
    expect(calls).toHaveLength(5);
    expect(gone.config).toEqual(first.config);
  });

  it.skipIf(!hasProcConfig)('another boot id (the host rebooted) gets the config sent in full', async () => {
    const dir = cacheDir();
    const { t, calls } = localHost();
    const cache = new KeptPerBoot({}, dir);
    const first = await gather(t, { kept: cache });
    cache.remember(t.name, '00000000-0000-4000-8000-000000000000', 'CONFIG_OTHER_BOOT=y\n');
    const again = await gather(t, { kept: cache });
    expect(String(calls[1]?.stdout)).toMatch(/^CONFIG_/m);
    expect(calls[1]?.stdout).not.toContain('proc-kept');
    expect(again.config).toEqual(first.config);
    expect(cache.bootOf(t.name)).toBe(bootId);
  });

  it('puts only a boot id into the script', () => {
    expect(factsScript('kfNONCE12345', { knownBoot: bootId })).toContain(`kf_kboot='${bootId}'\n`);
    expect(factsScript('kfNONCE12345', { knownBoot: "x'; reboot; '" })).not.toMatch(/^kf_kboot=/m);
  });
});

describe("gather with grub-probe's answer kept per boot (src/engine/kept-per-boot.ts)", () => {
  const probeTool = ['/usr/sbin/grub-probe', '/usr/bin/grub-probe', '/usr/sbin/grub2-probe'].find((p) =>
    existsSync(p),
  );
  const section = (out: string, key: string) => new RegExp(` boot ${key}\\n`).test(out);

  it.skipIf(!probeTool)('runs grub-probe once per boot: the next gather gets the kept answer', async () => {
    const { dir, t, calls, first } = await gatheredOnce();
    expect(section(calls[0]?.stdout ?? '', 'probe#rc')).toBe(true);
    expect(calls[0]?.stdin).not.toMatch(/^kf_kprobe=/m);
    // A new process: what it knows comes from the files.
    const second = await gather(t, { kept: new KeptPerBoot({}, dir) });
    expect(calls[1]?.stdin).toMatch(/^kf_kprobe='\/[^']+'$/m);
    expect(calls[1]?.stdin).toContain(`kf_kpboot='${bootId}'\n`);
    expect(calls[1]?.stdout).toContain(` boot probe-kept\n${bootId}\n`);
    expect(section(calls[1]?.stdout ?? '', 'probe#rc')).toBe(false);
    expect(second.boot).toEqual(first.boot);
    expect(second.digest).toBe(first.digest);
  });

  it.skipIf(!probeTool)(
    'asks again when the tool, the boot or the user is not the one of the kept answer',
    async () => {
      const { dir, t, calls, first } = await gatheredOnce();
      const uid = String(process.getuid?.() ?? 0);
      const forged = { tool: '/opt/elsewhere/grub-probe', uid, out: '/dev/forged\n', rc: '0' };
      new KeptPerBoot({}, dir).rememberProbe(t.name, bootId, forged);
      const otherTool = await gather(t, { kept: new KeptPerBoot({}, dir) });
      expect(calls[1]?.stdin).toContain("kf_kprobe='/opt/elsewhere/grub-probe'\n");
      expect(section(calls[1]?.stdout ?? '', 'probe#rc')).toBe(true);
      expect(otherTool.boot).toEqual(first.boot);
      const cache = new KeptPerBoot({}, dir);
      cache.rememberProbe(t.name, '00000000-0000-4000-8000-000000000000', {
        ...forged,
        tool: probeTool as string,
      });
      const otherBoot = await gather(t, { kept: cache });
      expect(calls[2]?.stdin).toContain("kf_kpboot='00000000-0000-4000-8000-000000000000'\n");
      expect(section(calls[2]?.stdout ?? '', 'probe#rc')).toBe(true);
      expect(otherBoot.boot).toEqual(first.boot);
      // Kept again for this boot, by the tool that answered.
      expect(cache.probeOf(t.name)?.bootId).toBe(bootId);
      expect(cache.probeOf(t.name)?.probe.tool).toBe(probeTool);
      // Kept as another user (gathered with --sudo, or as another ssh user): asked again as this one.
      cache.rememberProbe(t.name, bootId, { ...forged, tool: probeTool as string, uid: `${uid}1` });
      const otherUser = await gather(t, { kept: cache });
      expect(calls[3]?.stdin).toContain(`kf_kpuid='${uid}1'\n`);
      expect(section(calls[3]?.stdout ?? '', 'probe#rc')).toBe(true);
      expect(otherUser.boot).toEqual(first.boot);
      expect(cache.probeOf(t.name)?.probe.uid).toBe(uid);
    },
  );

  it('keeping the text it gave back changes nothing; another text in the same boot replaces it', () => {
    const dir = cacheDir();
    const cache = new KeptPerBoot({}, dir);
    cache.remember('web-1', bootId, 'CONFIG_A=y\n');
    const [file] = readdirSync(join(dir, 'hosts'));
    const path = join(dir, 'hosts', file as string);
    const before = readFileSync(path, 'utf8');
    rmSync(path); // written again only if the entry changes
    const text = cache.textOf('web-1', bootId) as string;
    expect(text).toBe('CONFIG_A=y\n');
    cache.remember('web-1', bootId, text);
    expect(existsSync(path)).toBe(false);
    cache.remember('web-1', bootId, 'CONFIG_B=y\n');
    expect(readFileSync(path, 'utf8')).not.toBe(before);
    expect(new KeptPerBoot({}, dir).textOf('web-1', bootId)).toBe('CONFIG_B=y\n');
  });

  it('reads a damaged entry as none, and puts only a boot id, a safe absolute path and a uid into the script', () => {
    const dir = cacheDir();
    const cache = new KeptPerBoot({}, dir);
    const good = { tool: '/usr/sbin/grub-probe', uid: '0', out: '/dev/vda1\n', rc: '0' };
    for (const bad of [
      { tool: "/x'; reboot; '" },
      { uid: '0; reboot' },
      { rc: '0; reboot' },
      { tool: 'grub-probe' },
    ]) {
      cache.rememberProbe('web-1', bootId, { ...good, ...bad });
      expect(cache.probeOf('web-1')).toBeUndefined();
    }
    cache.rememberProbe('web-1', bootId, good);
    const [file] = readdirSync(join(dir, 'hosts'));
    const path = join(dir, 'hosts', file as string);
    const entry = JSON.parse(readFileSync(path, 'utf8'));
    expect(entry.probe).toEqual(good);
    writeFileSync(path, JSON.stringify({ ...entry, probe: { ...entry.probe, tool: 'grub-probe; reboot' } }));
    expect(new KeptPerBoot({}, dir).probeOf('web-1')).toBeUndefined();
    writeFileSync(path, JSON.stringify({ ...entry, probe: { ...entry.probe, rc: '0; reboot' } }));
    expect(new KeptPerBoot({}, dir).probeOf('web-1')).toBeUndefined();
    expect(new KeptPerBoot({}, dir).bootOf('web-1')).toBeUndefined();
    const script = (tool: string, id = bootId, uid = '0') =>
      factsScript('kfNONCE12345', { keptProbe: { bootId: id, tool, uid } });
    expect(script('/usr/sbin/grub-probe')).toContain("kf_kprobe='/usr/sbin/grub-probe'\n");
    expect(script("/usr/sbin/grub-probe'; reboot; '")).not.toMatch(/^kf_kp/m);
    expect(script('grub-probe')).not.toMatch(/^kf_kp/m);
    expect(script('/usr/sbin/grub-probe', 'not-a-boot-id')).not.toMatch(/^kf_kp/m);
    expect(script('/usr/sbin/grub-probe', bootId, "0'; reboot; '")).not.toMatch(/^kf_kp/m);
  });
});
