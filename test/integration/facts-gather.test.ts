/**
 * gather(): one round trip over the transport. The fake transport runs what it is given with the
 * local sh, so the facts are real (split from test/unit/facts/gather.test.ts: it starts sh).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunningConfigs } from '../../src/engine/running-configs.js';
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

describe('gather with the running configs kept (src/engine/running-configs.ts)', () => {
  /** The local machine as a host: every run is a real process, argv as given, stdin piped. */
  function localHost() {
    const calls: { argv: readonly string[]; stdout: string }[] = [];
    const { t } = gatherTransport(() => ({ code: 0, stdout: '', stderr: '' }));
    t.run = async (argv, opts) => {
      const r = spawnSync(argv[0] as string, argv.slice(1), {
        input: String(opts?.stdin ?? ''),
        encoding: 'utf8',
      });
      calls.push({ argv, stdout: r.stdout });
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    };
    return { t, calls };
  }
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const hasProcConfig = existsSync('/proc/config.gz');
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const cacheDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'kf-running-configs-'));
    dirs.push(d);
    return d;
  };

  it.skipIf(!hasProcConfig)(
    'sends /proc/config.gz once per boot: the next gather gets the kept text',
    async () => {
      const dir = cacheDir();
      const { t, calls } = localHost();
      const first = await gather(t, { runningConfigs: new RunningConfigs({}, dir) });
      expect(first.config.source).toBe('/proc/config.gz');
      expect(String(calls[0]?.stdout)).toContain('CONFIG_');
      // A new process (a new RunningConfigs): what it knows comes from the files.
      const second = await gather(t, { runningConfigs: new RunningConfigs({}, dir) });
      expect(calls).toHaveLength(2);
      expect(String(calls[1]?.argv)).toBe('sh,-s');
      expect(calls[1]?.stdout).toContain(` config proc-kept\n${bootId}\n`);
      expect(calls[1]?.stdout).not.toMatch(/^CONFIG_/m);
      expect(second.config).toEqual(first.config);
      expect(second.digest).toBe(first.digest);
    },
  );

  it.skipIf(!hasProcConfig)('a kept text that is gone or damaged is fetched again, never used', async () => {
    const dir = cacheDir();
    const { t, calls } = localHost();
    const first = await gather(t, { runningConfigs: new RunningConfigs({}, dir) });
    const [text] = readdirSync(dir).filter((f) => f.endsWith('.config'));
    writeFileSync(join(dir, text as string), 'CONFIG_FORGED=y\n');
    const damaged = await gather(t, { runningConfigs: new RunningConfigs({}, dir) });
    expect(calls.map((c) => c.argv.join(' ')).slice(1)).toEqual([
      'sh -s',
      'sh -c gzip -dc /proc/config.gz || zcat /proc/config.gz',
    ]);
    expect(damaged.config).toEqual(first.config);
    rmSync(join(dir, text as string));
    const gone = await gather(t, { runningConfigs: new RunningConfigs({}, dir) });
    expect(calls).toHaveLength(5);
    expect(gone.config).toEqual(first.config);
  });

  it.skipIf(!hasProcConfig)('another boot id (the host rebooted) gets the config sent in full', async () => {
    const dir = cacheDir();
    const { t, calls } = localHost();
    const cache = new RunningConfigs({}, dir);
    const first = await gather(t, { runningConfigs: cache });
    cache.remember(t.name, '00000000-0000-4000-8000-000000000000', 'CONFIG_OTHER_BOOT=y\n');
    const again = await gather(t, { runningConfigs: cache });
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
