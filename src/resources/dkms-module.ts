/**
 * Resource `dkms-module`: a DKMS module built and installed for the new release with the host's
 * own dkms. Identity: name/version@release. Modules a previous apply installed for the release
 * (its receipt) that the kernelfile no longer declares are removed.
 */

import { moduleCheckErrors } from '../dkms/module-check.js';
import type { Address, Change, PlannedChange, Step } from './change.js';
import { type Ctx, change, problem } from './context.js';
import type { DesiredModule } from './desired.js';
import { describeGap, gapHint, headersGap } from './host-libs.js';
import { moduleBinaryTarball, moduleSourceDir, moduleUpload } from './layout.js';
import type { Resource } from './resource.js';
import { DKMS_INSTALL, DKMS_LOAD_INSTALL, DKMS_REMOVE, sh, UNPACK_MODULE } from './scripts.js';

const moduleAt = (name: string, version: string, kernel: string): Address => ({
  kind: 'dkms-module',
  name,
  version,
  kernel,
});

/** The host cannot compile: dkms there can load and install prebuilt modules, not build them. */
export function noCompiler(ctx: Ctx): boolean {
  return !ctx.f.tools.make || !(ctx.f.tools.gcc || ctx.f.tools.cc);
}

function preflight(ctx: Ctx): boolean {
  const { d, f } = ctx;
  if (d.modules.length === 0) return true;
  let ok = true;
  if (!f.tools.dkms) {
    problem(
      ctx,
      'no-dkms',
      `the kernelfile declares ${d.modules.length} DKMS module${d.modules.length === 1 ? '' : 's'} (${d.modules.map((m) => m.name).join(', ')}) but ${f.host} has no dkms command`,
      'install dkms on the host (apt-get install dkms, dnf install dkms), or remove `modules` from the kernelfile',
    );
    ok = false;
  }
  // Without a compiler on the host, modules with a source on the controller are built there
  // (build.on: controller) and shipped as dkms mktarball archives; the others cannot be built.
  const stuck = noCompiler(ctx) ? d.modules.filter((m) => !(m.path && d.buildOn === 'controller')) : [];
  if (stuck.length) {
    problem(
      ctx,
      'no-compiler',
      `${f.host} has no C compiler or make, which dkms needs to build ${stuck.map((m) => m.name).join(', ')} for the new kernel${stuck.some((m) => m.installed) ? ' (an `installed: true` module has its source only on the host)' : ''}`,
      d.buildOn === 'host'
        ? 'install them on the host (apt-get install build-essential), or set build.on: controller'
        : 'install them on the host (apt-get install build-essential), or give the module a `path` so it is built on the controller',
    );
    ok = false;
  }
  for (const m of d.modules.filter((x) => x.installed)) {
    const added = f.dkms.modules.some((e) => e.name === m.name && e.version === m.version);
    const source = f.dkms.sources.some((s) => s.name === m.name && s.version === m.version);
    if (!added && !source) {
      problem(
        ctx,
        'module-missing',
        `${m.name} ${m.version} is declared \`installed: true\` but ${f.host} has neither it in dkms nor its source in ${moduleSourceDir(m.name, m.version)}`,
        `install the package that provides it (e.g. ${m.name}-dkms), or give the module a \`path\``,
      );
      ok = false;
    }
  }
  for (const e of moduleCheckErrors(d.moduleChecks)) {
    problem(ctx, 'module-excluded', e.message, e.hint);
    ok = false;
  }
  return ok;
}

/**
 * Why a module with a source on the controller is built there rather than by the host's dkms: the
 * host has no compiler, or it cannot run the headers' host tools (a library or glibc missing).
 * null: the host's dkms builds it.
 */
function controllerBuildReason(ctx: Ctx, m: DesiredModule): string | null {
  const { d, f } = ctx;
  if (!m.path || d.buildOn !== 'controller') return null;
  // The key stays on the controller: a module the host built would be unsigned.
  if (d.signing?.dkms) return "signed with the build's key (signing.dkms), which stays on the controller";
  if (noCompiler(ctx)) return `${f.host} has no compiler`;
  const gap = headersGap(d.artifacts.headersNeed, f.libs);
  if (gap) return `the headers' host tools (objtool, modpost…) ${describeGap(gap, f.host)}`;
  return null;
}

/** dkms mktarball on the controller, dkms ldtarball + install on the host. */
function builtOnController(
  ctx: Ctx,
  m: DesiredModule & { path: string },
  why: string,
): { steps: Step[]; reason: string } {
  const { d, sudo } = ctx;
  const r = d.release;
  const tar = moduleBinaryTarball(m.name, m.version, r);
  return {
    reason: `${why}: built on the controller, loaded with dkms ldtarball`,
    steps: [
      {
        kind: 'dkms-tarball',
        title: `build ${m.name}/${m.version} for ${r} on the controller (dkms mktarball)`,
        name: m.name,
        version: m.version,
        from: m.path,
        buildId: d.buildId,
        release: r,
        to: tar,
        sudo,
      },
      {
        kind: 'run',
        title: `dkms ldtarball and install ${m.name}/${m.version} for ${r}`,
        argv: sh(DKMS_LOAD_INSTALL, tar, m.name, m.version, r),
        sudo,
      },
    ],
  };
}

/** The host's dkms builds it: source shipped when the host lacks it, added when dkms does not know it. */
function builtOnHost(
  ctx: Ctx,
  m: DesiredModule,
  added: boolean,
  installed: boolean,
): { steps: Step[]; reason: string } {
  const { d, f, sudo } = ctx;
  const r = d.release;
  const label = `${m.name} ${m.version}`;
  const steps: Step[] = [];
  const hasSource = f.dkms.sources.some((s) => s.name === m.name && s.version === m.version);
  if (m.path && !hasSource && !added) {
    const tar = moduleUpload(m.name, m.version);
    steps.push(
      { kind: 'upload', title: `upload the source of ${label}`, from: m.path, to: tar, sudo },
      {
        kind: 'run',
        title: `unpack it into ${moduleSourceDir(m.name, m.version)}`,
        argv: sh(UNPACK_MODULE, tar, moduleSourceDir(m.name, m.version)),
        sudo,
      },
    );
  }
  if (!added)
    steps.push({
      kind: 'run',
      title: `dkms add ${m.name}/${m.version}`,
      argv: ['dkms', 'add', '-m', m.name, '-v', m.version],
      sudo,
    });
  steps.push({
    kind: 'run',
    title: `dkms build and install ${m.name}/${m.version} for ${r}`,
    argv: sh(DKMS_INSTALL, m.name, m.version, r),
    sudo,
  });
  const reason = installed
    ? `rebuilt: the kernel ${r} is reinstalled`
    : added
      ? `added to dkms, not installed for ${r}`
      : m.installed
        ? `source on the host (${moduleSourceDir(m.name, m.version)}), not built for ${r}`
        : `not on the host: source shipped from ${m.path}`;
  return { steps, reason };
}

/**
 * The host's dkms runs the headers' host tools: a host that cannot (a library missing, an older
 * glibc) would fail half-way through the apply, so the plan refuses. Unknown either side (the
 * build not cached yet, facts without a library list): apply checks after the build, or nothing.
 */
function headersCheck(ctx: Ctx, onHost: DesiredModule[]): void {
  const { d, f } = ctx;
  if (onHost.length === 0 || noCompiler(ctx)) return;
  const need = d.artifacts.headersNeed;
  if (need && f.libs == null) {
    ctx.notes.push(
      `whether ${f.host} can run the headers' host tools (${need.sonames.join(', ')}) is not checked: its facts have no library list`,
    );
    return;
  }
  if (!need) {
    if (f.libs && !d.artifacts.cached)
      ctx.notes.push(
        `whether ${f.host} can run the headers' host tools is checked once the kernel is built, before the host is changed`,
      );
    return;
  }
  const gap = headersGap(need, f.libs);
  if (!gap) return;
  const names = onHost.map((m) => m.name).join(', ');
  const ways = [
    gapHint(gap, f.system.distro),
    d.buildOn === 'host' && onHost.some((m) => m.path) ? 'or set build.on: controller' : '',
    onHost.some((m) => !m.path) ? 'or give the module a `path` so it is built on the controller' : '',
  ].filter(Boolean);
  problem(
    ctx,
    'headers-unusable',
    `the headers of ${d.release} cannot build ${names} on ${f.host}: their host tools (objtool, modpost…) ${describeGap(gap, f.host)}${onHost.some((m) => m.installed) ? ' (an `installed: true` module has its source only on the host, where dkms builds it)' : ''}`,
    ways.join(', '),
  );
}

/** Modules an earlier apply installed for the release (its receipt) that the kernelfile no longer declares. */
function leftBehind(ctx: Ctx): { name: string; version: string }[] {
  const { d, f } = ctx;
  const r = d.release;
  return (ctx.receipt?.data.modules ?? []).filter(
    (old) =>
      !d.modules.some((m) => m.name === old.name && m.version === old.version) &&
      f.dkms.modules.some((e) => e.name === old.name && e.version === old.version && e.kernel === r),
  );
}

/** The version of `m` an earlier apply installed for the release, when the kernelfile now wants another. */
function replacedVersion(ctx: Ctx, m: DesiredModule): { name: string; version: string } | undefined {
  const olds = leftBehind(ctx).filter((o) => o.name === m.name);
  // Two declared versions of one name (or two left behind): no one-to-one update, deletes as before.
  if (olds.length !== 1 || ctx.d.modules.filter((x) => x.name === m.name).length !== 1) return undefined;
  return olds[0];
}

function removeStep(ctx: Ctx, old: { name: string; version: string }): Step {
  const r = ctx.d.release;
  return {
    kind: 'run',
    title: `dkms remove ${old.name}/${old.version} from ${r}`,
    argv: sh(DKMS_REMOVE, old.name, old.version, r),
    sudo: ctx.sudo,
  };
}

function dkmsChanges(ctx: Ctx, kernel: Change): PlannedChange[] {
  const { d, f } = ctx;
  const out: PlannedChange[] = [];
  preflight(ctx);
  const r = d.release;
  const reinstall = kernel.action !== 'no-op';
  /** Modules the host's own dkms will build (it runs the headers' host tools to do it). */
  const onHost: DesiredModule[] = [];
  /** Old versions a declared module's update removes (`name/version`). */
  const replaced = new Set<string>();
  for (const m of d.modules) {
    const address = moduleAt(m.name, m.version, r);
    const entries = f.dkms.modules.filter((e) => e.name === m.name && e.version === m.version);
    const installed = entries.some(
      (e) => e.kernel === r && (e.state === 'installed' || e.state === 'installed-weak'),
    );
    const label = `${m.name} ${m.version}`;
    if (installed && !reinstall) {
      out.push(
        change({
          address,
          action: 'no-op',
          before: label,
          after: label,
          reason: `installed for ${r}`,
        }),
      );
      continue;
    }
    const why = controllerBuildReason(ctx, m);
    if (why === null) onHost.push(m);
    const how =
      why !== null
        ? builtOnController(ctx, m as DesiredModule & { path: string }, why)
        : builtOnHost(ctx, m, entries.length > 0, installed);
    // Another version of it installed for the release by an earlier apply: this one replaces it
    // (built and installed first, then the old one removed, as a delete after it would).
    const old = installed ? undefined : replacedVersion(ctx, m);
    if (old) replaced.add(`${old.name}/${old.version}`);
    out.push(
      change({
        address,
        action: installed || old ? 'update' : 'create',
        before: installed ? label : old ? `${old.name} ${old.version}` : null,
        after: label,
        reason: old ? `${how.reason}; replaces ${old.version}` : how.reason,
        attributes: old ? [{ name: 'version', before: old.version, after: m.version }] : [],
        dependsOn: [kernel.id],
        steps: old ? [...how.steps, removeStep(ctx, old)] : how.steps,
      }),
    );
  }
  headersCheck(ctx, onHost);
  // What the running kernel has that the new one will not: a host booting from ZFS would not boot.
  const running = f.system.running;
  const seen = new Set<string>();
  for (const e of f.dkms.modules) {
    if (e.kernel !== running || !(e.state === 'installed' || e.state === 'installed-weak')) continue;
    if (d.modules.some((m) => m.name === e.name) || seen.has(e.name)) continue;
    seen.add(e.name);
    ctx.notes.push(
      `${e.name} ${e.version} is installed with DKMS for the running kernel but not declared: it will not be built for ${r} (declare it with installed: true if the host needs it)`,
    );
  }
  // Installed for this release by an earlier apply, no longer declared.
  for (const old of leftBehind(ctx)) {
    if (replaced.has(`${old.name}/${old.version}`)) continue;
    out.push(
      change({
        address: moduleAt(old.name, old.version, r),
        action: 'delete',
        before: `${old.name} ${old.version}`,
        after: null,
        reason: 'no longer in the kernelfile',
        dependsOn: [kernel.id],
        steps: [removeStep(ctx, old)],
      }),
    );
  }
  return out;
}

export const dkmsModule: Resource = {
  name: 'dkms-module',
  order: 20,
  installs: true,
  plan(ctx, upstream) {
    const kernel = upstream.find((c) => c.address.kind === 'kernel');
    if (!kernel) throw new Error('dkms-module plans after the kernel');
    return dkmsChanges(ctx, kernel);
  },
};
