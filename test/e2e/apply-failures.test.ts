/**
 * What `kernelfile apply` promises when things go wrong, against real Debian hosts over SSH
 * (test/helpers/sshd.ts; GRUB entries written explicitly, the default is saved_entry in grubenv):
 *
 *  - a previous default (test/fixtures/apply/prev: the example with another localversion and name,
 *    a distinct build) stays the default, bootable and byte-for-byte unchanged when an apply of the
 *    example is SIGKILLed after the upload, the modules, DKMS, the initramfs and the receipt; no
 *    final file is ever half-written; each next apply resumes, and the last one completes;
 *  - killed right after the default changed, the host is converged and no journal stays behind;
 *  - a connection dropped during the upload fails the apply naming the host, leaves no partial file
 *    under a final name in the staging directory and nothing in /boot; the next apply completes;
 *    a file write (receipt, grub.cfg…) cut by a dropped connection leaves the previous file;
 *  - a /boot too small is refused by plan and apply before anything is written on the host.
 *
 * A killed controller does not stop the command it had already sent: sshd lets it run to its end
 * on the host. The checks run both at once after a kill and once the host is idle again.
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from '../../src/apply/executor.js';
import { openHost } from '../../src/host/open.js';
import { type Cli, kernelfile } from '../helpers/cli.js';
import {
  grubEnvVars,
  sha256File,
  sshTarget,
  strayProcesses,
  treeState,
  waitHostIdle,
} from '../helpers/host-state.js';
import { jsonOutput } from '../helpers/json-schemas.js';
import { EXAMPLE, ensureKernelArtifacts } from '../helpers/kernel-artifacts.js';
import { note, secs, sleep } from '../helpers/proc.js';
import { ensureDebianRoot } from '../helpers/rootfs.js';
import { portOpen, type SshHost, startSshHost } from '../helpers/sshd.js';

const PREV = fileURLToPath(new URL('../fixtures/apply/prev/kernelfile.yaml', import.meta.url));

interface Build {
  dir: string;
  buildId: string;
  release: string;
  /** Artifact path (vmlinuz, System.map, config, modules/lib/modules/…) → sha256 and size. */
  files: Map<string, { sha256: string; size: number }>;
}

function loadBuild(dir: string): Build {
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    buildId: string;
    release: string;
    files: { path: string; sha256: string; size: number }[];
  };
  return {
    dir,
    buildId: m.buildId,
    release: m.release,
    files: new Map(m.files.map((f) => [f.path, { sha256: f.sha256, size: f.size }])),
  };
}

let dir: string;
let ex: Build; // the example (release REL)
let prev: Build; // the previous default (release PREVREL)
const hosts: SshHost[] = [];

async function newHost(hostname: string): Promise<SshHost> {
  const h = await startSshHost({ hostname });
  hosts.push(h);
  return h;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kf-e2e-apply-failures-'));
  const [artifacts] = await Promise.all([ensureKernelArtifacts(), ensureDebianRoot()]);
  ex = loadBuild(artifacts);
  // A distinct build (about 2.5 min on 2 cores the first time, then cached in the tests' build cache).
  const t0 = Date.now();
  const b = await kernelfile(['build', PREV, '--json']);
  expect(b.code, b.err).toBe(0);
  const built = jsonOutput(b.out, 'build');
  if (!built.artifacts) throw new Error(`build ${PREV} made no artifacts`);
  note(`build of ${PREV}: ${secs(Date.now() - t0)}${built.artifacts.cached ? ' (cached)' : ''}`);
  prev = loadBuild(built.artifacts.dir);
  expect(prev.release).not.toBe(ex.release);
  expect(prev.release).toMatch(/^6\.1\.192-prev-kf[0-9a-f]{8}$/);
});

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Run apply and SIGKILL the CLI at the first stderr line matching `at`. */
async function applyKilledAt(
  target: string[],
  at: RegExp,
): Promise<Cli & { killedAt: string | undefined; ms: number }> {
  let killedAt: string | undefined;
  const t0 = Date.now();
  const r = await kernelfile(['apply', EXAMPLE, ...target, '--yes'], {
    onErrLine: (line, p) => {
      if (killedAt === undefined && at.test(line)) {
        killedAt = line;
        p.kill('SIGKILL');
      }
    },
  });
  return { ...r, killedAt, ms: Date.now() - t0 };
}

/** The menuentry block of an entry id in a grub.cfg text. */
function menuEntry(cfg: string, id: string): string | undefined {
  const start = cfg.indexOf(`menuentry `);
  if (start < 0) return undefined;
  return cfg
    .slice(start)
    .split(/\n(?=menuentry )/)
    .find((b) => b.includes(`--id '${id}'`))
    ?.trimEnd();
}

const ARTIFACT_OF: Record<string, string> = {
  vmlinuz: 'vmlinuz',
  'System.map': 'System.map',
  config: 'config',
};

/**
 * Every final name in /boot is complete: the image, System.map and config of a release are exactly
 * its build's files, an initramfs is a whole image of the host's tool. Temp names (a step that was
 * running) are allowed; they are returned.
 */
async function expectBootFinalsComplete(h: SshHost, label: string): Promise<string[]> {
  const temps: string[] = [];
  const builds = new Map([
    [ex.release, ex],
    [prev.release, prev],
  ]);
  for (const name of readdirSync(join(h.root, 'boot'))) {
    if (name.startsWith('.') || /\.(kf-new|new|dpkg-bak)$|\.kf-/.test(name)) {
      temps.push(`/boot/${name}`);
      continue;
    }
    const m = /^(vmlinuz|System\.map|config|initrd\.img)-(.+)$/.exec(name);
    if (!m) continue;
    const [, kind, release] = m as unknown as [string, string, string];
    const b = builds.get(release);
    expect(b, `${label}: /boot/${name} belongs to no build of this test`).toBeDefined();
    if (!b) continue;
    const file = join(h.root, 'boot', name);
    if (kind === 'initrd.img') {
      expect(statSync(file).size, `${label}: /boot/${name} is empty`).toBeGreaterThan(0);
      const ls = await h.exec(['lsinitramfs', `/boot/${name}`]);
      expect(ls.code, `${label}: lsinitramfs /boot/${name}: ${ls.stderr}`).toBe(0);
      expect(ls.stdout, `${label}: /boot/${name} lacks the DKMS module`).toMatch(/kernelfile_hello\.ko/);
      continue;
    }
    const want = b.files.get(ARTIFACT_OF[kind] as string);
    expect(statSync(file).size, `${label}: size of /boot/${name}`).toBe(want?.size);
    expect(sha256File(file), `${label}: sha256 of /boot/${name}`).toBe(want?.sha256);
  }
  return temps;
}

/** The modules tree of REL, when present under its final name, has every module of the build. */
function expectModulesComplete(h: SshHost, label: string): void {
  const tree = join(h.root, 'lib/modules', ex.release);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(tree);
  } catch {
    return;
  }
  expect(st.isDirectory()).toBe(true);
  const prefix = `modules/lib/modules/${ex.release}/`;
  for (const [path, f] of ex.files) {
    if (!path.startsWith(prefix) || !/\.ko$/.test(path)) continue;
    const p = join(tree, path.slice(prefix.length));
    let sum: string;
    try {
      sum = sha256File(p);
    } catch (e) {
      // A reinstall still running on the host moved the whole tree aside, to rename the new one in.
      if (!existsSync(tree)) return;
      throw e;
    }
    expect(sum, `${label}: ${p.slice(h.root.length)}`).toBe(f.sha256);
  }
}

/** sha256 of the final-named files in the host's staging directory of a build. */
function stagingFinals(h: SshHost, b: Build): Record<string, string> {
  const d = join(h.root, 'var/lib/kernelfile/staging', b.buildId);
  const out: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = readdirSync(d);
  } catch {
    return out;
  }
  for (const n of names)
    if (['vmlinuz', 'System.map', 'config', 'modules.tar', 'headers.tar'].includes(n))
      out[n] = sha256File(join(d, n));
  return out;
}

/** What each shipped file must be: the artifacts' image, System.map and config, and the packed tars. */
function shippedSums(b: Build): Record<string, string> {
  return {
    vmlinuz: sha256File(join(b.dir, 'vmlinuz')),
    'System.map': sha256File(join(b.dir, 'System.map')),
    config: sha256File(join(b.dir, 'config')),
    'modules.tar': sha256File(join(b.dir, 'ship/modules.tar')),
    'headers.tar': sha256File(join(b.dir, 'ship/headers.tar')),
  };
}

describe('apply interrupted: the previous default stays, the next apply resumes', () => {
  let h: SshHost;
  let target: string[];
  let prevBlock: string;
  let prevFiles: Record<string, string>;

  it('applies the previous kernelfile to a fresh host: its entry becomes the default', async () => {
    h = await newHost('kf-apply-prev');
    target = sshTarget(h, dir);
    const t0 = Date.now();
    const r = await kernelfile(['apply', PREV, ...target, '--yes']);
    note(`apply of the previous kernelfile: ${secs(Date.now() - t0)}`);
    expect(r.code, r.out + r.err).toBe(0);
    expect((await grubEnvVars(h))?.saved_entry).toBe(`kernelfile-${prev.release}`);
    const cfg = readFileSync(join(h.root, 'boot/grub/grub.cfg'), 'utf8');
    const block = menuEntry(cfg, `kernelfile-${prev.release}`);
    expect(block, cfg).toBeDefined();
    prevBlock = block as string;
    expect(prevBlock).toContain(`linux\t'/boot/vmlinuz-${prev.release}' 'root=/dev/vda`);
    expect(prevBlock).toContain(`initrd\t'/boot/initrd.img-${prev.release}'`);
    prevFiles = Object.fromEntries(
      ['vmlinuz', 'System.map', 'config', 'initrd.img'].map((k) => {
        const p = `/boot/${k}-${prev.release}`;
        return [p, sha256File(join(h.root, p))];
      }),
    );
    expect(prevFiles[`/boot/vmlinuz-${prev.release}`]).toBe(prev.files.get('vmlinuz')?.sha256);
  });

  /** PREV is the default, its menu entry and files are unchanged, and no final file is partial. */
  async function expectPrevIntact(label: string): Promise<string[]> {
    const env = await grubEnvVars(h);
    expect(env?.saved_entry, `${label}: saved_entry`).toBe(`kernelfile-${prev.release}`);
    const cfg = readFileSync(join(h.root, 'boot/grub/grub.cfg'), 'utf8');
    expect(menuEntry(cfg, `kernelfile-${prev.release}`), `${label}: PREV's entry in grub.cfg`).toBe(
      prevBlock,
    );
    for (const [p, sum] of Object.entries(prevFiles))
      expect(sha256File(join(h.root, p)), `${label}: ${p} unchanged`).toBe(sum);
    const temps = await expectBootFinalsComplete(h, label);
    expectModulesComplete(h, label);
    const staged = stagingFinals(h, ex);
    const want = shippedSums(ex);
    for (const [n, sum] of Object.entries(staged)) expect(sum, `${label}: staged ${n}`).toBe(want[n]);
    return temps;
  }

  const points: { what: string; at: () => RegExp }[] = [
    { what: 'after the upload', at: () => /✓ ship the build/ },
    { what: 'after the modules', at: () => new RegExp(`✓ depmod -a ${ex.release.replace(/\./g, '\\.')}`) },
    { what: 'after DKMS', at: () => /✓ dkms build and install / },
    { what: 'after the initramfs', at: () => /✓ check \/boot\/initrd\.img-/ },
    { what: 'just before the default changes', at: () => /✓ write the receipt / },
  ];

  /**
   * Hold the host's grub-editenv (the default change) until `release`: a kill at the receipt's line
   * then lands before the default changes whatever the timing (the controller sends the next
   * command at once, and the host runs what was sent). `release(false)` ends the held command
   * unrun, as if the kill had come before it was sent.
   */
  function holdDefaultChange(): (run: boolean) => Promise<void> {
    const editor = join(h.root, 'usr/bin/grub-editenv');
    renameSync(editor, `${editor}.kf-test-held`);
    writeFileSync(
      editor,
      '#!/bin/sh\n# held by test/e2e/apply-failures.test.ts\nwhile [ ! -e /run/kf-test-release ]; do sleep 0.05; done\nexec /usr/bin/grub-editenv.kf-test-held "$@"\n',
      { mode: 0o755 },
    );
    return async (run) => {
      if (!run) await h.exec(['pkill', '-f', '^/bin/sh /usr/bin/grub-editenv ']);
      renameSync(`${editor}.kf-test-held`, editor);
    };
  }

  it('an apply of the example killed at each point leaves PREV the default; each next apply resumes', async () => {
    for (const [i, pt] of points.entries()) {
      const label = `killed ${pt.what}`;
      const last = i === points.length - 1;
      const release = last ? holdDefaultChange() : undefined;
      const r = await applyKilledAt(target, pt.at());
      // The default change the controller may have sent before it died never runs.
      if (release) await release(false);
      const kill = Date.now();
      // What the killed controller had already started on the host (sshd does not stop it).
      const running = await strayProcesses(h);
      expect(r.killedAt, `${label}: the line never came:\n${r.out}${r.err}`).toBeDefined();
      expect(r.signal, `${label}: ${r.err}`).toBe('SIGKILL');
      // Every apply after the first kill picks up the journal (until the receipt removes it).
      if (i > 0)
        expect(r.out, `${label}: the plan`).toMatch(
          new RegExp(`\\+ kernel\\[${ex.release.replace(/\./g, '\\.')}\\] +resuming an interrupted apply`),
        );
      // Right after the kill (a command already sent may still run on the host), then once it ended.
      const temps = await expectPrevIntact(`${label} (at once)`);
      const idle = await waitHostIdle(h);
      const tempsAfter = await expectPrevIntact(`${label} (host idle)`);
      const orphans = [...running, ...idle.first].map((p) => p.args.slice(0, 60));
      note(
        `${label}: apply ran ${secs(r.ms)}; ${orphans.length ? `still running on the host after the kill: ${[...new Set(orphans)].join(' | ')} (ended ${secs(Date.now() - kill)} after it)` : 'nothing left running on the host'}; temp files in /boot: ${[...new Set([...temps, ...tempsAfter])].join(', ') || 'none'}`,
      );
      const journal = (await h.exec(['test', '-e', `/var/lib/kernelfile/pending/${ex.release}.json`])).code;
      const receipt = (await h.exec(['test', '-e', `/var/lib/kernelfile/${ex.release}.json`])).code;
      if (i < points.length - 1) {
        expect(journal, `${label}: the journal`).toBe(0);
        expect(receipt, `${label}: no receipt yet`).not.toBe(0);
      } else {
        expect(receipt, `${label}: the receipt`).toBe(0);
        note(
          `${label}: journal ${journal === 0 ? 'present (written again for the default change)' : 'absent'}`,
        );
      }
    }

    // The completing apply: only the default is left (the install finished with its receipt).
    const t0 = Date.now();
    const r = await kernelfile(['apply', EXAMPLE, ...target, '--yes']);
    note(`completing apply: ${secs(Date.now() - t0)}`);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/~ default-entry +GRUB \(explicit grub\.cfg\) default by id/);
    expect(r.out).toMatch(/^Plan: 0 to add, 1 to change, 0 to destroy\.$/m);
    expect((await grubEnvVars(h))?.saved_entry).toBe(`kernelfile-${ex.release}`);
    const again = await kernelfile(['apply', EXAMPLE, ...target, '--yes']);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.out).toContain('No changes. The host matches the kernelfile.');

    // PREV is still installed (boot.keep: 2, and it is another kernelfile's kernel): files, entry, DKMS.
    for (const [p, sum] of Object.entries(prevFiles)) expect(sha256File(join(h.root, p)), p).toBe(sum);
    const cfg = readFileSync(join(h.root, 'boot/grub/grub.cfg'), 'utf8');
    expect(menuEntry(cfg, `kernelfile-${prev.release}`)).toBe(prevBlock);
    expect(menuEntry(cfg, `kernelfile-${ex.release}`)).toBeDefined();
    expect((await h.exec(['test', '-e', `/var/lib/kernelfile/${prev.release}.json`])).code).toBe(0);
    const st = await h.exec(['dkms', 'status', '-m', 'kernelfile-hello']);
    expect(st.stdout).toMatch(new RegExp(`${prev.release.replace(/\./g, '\\.')}.*installed`));
    expect(st.stdout).toMatch(new RegExp(`${ex.release.replace(/\./g, '\\.')}.*installed`));
    // Nothing an interrupted step left behind survives the completed apply.
    const left = await h.exec([
      'sh',
      '-c',
      'find /boot /lib/modules /usr/src /etc/kernelfile /etc/initramfs-tools /var/lib/kernelfile -name "*.kf-*" -o -name ".*.kf-*" -o -name "*.new"',
    ]);
    expect(left.stdout.trim()).toBe('');
    const pending = await h.exec(['sh', '-c', 'ls -A /var/lib/kernelfile/pending 2>/dev/null; true']);
    expect(pending.stdout.trim(), 'journals left').toBe('');
  });
});

describe('apply killed right after the default changed', () => {
  it('the host is converged: the next apply changes nothing and leaves no journal behind', async () => {
    const h = await newHost('kf-apply-after-default');
    const target = sshTarget(h, dir);
    const r = await applyKilledAt(target, /✓ grub-editenv .*set saved_entry=kernelfile-/);
    expect(r.killedAt, r.out + r.err).toBeDefined();
    expect(r.signal).toBe('SIGKILL');
    await waitHostIdle(h);
    expect((await grubEnvVars(h))?.saved_entry).toBe(`kernelfile-${ex.release}`);
    expect((await h.exec(['test', '-e', `/var/lib/kernelfile/${ex.release}.json`])).code).toBe(0);
    const journalAfterKill = await h.exec(['ls', '-A', '/var/lib/kernelfile/pending']);
    note(`journals right after the kill: ${journalAfterKill.stdout.trim() || 'none'}`);

    const again = await kernelfile(['apply', EXAMPLE, ...target, '--yes']);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.out).toContain('No changes. The host matches the kernelfile.');
    // No journal is written after the receipt: nothing is left to resume once the default changed.
    const pending = await h.exec(['sh', '-c', 'ls -A /var/lib/kernelfile/pending 2>/dev/null; true']);
    expect(pending.stdout.trim(), 'a journal left behind by a completed apply').toBe('');
  });
});

describe('apply over a connection dropped during the upload', () => {
  it('fails naming the host, leaves no partial file under a final name; the next apply completes', async () => {
    const h = await newHost('kf-apply-drop');
    const target = sshTarget(h, dir);
    const bootBefore = treeState(join(h.root, 'boot'));
    const staging = join(h.root, 'var/lib/kernelfile/staging', ex.buildId);
    let dropped: { temp: string; pkill: number } | undefined;
    let watching: Promise<void> | undefined;
    const t0 = Date.now();
    const r = await kernelfile(['apply', EXAMPLE, ...target, '--yes'], {
      onErrLine: (line) => {
        if (watching || !/… ship the build/.test(line)) return;
        // Drop the connection while the biggest file (headers.tar, last) is on its way.
        watching = (async () => {
          const until = Date.now() + 20_000;
          while (Date.now() < until) {
            let names: string[] = [];
            try {
              names = readdirSync(staging);
            } catch {}
            const temp = names.find((n) => /^\.headers\.tar\.kf-/.test(n));
            if (temp) {
              const k = await h.exec(['pkill', '-KILL', '-f', 'sshd: root']);
              dropped = { temp, pkill: k.code };
              return;
            }
            await sleep(2);
          }
        })();
      },
    });
    await watching;
    note(`apply with the connection dropped during the upload: ${secs(Date.now() - t0)}`);
    expect(dropped, `the upload of headers.tar was never seen:\n${r.err}`).toBeDefined();
    expect(dropped?.pkill, 'pkill found the session').toBe(0);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.signal).toBeNull();
    const host = `ssh://root@127.0.0.1:${h.port}`;
    const errLine = r.err
      .split('\n')
      .find((l) => l.startsWith('kernelfile: '))
      ?.trim();
    note(`the error: ${errLine}`);
    expect(errLine, r.err).toContain(host);
    expect(r.err).not.toMatch(/^\s+at /m); // no stack trace

    await waitHostIdle(h);
    expect(await portOpen(h.port), 'sshd still listens').toBe(true);
    const finals = stagingFinals(h, ex);
    const want = shippedSums(ex);
    for (const [n, sum] of Object.entries(finals)) expect(sum, `staged ${n}`).toBe(want[n]);
    expect(Object.keys(finals), 'files uploaded before the drop').toContain('vmlinuz');
    expect(finals['headers.tar'], 'headers.tar was being uploaded').toBeUndefined();
    note(`staging after the drop: ${readdirSync(staging).join(', ')}`);
    expect(treeState(join(h.root, 'boot'))).toEqual(bootBefore);
    expect((await h.exec(['test', '-e', `/lib/modules/${ex.release}`])).code).not.toBe(0);

    const t1 = Date.now();
    const again = await kernelfile(['apply', EXAMPLE, ...target, '--yes']);
    note(`the next apply: ${secs(Date.now() - t1)}`);
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.out).toMatch(/resuming an interrupted apply/);
    expect(again.err).toMatch(/✓ ship the build .*: 1 sent \([0-9.]+ MiB\), 4 already there/);
    expect((await grubEnvVars(h))?.saved_entry).toBe(`kernelfile-${ex.release}`);
    expect((await h.exec(['test', '-e', staging.slice(h.root.length)])).code).not.toBe(0);
  });
});

describe("apply's file writes over a connection dropped mid-way", () => {
  it('a write step cut short leaves the previous file, never a partial one under the final name', async () => {
    const h = await newHost('kf-apply-write-drop');
    const target = sshTarget(h, dir);
    const t = await openHost(`ssh://root@127.0.0.1:${h.port}`, {
      sshConfig: 'none',
      knownHosts: [target[target.indexOf('--known-hosts') + 1] as string],
      identities: [h.keys.root.privateKeyPath],
    });
    const path = '/var/lib/kernelfile/write-test.json';
    try {
      // What apply writes through a shell (receipts, their sidecars, grub.cfg, hooks, the journal):
      // content on stdin to PATH.kf-new, then renamed. A receipt of a distribution-sized kernel
      // lists thousands of modules (hundreds of KiB); 20 MiB makes the cut certain.
      await writeFile(t, path, '{"old": true}\n', 0o644);
      const big = `{"x": "${'a'.repeat(20 * 1024 * 1024)}"}\n`;
      const writing = writeFile(t, path, big, 0o644).then(
        () => 'written',
        (e: Error) => e.message,
      );
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        const grown = (() => {
          try {
            return statSync(join(h.root, `${path}.kf-new`)).size > 1024 * 1024;
          } catch {
            return false;
          }
        })();
        if (grown) break;
        await sleep(1);
      }
      expect((await h.exec(['pkill', '-KILL', '-f', 'sshd: root'])).code).toBe(0);
      const outcome = await writing;
      expect(outcome).toContain(`ssh://root@127.0.0.1:${h.port}`);
      await waitHostIdle(h);
      const size = statSync(join(h.root, path)).size;
      note(`${path} after the cut write: ${size} bytes (old: 14, new: ${big.length})`);
      // writeFile checks the byte count before the rename: a cut write never replaces the file.
      expect(size, 'bytes under the final name after a cut write (the old file has 14)').toBe(14);
      expect(readFileSync(join(h.root, path), 'utf8')).toBe('{"old": true}\n');
    } finally {
      await t.close().catch(() => {});
    }
  });
});

describe('apply with /boot too small', () => {
  it('plan and apply refuse it before anything is written on the host', async () => {
    const h = await newHost('kf-apply-small-boot');
    const target = sshTarget(h, dir);
    // The host has a mount namespace of its own: this tmpfs exists only there.
    const m = await h.exec(['mount', '-t', 'tmpfs', '-o', 'size=2m', 'kf-boot', '/boot']);
    expect(m.code, m.stderr).toBe(0);
    expect((await h.exec(['df', '-P', '-k', '/boot'])).stdout).toMatch(/^kf-boot\s+2048\s/m);

    const plan = await kernelfile(['plan', EXAMPLE, ...target, '--detailed-exitcode']);
    expect(plan.code, plan.out + plan.err).toBe(1);
    expect(plan.out).toMatch(
      new RegExp(
        `error: /boot on ssh://root@127\\.0\\.0\\.1:${h.port} has 2\\.0 MiB free; ${ex.release.replace(/\./g, '\\.')} needs about [0-9.]+ MiB`,
      ),
    );
    expect(plan.out).toMatch(/hint: free space in \/boot/);
    expect(plan.out).toMatch(/^Plan: not possible \(1 problem above\)\.$/m);
    const json = await kernelfile(['plan', EXAMPLE, ...target, '--json']);
    expect(json.code).toBe(1);
    const doc = jsonOutput(json.out, 'plan');
    expect(doc.possible).toBe(false);
    expect(doc.hosts[0]?.problems.map((p) => p.code)).toContain('boot-too-small');

    const r = await kernelfile(['apply', EXAMPLE, ...target, '--yes']);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/has 2\.0 MiB free/);
    expect(r.err).not.toMatch(/✓|…/); // no step ran
    expect((await h.exec(['test', '-e', '/var/lib/kernelfile'])).code).not.toBe(0);
    expect((await h.exec(['ls', '-A', '/boot'])).stdout).toBe('');
    expect((await h.exec(['test', '-e', `/lib/modules/${ex.release}`])).code).not.toBe(0);
    expect((await h.exec(['test', '-e', `/usr/src/linux-headers-${ex.release}`])).code).not.toBe(0);
    expect((await h.exec(['test', '-e', '/etc/kernelfile'])).code).not.toBe(0);
  });
});
