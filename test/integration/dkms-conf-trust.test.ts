/**
 * Issue 12, defect 1: a dkms.conf is data of where it comes from. A host's (an `installed: true`
 * module's) is evaluated on the host through its transport and never runs on the controller; a
 * repository module's runs on the controller in a sandbox: no network, no home, a private /tmp,
 * nothing left running afterwards.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateDkmsConf } from '../../src/dkms/conf.js';
import { DkmsPreflight } from '../../src/dkms/preflight.js';
import { gather } from '../../src/facts/gather.js';
import type { Transport } from '../../src/host/transport.js';
import type { Spec } from '../../src/spec/schema.js';
import { openRoot, type SshHost, startSshHost } from '../helpers/sshd.js';

const CONFIG = 'CONFIG_MODULES=y\nCONFIG_NET=y\n';
const tag = randomBytes(4).toString('hex');
const sleepSeconds = 7000 + (Number.parseInt(tag.slice(0, 4), 16) % 1000);

/** Processes of THIS pid namespace (the controller's) whose command line contains `needle`. */
function controllerProcesses(needle: string): string[] {
  const ours = readlinkSync('/proc/self/ns/pid');
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (cmd.includes(needle) && readlinkSync(`/proc/${pid}/ns/pid`) === ours) found.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

const hostile = (extra: string) => `PACKAGE_NAME="evil"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="evil"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"
${extra}
`;

describe('a repository dkms.conf runs in a sandbox on the controller', () => {
  let dir: string;
  let server: Server;
  let port = 0;
  let connections = 0;
  let homeDir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kf-dkms-trust-'));
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    // A home any user could write into, as a user's home (under /home) often is to its owner.
    homeDir = `/home/kf-t12-${tag}`;
    mkdirSync(homeDir, { recursive: true, mode: 0o777 });
    rmSync(join(homeDir, 'marker'), { force: true });
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
    rmSync(homeDir, { recursive: true, force: true });
  });

  const run = (extra: string) =>
    evaluateDkmsConf({
      conf: hostile(extra),
      confFile: 'modules/evil/dkms.conf',
      kernelver: '6.1.0-kf1',
      arch: 'x86_64',
      configText: CONFIG,
      timeoutMs: 5000,
    });

  it('cannot reach the network (not even the controller on 127.0.0.1)', async () => {
    const r = await run(
      `BUILT_MODULE_NAME[1]="net-$( (exec 3<>/dev/tcp/127.0.0.1/${port} && echo leak >&3) 2>/dev/null && echo yes || echo no)"
DEST_MODULE_LOCATION[1]="/extra"`,
    );
    expect(r.error).toBeNull();
    expect(r.vars?.builtModules).toEqual(['evil', 'net-no']);
    await new Promise((res) => setTimeout(res, 200));
    expect(connections).toBe(0);
  });

  it('cannot write into a home directory or the real /tmp', async () => {
    const tmpMarker = `/tmp/kf-t12-marker-${tag}`;
    const r = await run(`echo x > ${homeDir}/marker 2>/dev/null
echo x > ${tmpMarker} 2>/dev/null
echo x > ~/marker 2>/dev/null`);
    expect(r.error).toBeNull();
    expect(r.vars?.packageName).toBe('evil');
    expect(existsSync(join(homeDir, 'marker'))).toBe(false);
    expect(existsSync(tmpMarker)).toBe(false);
    rmSync(tmpMarker, { force: true });
  });

  it('leaves nothing running, not even a setsid child', async () => {
    const needle = `sleep ${sleepSeconds}`;
    const t0 = Date.now();
    const r = await run(`setsid sleep ${sleepSeconds} </dev/null >/dev/null 2>&1 &
nohup sleep ${sleepSeconds} </dev/null >/dev/null 2>&1 &`);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.error).toBeNull();
    const gone = await eventually(() => controllerProcesses(needle).length === 0, 2000);
    const left = controllerProcesses(needle);
    for (const l of left) process.kill(Number(l.split(' ')[0]), 'SIGKILL');
    expect(gone, left.join('\n')).toBe(true);
  });
});

describe("a host's dkms.conf (installed: true) never runs on the controller", () => {
  let h: SshHost;
  let t: Transport;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kf-dkms-host-'));
    h = await startSshHost();
    t = await openRoot(h, dir);
  }, 300_000);
  afterAll(async () => {
    await t?.close();
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is evaluated on the host: its commands and background children stay there', async () => {
    const marker = `/tmp/kf-t12-host-marker-${tag}`;
    const needle = `sleep ${sleepSeconds + 1}`;
    await h.exec(['mkdir', '-p', '/usr/src/evil-1.0']);
    await h.exec(['sh', '-c', 'cat > /usr/src/evil-1.0/dkms.conf'], {
      stdin: hostile(`touch ${marker}
setsid sleep ${sleepSeconds + 1} </dev/null >/dev/null 2>&1 &
BUILD_EXCLUSIVE_CONFIG="CONFIG_ACPI"
BUILT_MODULE_NAME[1]="ran-on-$(uname -n)"
DEST_MODULE_LOCATION[1]="/extra"`),
    });
    const facts = await gather(t);
    expect(facts.dkms.sources.find((s) => s.name === 'evil')?.conf).toContain('touch');
    const spec = { modules: [{ name: 'evil', version: '1.0', installed: true }] } as unknown as Spec;
    const checks = await new DkmsPreflight().check(
      spec,
      (p) => p,
      facts,
      {
        buildId: `test-${tag}`,
        release: '6.1.0-kf1',
        arch: 'x86_64',
        config: { text: CONFIG } as never,
        dirs: { root: dir },
      },
      t,
    );
    try {
      expect(existsSync(marker)).toBe(false);
      expect(controllerProcesses(needle)).toEqual([]);
      // It did run, on the host: the marker is in the host's /tmp, and it saw the host's hostname.
      expect(existsSync(join(h.root, marker))).toBe(true);
      expect(checks).toEqual([
        {
          name: 'evil',
          version: '1.0',
          confFile: `${t.name}:/usr/src/evil-1.0/dkms.conf`,
          unmet: ['requires CONFIG_ACPI, which is not set'],
          error: null,
          builtModules: ['evil', `ran-on-${h.hostname}`],
        },
      ]);
    } finally {
      rmSync(marker, { force: true });
      for (const l of controllerProcesses(needle)) process.kill(Number(l.split(' ')[0]), 'SIGKILL');
    }
  });

  it('names the Kconfig option that lifts a message exclusion, evaluating the conf again on the host', async () => {
    const marker = `/tmp/kf-lift-marker-${tag}`;
    await h.exec(['mkdir', '-p', '/usr/src/wmi-extra-0.4']);
    await h.exec(['sh', '-c', 'cat > /usr/src/wmi-extra-0.4/dkms.conf'], {
      stdin: `PACKAGE_NAME="wmi-extra"
PACKAGE_VERSION="0.4"
BUILT_MODULE_NAME[0]="wmi_extra"
DEST_MODULE_LOCATION[0]="/updates/dkms"
AUTOINSTALL="yes"
echo "evaluated on $(uname -n)" >> ${marker}
. "\${kernel_source_dir}/.config"
if [ "\${CONFIG_ACPI_WMI}" != y ] && [ "\${CONFIG_ACPI_WMI}" != m ]; then
  BUILD_EXCLUSIVE_KERNEL="needs CONFIG_ACPI_WMI"
fi
`,
    });
    const facts = await gather(t);
    const spec = { modules: [{ name: 'wmi-extra', version: '0.4', installed: true }] } as unknown as Spec;
    try {
      const [c] = await new DkmsPreflight().check(
        spec,
        (p) => p,
        facts,
        {
          buildId: `lift-${tag}`,
          release: '6.1.0-kf1',
          arch: 'x86_64',
          config: { text: CONFIG } as never,
          dirs: { root: dir },
        },
        t,
      );
      expect(c?.unmet).toEqual([
        'requires a kernel matching needs CONFIG_ACPI_WMI (this kernel is 6.1.0-kf1)',
      ]);
      expect(c?.kernelExclusion).toEqual({
        pattern: 'needs CONFIG_ACPI_WMI',
        versionPattern: false,
        tried: ['CONFIG_ACPI_WMI'],
        liftedBy: [{ symbol: 'CONFIG_ACPI_WMI', value: 'y' }],
      });
      // Both evaluations ran on the host, none on the controller.
      expect(readFileSync(join(h.root, marker), 'utf8')).toBe(`evaluated on ${h.hostname}\n`.repeat(2));
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(marker, { force: true });
      await h.exec(['rm', '-rf', '/usr/src/wmi-extra-0.4', marker]);
    }
  });

  it('without a connection to the host, it is not evaluated at all', async () => {
    const facts = await gather(t);
    const spec = { modules: [{ name: 'evil', version: '1.0', installed: true }] } as unknown as Spec;
    const prepared = {
      buildId: `test2-${tag}`,
      release: '6.1.0-kf1',
      arch: 'x86_64',
      config: { text: CONFIG } as never,
      dirs: { root: dir },
    };
    const [c] = await new DkmsPreflight().check(spec, (p) => p, facts, prepared, null);
    expect(c?.error).toMatch(
      /evil-1\.0\/dkms\.conf was not evaluated: a host's dkms\.conf is evaluated only on the host/,
    );
    expect(existsSync(`/tmp/kf-t12-host-marker-${tag}`)).toBe(false);
  });

  it('a conf that loops is stopped by the time limit on the host', async () => {
    const facts = await gather(t);
    const src = facts.dkms.sources.find((s) => s.name === 'evil');
    expect(src).toBeDefined();
    const { evaluateDkmsConfOnHost } = await import('../../src/dkms/conf.js');
    const t0 = Date.now();
    const r = await evaluateDkmsConfOnHost(t, {
      conf: hostile('while :; do :; done'),
      confFile: 'web:/usr/src/evil-1.0/dkms.conf',
      kernelver: '6.1.0-kf1',
      arch: 'x86_64',
      configText: CONFIG,
      timeoutMs: 1000,
    });
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(r.vars).toBeNull();
    expect(r.error).toMatch(
      /web:\/usr\/src\/evil-1\.0\/dkms\.conf could not be evaluated on .*: it ran for more than 1 s/,
    );
  });
});
