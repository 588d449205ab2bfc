/**
 * Resource `initramfs`: the new release's initramfs image, made by the host's own tool
 * (update-initramfs, dracut, mkinitcpio) with the kernelfile's extra modules in it.
 */
import type { InitramfsTool } from '../facts/types.js';
import type { AttributeChange, Change, PlannedChange, Step } from './change.js';
import { type Ctx, change, problem } from './context.js';
import { INITRAMFS_HOOK_PATH, initramfsModulesFile, initramfsPath, mkinitcpioConf } from './layout.js';
import type { Resource } from './resource.js';
import { CHECK_FILE, INITRAMFS_HOOK, sh } from './scripts.js';

/** The tool the kernelfile asks for, or the host's own; records a problem when there is none. */
export function chooseTool(ctx: Ctx): InitramfsTool | null {
  const { d, f } = ctx;
  const g = d.initramfs.generator;
  if (g === 'none') return null;
  if (g === 'auto') {
    if (f.initramfs.tool) return f.initramfs.tool;
    problem(
      ctx,
      'no-initramfs-tool',
      `${f.host} has no initramfs generator (update-initramfs, dracut or mkinitcpio)`,
      'install one (apt-get install initramfs-tools), or set `initramfs.generator: none` if the kernel boots without one',
    );
    return null;
  }
  if (!f.initramfs.available.some((a) => a.tool === g)) {
    problem(
      ctx,
      'no-initramfs-tool',
      `the kernelfile asks for initramfs.generator: ${g}, which ${f.host} does not have`,
      `install ${g} on the host, or use \`generator: auto\` to use the host's own (${f.initramfs.tool ?? 'none found'})`,
    );
    return null;
  }
  return g;
}

function makeSteps(ctx: Ctx, tool: InitramfsTool, exists: boolean): Step[] {
  const { d, sudo } = ctx;
  const r = d.release;
  const image = initramfsPath(tool, r);
  const mods = d.initramfs.modules;
  const steps: Step[] = [];
  if (tool === 'initramfs-tools') {
    steps.push(
      {
        kind: 'write',
        title: `write ${INITRAMFS_HOOK_PATH}`,
        path: INITRAMFS_HOOK_PATH,
        content: INITRAMFS_HOOK,
        mode: 0o755,
        sudo,
      },
      {
        kind: 'write',
        title: `write ${initramfsModulesFile(r)}`,
        path: initramfsModulesFile(r),
        content: mods.map((m) => `${m}\n`).join(''),
        mode: 0o644,
        sudo,
      },
      {
        kind: 'run',
        title: `update-initramfs ${exists ? '-u' : '-c'} -k ${r}`,
        argv: ['update-initramfs', exists ? '-u' : '-c', '-k', r],
        sudo,
      },
    );
  } else if (tool === 'dracut') {
    const add = mods.length ? ['--add-drivers', mods.join(' ')] : [];
    steps.push({
      kind: 'run',
      title: `dracut --kver ${r}`,
      argv: ['dracut', '--force', ...add, '--kver', r, image],
      sudo,
    });
  } else {
    const conf = mkinitcpioConf(r);
    steps.push(
      {
        kind: 'write',
        title: `write ${conf}`,
        path: conf,
        content: `# Written by kernelfile: the host's mkinitcpio.conf plus the kernelfile's modules for ${r}.\n. /etc/mkinitcpio.conf\nMODULES+=(${mods.join(' ')})\n`,
        mode: 0o644,
        sudo,
      },
      {
        kind: 'run',
        title: `mkinitcpio -k ${r}`,
        argv: ['mkinitcpio', '-c', conf, '-k', r, '-g', image],
        sudo,
      },
    );
  }
  steps.push({ kind: 'run', title: `check ${image}`, argv: sh(CHECK_FILE, image, 'the initramfs'), sudo });
  return steps;
}

/** The generator that makes an image at this path (both dracut and mkinitcpio write initramfs-REL.img). */
function generatorOf(path: string, release: string): string | null {
  if (path === initramfsPath('initramfs-tools', release)) return 'initramfs-tools';
  if (path === initramfsPath('dracut', release)) return 'dracut or mkinitcpio';
  return null;
}

function initramfsChanges(ctx: Ctx, upstream: readonly Change[]): PlannedChange[] {
  const { d } = ctx;
  const tool = chooseTool(ctx);
  ctx.tool = tool;
  if (!tool) return [];
  const r = d.release;
  const image = initramfsPath(tool, r);
  const have = ctx.installed?.initramfs ?? null;
  const exists = have === image;
  const changed = upstream.filter((c) => c.action !== 'no-op');
  const recorded = ctx.receipt?.data.initramfsModules ?? [];
  const sameModules = ctx.receipt !== undefined && recorded.join(' ') === d.initramfs.modules.join(' ');
  const modules: AttributeChange[] =
    ctx.receipt !== undefined && !sameModules
      ? [{ name: 'modules', before: [...recorded], after: [...d.initramfs.modules] }]
      : [];
  const base = {
    address: { kind: 'initramfs', release: r } as const,
    after: image,
    dependsOn: upstream.map((c) => c.id),
  };
  // Another generator's image for the release (initrd.img-REL where dracut writes initramfs-REL.img):
  // the new generator makes its own; the old image stays until the release is removed.
  if (!exists && have !== null) {
    const was = generatorOf(have, r);
    return [
      change({
        ...base,
        action: 'update',
        before: have,
        reason: `${tool} makes it; ${have} was made by ${was ?? 'another generator'}`,
        attributes: [
          ...(was !== tool ? [{ name: 'generator', before: was, after: tool }] : []),
          { name: 'image', before: have, after: image },
          ...modules,
        ],
        steps: makeSteps(ctx, tool, false),
      }),
    ];
  }
  if (!exists)
    return [
      change({
        ...base,
        action: 'create',
        before: null,
        reason: `${tool} makes it`,
        steps: makeSteps(ctx, tool, false),
      }),
    ];
  if (changed.length || !sameModules)
    return [
      change({
        ...base,
        action: 'update',
        before: image,
        reason: changed.length
          ? `regenerated: ${changed.map((c) => c.id).join(', ')} change${changed.length === 1 ? 's' : ''}`
          : `regenerated: initramfs.modules is now [${d.initramfs.modules.join(', ')}]`,
        attributes: modules,
        steps: makeSteps(ctx, tool, true),
      }),
    ];
  return [change({ ...base, action: 'no-op', before: image, reason: 'present', dependsOn: [] })];
}

export const initramfs: Resource = {
  name: 'initramfs',
  order: 30,
  installs: true,
  plan: initramfsChanges,
};
