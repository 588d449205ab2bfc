/**
 * The kernelfile command line: the only place that reads argv, writes to the console and exits.
 * Commands are loaded lazily, so `kernelfile validate` does not pay for ssh2 or listr2.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { describe } from '../engine/errors.js';
import { KERNELFILE_VERSION } from '../engine/version.js';
import { wantColor } from '../render/style.js';
import { addControlPersist, addHostOptions, type HostFlags, requireInventory } from './host-options.js';
import type { ExitCode, Io } from './io.js';
import { failureOf, JSON_COMMANDS, printJsonError } from './json-error.js';

function makeIo(): Io {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    color: wantColor(process.stdout.isTTY, process.env),
    cwd: process.cwd(),
    env: process.env,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    ask: async (question) => {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/** The options given on the command line, not left at their defaults (a saved plan yields only to these). */
function givenOptions(cmd: Command): string[] {
  return cmd.options.map((o) => o.attributeName()).filter((k) => cmd.getOptionValueSource(k) === 'cli');
}

/** Fleet options: the hosts of an Ansible inventory instead of one --host. */
function addLockOptions(cmd: Command): Command {
  return cmd
    .option(
      '--locked',
      'refuse to go on when the lock file (kernelfile.lock beside the kernelfile) is missing or anything it records resolved differently (for CI)',
    )
    .option(
      '--update-lock',
      'write what the kernelfile resolves to now into its lock file, differences accepted',
    );
}

function addFleetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--inventory <file>',
      'an Ansible inventory (YAML or INI, with its group_vars/ and host_vars/): every host (or those --limit selects), each with its `kernelfile` var',
    )
    .option(
      '--limit <pattern>',
      'Ansible host pattern: names, groups, globs, ~regex, `a:b` union, `&g` intersection, `!g` exclusion',
    )
    .option('--parallel <n>', 'hosts worked on at once, one connection each (default 20)');
}

/** `--config-diff` of plan and apply: how much of the Kconfig difference the printed plan shows. */
function configDiffOption(): Option {
  return new Option(
    '--config-diff <mode>',
    "Kconfig difference against the kernelfile's build installed on the host (else the running kernel): counts and requested options, every option (requested first), or none",
  )
    .choices(['summary', 'full', 'none'])
    .default('summary');
}

export function buildProgram(io: Io, done: (code: ExitCode) => void): Command {
  const program = new Command('kernelfile')
    .description(
      'Declarative provisioner for Linux kernels: build, install, DKMS, initramfs and boot entries from one YAML file.',
    )
    .version(KERNELFILE_VERSION, '-V, --version')
    .option('--no-color', 'never colour the output (NO_COLOR is honoured too)')
    .option(
      '-v, --verbose',
      'each command run on a host, its exit code and time (-vv: and its output)',
      (_, n: number) => n + 1,
      0,
    )
    .option('--debug', 'a stack trace with every error')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .hook('preAction', (cmd) => {
      const o = cmd.opts() as { color?: boolean; verbose?: number; debug?: boolean };
      if (o.color === false) io.color = false;
      io.debug = o.debug === true;
      io.verbose = o.verbose ?? 0;
      // Live progress would redraw over the command lines: plain progress lines instead.
      if (io.verbose > 0) io.stderrIsTTY = false;
    });

  program
    .command('validate')
    .description(
      'check a kernelfile against the schema and for problems the schema cannot see; exit 1 on any error',
    )
    .argument('[file]', 'the kernelfile (`-` reads standard input)', 'kernelfile.yaml')
    .option('--json', 'print the diagnostics as JSON (format documented in docs/json.md)')
    .option('--strict', 'treat warnings as errors')
    .action(async (file: string, opts: { json?: boolean; strict?: boolean }) => {
      const { run } = await import('./commands/validate.js');
      done(await run(file, opts, io));
    });

  addControlPersist(
    addHostOptions(
      program
        .command('facts')
        .description(
          'gather what kernelfile knows about a host (kernels, config, DKMS, initramfs, boot loader, space, Secure Boot) in one round trip',
        ),
    ),
  )
    .option('--json', 'print every fact as JSON')
    .option(
      '--sudo',
      'gather as root with `sudo -n` (for a non-root SSH user; without it, files only root can read are listed as unreadable)',
    )
    .action(async (opts: HostFlags & { json?: boolean; sudo?: boolean }) => {
      const { run } = await import('./commands/facts.js');
      done(await run(opts, io));
    });

  const buildCmd = addHostOptions(
    program
      .command('build')
      .description(
        'build the kernel a kernelfile declares, once per distinct build (content-addressed artifacts in the cache)',
      ),
  )
    .argument('[file]', 'the kernelfile', 'kernelfile.yaml')
    .option(
      '--config-only',
      'stop after the Kconfig resolution: report dropped values and the build id, never compile',
    )
    .option(
      '--arch <machine>',
      'target architecture as `uname -m` names it (default: kernel.arch, else this machine)',
    )
    .option(
      '--check-reproducible',
      'build a second time in another directory, later, with another umask, time zone and locale, and compare every artifact bit for bit (exit 1 when any differs)',
    )
    .option(
      '--clean',
      'compile in a fresh object tree: not seeded from the closest earlier build (which recompiles only what the change touches)',
    )
    .option('--json', 'print the result as JSON');
  addLockOptions(buildCmd).action(
    async (file: string, opts: import('./commands/build.js').BuildFlags & HostFlags) => {
      const { run } = await import('./commands/build.js');
      done(await run(file, opts, io));
    },
  );

  const lockCmd = addHostOptions(
    program
      .command('lock')
      .description(
        'write kernelfile.lock: what the kernelfile resolves to (source, patches, config files and modules with their digests, the toolchain, each build id); commit it with the kernelfile',
      ),
  )
    .argument(
      '[file]',
      'the kernelfile (default ./kernelfile.yaml; with --inventory, for hosts without a `kernelfile` var)',
    )
    .option('--arch <machine>', 'target architecture (default: kernel.arch, else this machine)');
  addFleetOptions(lockCmd).action(
    async (file: string | undefined, opts: import('./commands/lock.js').LockCommandFlags & HostFlags) => {
      requireInventory(opts);
      const { run } = await import('./commands/lock.js');
      done(await run(file, opts, io));
    },
  );

  addHostOptions(
    program
      .command('verify')
      .description(
        'boot the built kernel under QEMU with its modules and the DKMS modules, and check it from the console (builds first if needed)',
      ),
  )
    .argument('[file]', 'the kernelfile', 'kernelfile.yaml')
    .addOption(
      new Option('--accel <accel>', 'QEMU accelerator: tcg, kvm, or auto (KVM when /dev/kvm works, else TCG)')
        .choices(['auto', 'kvm', 'tcg'])
        .default('tcg'),
    )
    .option('--timeout <seconds>', 'limit for each boot (default 120)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        file: string,
        opts: { accel?: 'auto' | 'kvm' | 'tcg'; timeout?: string; json?: boolean } & HostFlags,
      ) => {
        const { run } = await import('./commands/verify.js');
        done(await run(file, opts, io));
      },
    );

  const planCmd = addHostOptions(
    program
      .command('plan')
      .description(
        'show what apply would change on a host (Terraform-style), including the Kconfig difference; never changes the host',
      ),
  )
    .argument(
      '[file]',
      'the kernelfile (default ./kernelfile.yaml; with --inventory, for hosts without a `kernelfile` var)',
    )
    .addOption(
      new Option(
        '--format <format>',
        'output: text (default), json (documented in docs/json.md) or markdown (a pull-request comment)',
      ).choices(['text', 'json', 'markdown']),
    )
    .option('--json', 'print the plan as JSON: the same as --format json')
    .option(
      '--out <file>',
      "save the plan (one host's or the inventory's, with how to reach each host), for `kernelfile apply FILE` to apply exactly it",
    )
    .option(
      '--detailed-exitcode',
      'exit 0 when there is nothing to change, 2 when there are changes, 1 on error',
    )
    .addOption(configDiffOption())
    .option(
      '--mok-password-file <file>',
      'the one-time password for enrolling the signing certificate as a Machine Owner Key (first line; the MOK manager asks for it on the console at the next boot)',
    )
    .option('--sudo', 'gather facts as root with `sudo -n` (a non-root SSH user)');
  addLockOptions(planCmd);
  addControlPersist(planCmd);
  addFleetOptions(planCmd).action(
    async (file: string | undefined, opts: import('./commands/plan.js').PlanCommandFlags & HostFlags) => {
      requireInventory(opts);
      const { run } = await import('./commands/plan.js');
      done(await run(file, opts, io));
    },
  );

  const applyCmd = addHostOptions(
    program
      .command('apply')
      .description(
        'converge a host to the kernelfile: build once, install, DKMS, initramfs, boot entries, default; a second apply changes nothing',
      ),
  )
    .argument(
      '[file|plan]',
      'the kernelfile, or a plan saved with `plan --out`: its hosts and how to reach them come from it; a host whose plan is stale is refused',
      'kernelfile.yaml',
    )
    .option('-y, --yes', 'apply without asking (required when standard input is not a terminal)')
    .addOption(configDiffOption())
    .option(
      '--reboot',
      'reboot an SSH host into the new kernel (one-time boot), wait for it, check `uname -r`, then make it the default',
    )
    .option('--reboot-timeout <seconds>', 'how long --reboot waits for the host to come back (default 600)')
    .option(
      '--retry-trial',
      'arm the trial boot again although the last trial of this kernel and entry failed (the plan refuses otherwise)',
    )
    .option(
      '--lock-timeout <seconds>',
      'wait this long for another apply to the same host to finish (default 0: fail at once, naming it)',
    )
    .option('--sudo', 'gather facts as root with `sudo -n` (a non-root SSH user; changes always run as root)')
    .option(
      '--serial <n|p%>',
      'with --inventory: apply in batches of this many hosts (or percent); the first batch is the canary',
    )
    .option(
      '--max-fail <p%>',
      'with --inventory: stop the rollout once more than this share of the hosts failed',
    )
    .option(
      '--mok-password-file <file>',
      'the one-time password for enrolling the signing certificate as a Machine Owner Key (first line; the MOK manager asks for it on the console at the next boot)',
    );
  addLockOptions(applyCmd);
  addFleetOptions(applyCmd).action(
    async (
      file: string | undefined,
      opts: import('./commands/apply.js').ApplyFlags & HostFlags,
      cmd: Command,
    ) => {
      // --serial and --max-fail also batch the hosts of a saved plan: apply checks them there.
      requireInventory({ ...opts, serial: undefined, maxFail: undefined });
      const { run } = await import('./commands/apply.js');
      done(await run(file, { ...opts, given: givenOptions(cmd) }, io));
    },
  );

  const rollbackCmd = addHostOptions(
    program
      .command('rollback')
      .description(
        'make the previous kept kernel of the kernelfile (or --to RELEASE) the default again; with --reboot, boot it once first and make it the default only once it is up',
      ),
  )
    .argument('[file]', 'the kernelfile whose kernels to roll back', 'kernelfile.yaml')
    .option('--to <release>', 'the kernel to roll back to (any kernel with a boot entry on the host)')
    .option('-y, --yes', 'roll back without asking (required when standard input is not a terminal)')
    .option(
      '--reboot',
      'reboot into it (one-time boot), wait, check `uname -r` and the health check, then make it the default',
    )
    .option('--reboot-timeout <seconds>', 'how long --reboot waits for the host to come back (default 600)')
    .option(
      '--lock-timeout <seconds>',
      'wait this long for another apply to the same host to finish (default 0)',
    )
    .option('--sudo', 'gather facts as root with `sudo -n` (a non-root SSH user; changes always run as root)')
    .option('--serial <n|p%>', 'with --inventory: roll back in batches of this many hosts (or percent)')
    .option('--max-fail <p%>', 'with --inventory: stop once more than this share of the hosts failed');
  addFleetOptions(rollbackCmd).action(
    async (
      file: string | undefined,
      opts: import('./commands/apply.js').ApplyFlags & HostFlags & { to?: string },
    ) => {
      requireInventory(opts);
      const { run } = await import('./commands/apply.js');
      done(await run(file, { ...opts, rollback: opts.to === undefined ? {} : { to: opts.to } }, io));
    },
  );

  addFleetOptions(
    addControlPersist(
      addHostOptions(
        program
          .command('status')
          .description(
            'where each host stands against its kernelfile: converged, changes pending, installed-not-booted, booted-not-default, drifted, unreachable (exit code per state)',
          ),
      ),
    ),
  )
    .argument(
      '[file]',
      'the kernelfile (default ./kernelfile.yaml; with --inventory, for hosts without a `kernelfile` var)',
    )
    .option('--json', 'print the states as JSON')
    .option('--sudo', 'gather facts as root with `sudo -n` (a non-root SSH user)')
    .action(
      async (file: string | undefined, opts: import('./commands/status.js').StatusFlags & HostFlags) => {
        requireInventory(opts);
        const { run } = await import('./commands/status.js');
        done(await run(opts.inventory ? file : (file ?? 'kernelfile.yaml'), opts, io));
      },
    );

  addHostOptions(
    program
      .command('import')
      .description(
        "write a kernelfile that reproduces a host's running kernel (version, config, DKMS modules, boot entry), listing what it cannot know; never overwrites a file",
      ),
  )
    .option('--out <dir>', 'where to write kernelfile.yaml and the config file beside it', '.')
    .option('--force', 'replace files that are there already')
    .option('--name <name>', "the kernelfile's name (default: from the host's name)")
    .option(
      '--source <path>',
      'a kernel source tarball or tree on this machine (default: a kernel.org URL to confirm)',
    )
    .option('--adopt', 'also write a receipt for the running kernel on the host, so plans compare with it')
    .option('--sudo', 'gather facts as root with `sudo -n` (a non-root SSH user; --adopt writes as root)')
    .action(async (opts: import('./commands/import.js').ImportFlags) => {
      const { run } = await import('./commands/import.js');
      done(await run(opts, io));
    });

  program
    .command('inventory')
    .description(
      'list the hosts of an Ansible inventory (YAML or INI, with its group_vars/ and host_vars/) as kernelfile reaches them: address, key, sudo, kernelfile',
    )
    .argument('<file>', 'the inventory')
    .option(
      '--limit <pattern>',
      'Ansible host pattern: names, groups, globs, ~regex, `a:b` union, `&g` intersection, `!g` exclusion',
    )
    .option(
      '--json',
      'print the hosts as JSON, with the shape of `ansible-inventory --list` under `ansible` (docs/json.md)',
    )
    .action(async (file: string, opts: import('./commands/inventory.js').InventoryFlags) => {
      const { run } = await import('./commands/inventory.js');
      done(await run(file, opts, io));
    });

  program
    .command('keygen')
    .description(
      'create a key pair for signing kernels and modules, suitable for Machine Owner Key (MOK) enrolment; never overwrites a key',
    )
    .option('--out <dir>', 'where to write mok.key (0600), mok.crt and mok.der', 'keys')
    .option('--cn <name>', "the certificate's subject CN", 'kernelfile module signing key')
    .option('--days <n>', 'validity in days (MOK and the kernel do not check expiry)', '36500')
    .addOption(new Option('--bits <n>', 'RSA key size').choices(['2048', '4096']).default('2048'))
    .option(
      '--passphrase-env <var>',
      "encrypt the key with the passphrase in this environment variable (the kernelfile's signing.passphraseEnv)",
    )
    .action(async (opts: import('./commands/keygen.js').KeygenFlags) => {
      const { run } = await import('./commands/keygen.js');
      done(await run(opts, io));
    });

  program
    .command('cache')
    .description(
      "remove from the controller's cache what no later run needs: object trees beyond build.keepObjectTrees per source, those of failed builds, logs and leftovers (never sources or artifacts)",
    )
    .addArgument(new Argument('<action>', 'prune').choices(['prune']))
    .option('--dry-run', 'say what would be removed and how much it frees; remove nothing')
    .option(
      '--keep-object-trees <n>',
      'object trees kept per kernel source, most recent first (default 3, as build.keepObjectTrees)',
    )
    .option(
      '--cache-dir <dir>',
      "the cache (default $XDG_CACHE_HOME/kernelfile; a kernelfile's build.cacheDir)",
    )
    .option('--json', 'print what was (or would be) removed as JSON')
    .action(async (action: string, opts: import('./commands/cache.js').CacheFlags) => {
      const { run } = await import('./commands/cache.js');
      done(await run(action, opts, io));
    });

  program
    .command('schema')
    .description('print the kernelfile JSON Schema (for editors), or the reference as Markdown')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'markdown']).default('json'))
    .option(
      '--write <file>',
      'write the JSON Schema to FILE in your project (for editor modelines), not stdout',
    )
    .action(async (opts: { format: 'json' | 'markdown'; write?: string }) => {
      const { run } = await import('./commands/schema.js');
      done(await run(opts, io));
    });

  program
    .command('completion')
    .description(
      'print the completion script of a shell (commands, options, kernelfiles, hosts, --limit names)',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('../render/completion.js');
      io.out(completionScript(shell));
      done(0);
    });
  return program;
}

/** The command of `argv` and whether it asked for JSON, as read before commander could (a usage error). */
function jsonRequest(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  const command = args.find((a) => !a.startsWith('-'));
  const format = args.indexOf('--format');
  const json =
    args.includes('--json') || args.includes('--format=json') || (format >= 0 && args[format + 1] === 'json');
  return command !== undefined && json && JSON_COMMANDS.has(command) ? command : undefined;
}

export async function main(argv: string[], io: Io = makeIo()): Promise<ExitCode> {
  let code: ExitCode = 0;
  // Under --json an error prints the error document on stdout, unless the command printed its own.
  let printed = false;
  const tracked: Io = {
    ...io,
    out: (t) => {
      printed = true;
      io.out(t);
    },
  };
  let jsonCommand: string | undefined;
  const program = buildProgram(tracked, (c) => {
    code = c;
  });
  program.hook('preAction', (_, action) => {
    const o = action.opts() as { json?: boolean; format?: string };
    if (JSON_COMMANDS.has(action.name()) && (o.json === true || o.format === 'json'))
      jsonCommand = action.name();
  });
  const [first, second] = argv.slice(2);
  if (first === '__complete') {
    // Each Tab of the completion scripts: only this, never a command's module.
    const { runComplete } = await import('./complete.js');
    runComplete(program, argv.slice(3), tracked);
    return 0;
  }
  // `help NAME` of no command is an unknown command (commander would print the main help and exit 0).
  const known = (n: string) => program.commands.some((c) => c.name() === n || c.aliases().includes(n));
  const args =
    first === 'help' && second !== undefined && !known(second)
      ? [...argv.slice(0, 2), ...argv.slice(3)]
      : argv;
  if (first === 'help' || args.includes('--help') || args.includes('-h')) {
    // Each command's help ends with its examples and exit codes (loaded only for a help).
    const { helpAfter } = await import('./help.js');
    for (const c of program.commands) c.addHelpText('after', helpAfter(c.name()));
  }
  try {
    await program.parseAsync(args);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors were already printed by commander.
      const command = e.exitCode === 0 ? undefined : (jsonCommand ?? jsonRequest(argv));
      if (command && !printed)
        printJsonError(tracked, command, { message: e.message.replace(/^error: /, '') });
      return e.exitCode === 0 ? 0 : 1;
    }
    const d = describe(e);
    if (jsonCommand && !printed) printJsonError(tracked, jsonCommand, failureOf(d));
    const debug = tracked.debug === true || Boolean(io.env.KERNELFILE_DEBUG);
    if (d.expected) {
      const details = d.details.length ? `${d.details.map((l) => `  | ${l}`).join('\n')}\n` : '';
      io.err(`${details}kernelfile: ${d.message}\n${d.hint ? `  hint: ${d.hint}\n` : ''}`);
    } else io.err(`kernelfile: internal error: ${d.message}\n`);
    if (debug) io.err(stackOf(e));
    else if (!d.expected)
      io.err('  this is a bug in kernelfile; run again with --debug for details and report it\n');
    return 1;
  }
}

/** An error's stack, and those of its causes. */
function stackOf(e: unknown, depth = 0): string {
  const err = e as Error;
  const own = `${err?.stack ?? String(e)}\n`;
  return err?.cause !== undefined && depth < 8 ? `${own}caused by: ${stackOf(err.cause, depth + 1)}` : own;
}

/** The entry point of bin/kernelfile.cjs. */
export async function runCli(): Promise<void> {
  process.exitCode = await main(process.argv);
  // Output to a pipe is written asynchronously: let it drain before exiting, or a large --json is cut.
  await Promise.all(
    [process.stdout, process.stderr].map((s) => new Promise<void>((res) => s.write('', () => res()))),
  );
  // Open handles (an SSH connection a command forgot) must not keep the CLI alive.
  process.exit();
}
