/**
 * DKMS preflight: what dkms will make of a module's dkms.conf for the NEW kernel, before anything is
 * built. dkms.conf is a bash fragment that dkms sources with `kernelver`, `arch`, `kernel_source_dir`
 * and its own globals set; real ones read `$kernel_source_dir/.config` and set BUILD_EXCLUSIVE_*
 * from it. When the kernel does not meet a BUILD_EXCLUSIVE_* directive dkms skips the module
 * (exit 77: "should not be built"), and `dkms autoinstall` says nothing about it: the plan reports it
 * instead.
 *
 * The evaluation is done by bash, with the code of dkms's own `read_conf`/`safe_source` (dkms 3.0.10,
 * line numbers of /usr/sbin/dkms in the script): the same subshell, the same `NAME[i]="value"`
 * round trip (values are expanded a second time and word-split, as in dkms), the same `=~` regex
 * matches and the same `grep -q -E "^CONFIG_X=[ym]"` against the kernel's .config. Nothing the conf
 * prints is evaluated in JS: the script prints NUL-separated key/value records.
 *
 * SECURITY (the controller trusts the kernelfile's repository, nothing else): a module with `path:`
 * has its dkms.conf from the user's own repository; it is evaluated on the controller, but in a
 * sandbox (evaluateDkmsConf): new network, pid, mount, ipc and uts namespaces through util-linux
 * `unshare` (no network, nothing it starts outlives it), the temp directory as a private /tmp,
 * /home, /root, /run and the user's home hidden, an empty environment (no HOME), a
 * time limit, file-size and memory limits, and as nobody with no_new_privs when kernelfile runs as
 * root (a user namespace otherwise). Without unshare it is not evaluated, and the plan says why.
 * A module with `installed: true` has its dkms.conf from the host (read by facts): that file is
 * the host's data and never runs on the controller; evaluateDkmsConfOnHost runs the same script
 * on the host through its transport (where dkms sources it as root anyway), as nobody when it can,
 * with the same limits, and parses its output with the same parser.
 *
 * Differences from dkms on the host, by design: the host's /etc/dkms/<module>*.conf overrides and
 * dkms's own environment are not there; kernel_source_dir is the temp directory (holding the new
 * kernel's .config and include/config/auto.conf), not /lib/modules/<kernelver>/build; a conf that
 * reads /lib/modules/$kernelver/... directly sees the controller's files (usually nothing). A syntax
 * error is reported (dkms would source the file up to the error and go on).
 * BUILD_EXCLUSIVE_KERNEL_MIN/_MAX are checked as dkms >= 3.1 does (3.0.x ignores them), and
 * OBSOLETE_BY as dkms 3.0.10's install does (it builds the module, then refuses to install it).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chown, mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileKind, MAX_DKMS_CONF_BYTES, readRegular } from '../compile/read-file.js';
import type { Transport } from '../host/transport.js';

export interface DkmsConfVars {
  packageName: string | null;
  packageVersion: string | null;
  /** BUILT_MODULE_NAME[n] after dkms's default (PACKAGE_NAME when there is one DEST_MODULE_LOCATION). */
  builtModules: string[];
  /** dkms 3.0.x: any non-empty AUTOINSTALL (even "no") makes autoinstall build the module. */
  autoinstall: boolean;
  /** The MAKE[n] dkms picks for this kernel (MAKE_MATCH), expanded; null: none (dkms's default make). */
  make: string | null;
  buildExclusive: {
    kernel: string | null;
    kernelMin: string | null;
    kernelMax: string | null;
    arch: string | null;
    config: string | null;
  };
}

export interface DkmsConfResult {
  /**
   * null when the conf could not be evaluated (syntax error, timeout): then `error` says why.
   * `error` can also be set with `vars` present: the conf was evaluated but dkms would refuse it
   * ("Bad conf file": no PACKAGE_NAME, no DEST_MODULE_LOCATION, …).
   */
  vars: DkmsConfVars | null;
  /**
   * Human requirements the new kernel does not meet, e.g. "requires CONFIG_ACPI, which is not set",
   * "requires a kernel matching ^5\\.(1[0-9]) (this kernel is 6.8.0)", "requires arch x86_64|i.86
   * (this kernel is aarch64)". Empty = buildable.
   */
  unmet: string[];
  error: string | null;
}

export interface DkmsConfInput {
  conf: string;
  /** Where the conf was read (for messages). */
  confFile: string;
  /** The new kernel's release string (`uname -r` once it runs). */
  kernelver: string;
  /** `uname -m` of the host: x86_64, aarch64, … (what dkms passes as $arch). */
  arch: string;
  /** The new kernel's effective .config. */
  configText: string;
  /** $module and $module_version as dkms sets them (the kernelfile's name and version); default ''. */
  module?: string;
  moduleVersion?: string;
  /** Default DKMS_CONF_TIMEOUT_MS. */
  timeoutMs?: number;
}

export const DKMS_CONF_TIMEOUT_MS = 5000;
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NOBODY = 65534;
const MAX_OUTPUT = 1024 * 1024;

/** argv: bash -c EVAL_SCRIPT kernelfile CONF KERNELVER ARCH KSRC MODULE MODULE_VERSION TMPDIR. */
const EVAL_SCRIPT = `
# kernelfile: evaluate one dkms.conf the way dkms's read_conf does, then check BUILD_EXCLUSIVE_*.
# argv: $1 dkms.conf  $2 kernelver  $3 arch  $4 kernel_source_dir  $5 module  $6 module_version
#       $7 a directory for temp files
# Output on stdout: NUL-terminated key/value pairs, ending with "done" "ok".
# Line numbers: /usr/sbin/dkms of dkms 3.0.10 (Debian) unless said otherwise.
shopt -s extglob # l.23: dkms sources dkms.conf with extglob on
umask 022
ulimit -c 0 2>/dev/null
ulimit -f 8192 2>/dev/null
ulimit -v 1048576 2>/dev/null

kf_out() { printf '%s\\0%s\\0' "$1" "$2"; }

kf_conf=$1 kf_tmp=$7

# A syntax error: dkms would source the commands before it and go on; we refuse the file.
if ! kf_syntax=$(bash -O extglob -n "$kf_conf" 2>&1); then
    kf_out syntax "$kf_syntax"
    kf_out done ok
    exit 0
fi

# l.28-41, plus BUILD_EXCLUSIVE_KERNEL_MIN/MAX (dkms >= 3.1.0, dkms.in l.31).
readonly dkms_conf_variables="CLEAN PACKAGE_NAME
   PACKAGE_VERSION POST_ADD POST_BUILD POST_INSTALL POST_REMOVE PRE_BUILD
   PRE_INSTALL BUILD_DEPENDS BUILD_EXCLUSIVE_KERNEL BUILD_EXCLUSIVE_ARCH
   BUILD_EXCLUSIVE_CONFIG BUILD_EXCLUSIVE_KERNEL_MIN BUILD_EXCLUSIVE_KERNEL_MAX
   build_exclude OBSOLETE_BY MAKE MAKE_MATCH
   PATCH PATCH_MATCH patch_array BUILT_MODULE_NAME
   built_module_name BUILT_MODULE_LOCATION built_module_location
   DEST_MODULE_NAME dest_module_name
   DEST_MODULE_LOCATION dest_module_location
   STRIP strip AUTOINSTALL NO_WEAK_MODULES
   SIGN_FILE MOK_SIGNING_KEY MOK_CERTIFICATE

   REMAKE_INITRD MODULES_CONF MODULES_CONF_OBSOLETES
   MODULES_CONF_ALIAS_TYPE MODULES_CONF_OBSOLETE_ONLY"

# The globals dkms has set when it sources a dkms.conf (l.2315-2358, read_arg --kernelsourcedir).
current_os=Linux
dkms_tree=/var/lib/dkms
source_tree=/usr/src
install_tree=/lib/modules
tmp_location=/tmp
module=$5
module_version=$6
kernel_source_dir=$4
ksourcedir_fromcli=true
kernel_config=$kernel_source_dir/.config
conf=''
die_is_fatal=yes

# l.162-176
VER() {
    echo $1 | sed -e 's:\\([^0-9]\\)\\([0-9]\\):\\1 \\2:g' \\
        -e 's:\\([0-9]\\)\\([^0-9]\\):\\1 \\2:g' \\
        -e 's:\\(.*\\): \\1 :' \\
        -e 's: \\([0-9]\\) : 00\\1 :g' \\
        -e 's: \\([0-9][0-9]\\) : 0\\1 :g' \\
        -e 's: ::g'
}

# l.411-441 (safe_source): source the file in a subshell, print every listed variable, element by
# element, as NAME[i]="value" (unquoted expansion inside eval: words are split, as dkms does), and
# source that in the caller. Values go through the shell a second time, exactly as in dkms.
kf_safe_source() {
    local to_source_file="$1"; shift
    declare -a -r export_envs=("$@")
    local tmpfile
    tmpfile=$(mktemp -p "$kf_tmp") || exit 3
    ( exec >"$tmpfile"
    . "$to_source_file" >/dev/null
    for _export_env in "\${export_envs[@]}"; do
        # dkms: for _i in $(eval echo \\\${!$_export_env[@]}) -- the same indices, without a fork each
        eval "_kf_idx=(\\"\\\${!$_export_env[@]}\\")"
        for _i in "\${_kf_idx[@]}"; do
            eval echo '$_export_env[$_i]=\\"\${'$_export_env'[$_i]}\\"'
        done
    done
    )
    . "$tmpfile"
    rm -f "$tmpfile"
}

kf_invalid() { kf_out invalid "$1"; return_value=1; }

# l.443-665 (read_conf), keeping what decides whether dkms builds the module and what it builds.
kf_read_conf() {
    # $1 kernel version, $2 arch
    local return_value=0
    local read_conf_file="$kf_conf"
    local kernelver="$1"
    local arch="$2"

    for var in $dkms_conf_variables; do
        unset $var
    done
    # l.467-471; the /etc/dkms/<module>*.conf overrides live on the host: not read.
    kf_safe_source "$read_conf_file" $dkms_conf_variables

    package_name="$PACKAGE_NAME"
    package_version="$PACKAGE_VERSION"
    obsolete_by="$OBSOLETE_BY"

    # l.504-582: one record per index of the longest naming array.
    local index array_size=0 s
    for s in \${#BUILT_MODULE_NAME[@]} \\
        \${#BUILT_MODULE_LOCATION[@]} \\
        \${#DEST_MODULE_NAME[@]} \\
        \${#DEST_MODULE_LOCATION[@]}; do
        ((s > array_size)) && array_size=$s
    done
    for ((index=0; index < array_size; index++)); do
        built_module_name[$index]=\${BUILT_MODULE_NAME[$index]}
        dest_module_name[$index]=\${DEST_MODULE_NAME[$index]}
        dest_module_location[$index]=\${DEST_MODULE_LOCATION[$index]}
        [[ ! \${built_module_name[$index]} ]] && \\
            ((\${#DEST_MODULE_LOCATION[@]} == 1)) && \\
            built_module_name[$index]=$PACKAGE_NAME
        [[ ! \${dest_module_name[$index]} ]] && \\
            dest_module_name[$index]=\${built_module_name[$index]}
        [[ ! \${built_module_name[$index]} ]] && \\
            kf_invalid "No 'BUILT_MODULE_NAME' directive specified for record #$index."
        case \${built_module_name[$index]} in
            *.o|*.ko) kf_invalid "'BUILT_MODULE_NAME' directive ends in '.o' or '.ko' in record #$index." ;;
        esac
        case \${dest_module_name[$index]} in
            *.o|*.ko) kf_invalid "'DEST_MODULE_NAME' directive ends in '.o' or '.ko' in record #$index." ;;
        esac
        case \${DEST_MODULE_LOCATION[$index]} in
            '') kf_invalid "No 'DEST_MODULE_LOCATION' directive specified for record #$index." ;;
            /kernel*|/updates*|/extra*) ;;
            *) kf_invalid "Directive 'DEST_MODULE_LOCATION' does not begin with '/kernel', '/updates', or '/extra' in record #$index." ;;
        esac
        [[ \${built_module_name[$index]} ]] && kf_out built "\${built_module_name[$index]}"
    done

    # l.586-591: the make command for this kernel (before dkms's defaults and compiler flags).
    local make_command=''
    [[ \${MAKE_MATCH[0]} ]] || make_command="\${MAKE[0]}"
    for ((index=0; index < \${#MAKE[@]}; index++)); do
    [[ \${MAKE[$index]} && \${MAKE_MATCH[$index]} && \\
        $1 =~ \${MAKE_MATCH[$index]} ]] && \\
        make_command="\${MAKE[$index]}"
    done

    # l.623-633: build_exclude, one record per directive the kernel does not meet.
    if [[ $BUILD_EXCLUSIVE_KERNEL && ! $1 =~ $BUILD_EXCLUSIVE_KERNEL ]]; then
        [[ $1 =~ $BUILD_EXCLUSIVE_KERNEL ]]
        if (($? == 2)); then kf_out badre-kernel "$BUILD_EXCLUSIVE_KERNEL"
        else kf_out unmet-kernel "$BUILD_EXCLUSIVE_KERNEL"; fi
    fi
    if [[ $BUILD_EXCLUSIVE_ARCH && ! $2 =~ $BUILD_EXCLUSIVE_ARCH ]]; then
        [[ $2 =~ $BUILD_EXCLUSIVE_ARCH ]]
        if (($? == 2)); then kf_out badre-arch "$BUILD_EXCLUSIVE_ARCH"
        else kf_out unmet-arch "$BUILD_EXCLUSIVE_ARCH"; fi
    fi
    if [[ $BUILD_EXCLUSIVE_CONFIG && -e $kernel_source_dir/.config ]]; then
        local kconf
        for kconf in $BUILD_EXCLUSIVE_CONFIG ; do
            case "$kconf" in
                !*) grep -q -E "^\${kconf#!}=[ym]" "$kernel_source_dir/.config" && kf_out unmet-notconfig "\${kconf#!}" ;;
                *)  grep -q -E "^\${kconf}=[ym]" "$kernel_source_dir/.config" || kf_out unmet-config "$kconf" ;;
            esac
        done
    fi
    # dkms >= 3.1.0 (dkms.in v3.1.0 l.675-676); dkms 3.0.x ignores these two.
    [[ $BUILD_EXCLUSIVE_KERNEL_MIN && "$(VER "$1")" < "$(VER "$BUILD_EXCLUSIVE_KERNEL_MIN")" ]] && \\
        kf_out unmet-min "$BUILD_EXCLUSIVE_KERNEL_MIN"
    [[ $BUILD_EXCLUSIVE_KERNEL_MAX && "$(VER "$1")" > "$(VER "$BUILD_EXCLUSIVE_KERNEL_MAX")" ]] && \\
        kf_out unmet-max "$BUILD_EXCLUSIVE_KERNEL_MAX"

    # OBSOLETE_BY: l.734-762 (check_version_sanity, called by install with $3=$obsolete_by, l.1229):
    # dkms builds the module but refuses to install it.
    if [[ $obsolete_by ]]; then
        local -a obs=(\${obsolete_by//-/ })
        local -a my=(\${1//-/ })
        local obsolete=0
        if [[ \${obs} && \${my} ]]; then
            if [[ $(VER \${obs}) == $(VER \${my}) ]]; then
                if [[ ! \${obs[1]} ]]; then
                    obsolete=1
                elif [[ $(VER \${my[1]}) > $(VER \${obs[1]}) ]]; then
                    obsolete=1
                elif [[ $(VER \${my[1]}) = $(VER \${obs[1]}) ]]; then
                    obsolete=1
                fi
            elif [[ $(VER \${my}) > $(VER \${obs}) ]]; then
                obsolete=1
            fi
        fi
        ((obsolete == 1)) && kf_out unmet-obsolete "$obsolete_by"
    fi

    # l.636-652
    ((\${#dest_module_location[@]} == 0)) && kf_invalid "No 'DEST_MODULE_LOCATION' directive specified."
    [[ ! $package_name ]] && kf_invalid "No 'PACKAGE_NAME' directive specified."
    [[ ! $package_version ]] && kf_invalid "No 'PACKAGE_VERSION' directive specified."

    [[ $package_name ]] && kf_out name "$package_name"
    [[ $package_version ]] && kf_out version "$package_version"
    # l.2225: autoinstall skips a module whose AUTOINSTALL is empty (any other value counts).
    [[ $AUTOINSTALL ]] && kf_out autoinstall "$AUTOINSTALL"
    [[ $make_command ]] && kf_out make "$make_command"
    [[ $BUILD_EXCLUSIVE_KERNEL ]] && kf_out be-kernel "$BUILD_EXCLUSIVE_KERNEL"
    [[ $BUILD_EXCLUSIVE_KERNEL_MIN ]] && kf_out be-kernel-min "$BUILD_EXCLUSIVE_KERNEL_MIN"
    [[ $BUILD_EXCLUSIVE_KERNEL_MAX ]] && kf_out be-kernel-max "$BUILD_EXCLUSIVE_KERNEL_MAX"
    [[ $BUILD_EXCLUSIVE_ARCH ]] && kf_out be-arch "$BUILD_EXCLUSIVE_ARCH"
    [[ $BUILD_EXCLUSIVE_CONFIG ]] && kf_out be-config "$BUILD_EXCLUSIVE_CONFIG"
    return 0
}

kf_read_conf "$2" "$3"
kf_out done ok
`;

/**
 * Sets up the sandbox inside fresh namespaces (run by `unshare`, as root of its mount namespace),
 * then execs the evaluation. argv: $1 the work directory (dkms.conf, build/, tmp/), $2 the user's
 * home, then the command to exec. The work directory becomes the private /tmp; /home, /root, /run,
 * /var/tmp and the user's home are hidden under empty read-only tmpfs mounts.
 */
const SANDBOX_SETUP = `
set -e
kf_w=$1 kf_home=$2
shift 2
mount --make-rprivate / 2>/dev/null || true
mount --bind "$kf_w" /tmp
for kf_d in /home /root /run /var/tmp "$kf_home"; do
    case $kf_d in ''|/|/tmp|/tmp/*) continue ;; esac
    [ -d "$kf_d" ] || continue
    mount -t tmpfs -o ro,nosuid,nodev,mode=755,size=4k kernelfile-empty "$kf_d"
done
[ -d /dev/shm ] && mount -t tmpfs -o nosuid,nodev,mode=1777,size=1m kernelfile-shm /dev/shm
cd /tmp/build
printf 'sandbox\\0ok\\0'
exec "$@"
`;

/**
 * Evaluate a repository module's dkms.conf for the new kernel as dkms would, and say which
 * BUILD_EXCLUSIVE_* it fails. It runs in a sandbox (see the header): new net, pid, mount, ipc and
 * uts namespaces (no network but a down loopback; everything it starts dies with it), a private
 * /tmp, no home, as nobody when kernelfile runs as root (a user namespace otherwise). Without
 * `unshare` (util-linux), or where namespaces are refused, it is not evaluated: the result's error
 * says so.
 */
export async function evaluateDkmsConf(input: DkmsConfInput): Promise<DkmsConfResult> {
  const timeoutMs = input.timeoutMs ?? DKMS_CONF_TIMEOUT_MS;
  const dir = await mkdtemp(join(tmpdir(), 'kernelfile-dkms-'));
  try {
    const ksrc = join(dir, 'build');
    const tmp = join(dir, 'tmp');
    await mkdir(join(ksrc, 'include', 'config'), { recursive: true });
    await mkdir(tmp);
    await writeFile(join(ksrc, '.config'), input.configText);
    await writeFile(join(ksrc, 'include', 'config', 'auto.conf'), autoConf(input.configText));
    await writeFile(join(dir, 'dkms.conf'), input.conf);
    const failed = (why: string): DkmsConfResult => ({
      vars: null,
      unmet: [],
      error: `${input.confFile} could not be evaluated: ${why}`,
    });
    const unshare = await findTool('unshare');
    if (unshare === null) return failed(NO_SANDBOX('unshare (util-linux) is not installed'));
    const root = process.getuid?.() === 0;
    const setpriv = root ? await findTool('setpriv') : null;
    if (root && setpriv === null) return failed(NO_SANDBOX('setpriv (util-linux) is not installed'));
    // The work directory is the sandbox's /tmp: nobody must be able to use it.
    if (root) await chownTree(dir, NOBODY);
    const drop = setpriv
      ? [setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--no-new-privs', '--']
      : [];
    const argv = [
      ...(root ? [] : ['--user', '--map-root-user']),
      '--net',
      '--pid',
      '--fork',
      '--kill-child',
      '--mount',
      '--mount-proc',
      '--ipc',
      '--uts',
      '--',
      'bash',
      '--noprofile',
      '--norc',
      '-c',
      SANDBOX_SETUP,
      'kernelfile',
      dir,
      homedir(),
      ...drop,
      'env',
      '-i',
      `PATH=${SANDBOX_PATH}`,
      'bash',
      '--noprofile',
      '--norc',
      '-c',
      EVAL_SCRIPT,
      'kernelfile',
      '/tmp/dkms.conf',
      input.kernelver,
      input.arch,
      '/tmp/build',
      input.module ?? '',
      input.moduleVersion ?? '',
      '/tmp/tmp',
    ];
    const outPath = join(dir, 'out');
    const errPath = join(dir, 'err');
    const out = await open(outPath, 'w', 0o600);
    const err = await open(errPath, 'w', 0o600);
    let child: ChildProcess;
    let exited: Promise<string>;
    try {
      child = spawn(unshare, argv, {
        // Its own process group, to end unshare (and, through --kill-child and the pid namespace,
        // everything in it) at the time limit; output to files (descriptors, not pipes), so that
        // nothing waits for a process left behind.
        cwd: dir,
        detached: true,
        stdio: ['ignore', out.fd, err.fd],
        env: { PATH: SANDBOX_PATH, LC_ALL: 'C' },
      });
      const c = child;
      exited = new Promise<string>((resolve) => {
        c.once('error', (e) => resolve(`cannot run unshare: ${e.message}`));
        c.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
      });
    } finally {
      await Promise.all([out.close(), err.close()]);
    }
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      exited,
      new Promise<string>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(child.pid);
          // 'exit' follows the kill; if it does not (a stuck process), do not wait for it.
          setTimeout(() => resolve('timeout'), 2000).unref();
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    killGroup(child.pid);
    if (timedOut)
      return failed(`it ran for more than ${timeoutMs / 1000} s (does it loop, or wait for something?)`);
    const stdout = await readBounded(outPath, MAX_OUTPUT);
    const stderr = await readBounded(errPath, MAX_OUTPUT);
    if (stdout === null) return failed('it printed too much');
    const rec = parseRecords(stdout);
    if (!stdout.startsWith('sandbox\0ok\0'))
      return failed(NO_SANDBOX(`unshare exited with ${exit}: ${tailOf(stderr ?? '', '', '')}`));
    return finish(rec, stderr ?? '', exit, input, (s) => s.replaceAll('/tmp/dkms.conf', input.confFile));
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

const NO_SANDBOX = (why: string) =>
  `kernelfile evaluates a repository module's dkms.conf only in a sandbox (util-linux unshare: network, pid and mount namespaces), and ${why}; run kernelfile as root, or where unprivileged user namespaces are allowed (sysctl kernel.unprivileged_userns_clone=1), with util-linux installed`;

/** The script's records → the result; `clean` puts the conf's real name in bash's messages. */
function finish(
  rec: Records | null,
  stderr: string,
  exit: string,
  input: DkmsConfInput,
  clean: (s: string) => string,
): DkmsConfResult {
  if (rec === null) {
    const tail = clean(tailOf(stderr, '', ''));
    return {
      vars: null,
      unmet: [],
      error: `${input.confFile} could not be evaluated: bash exited with ${exit}${tail ? `: ${tail}` : ''}`,
    };
  }
  const syntax = rec.get('syntax');
  if (syntax) {
    const msg = clean(syntax[0] as string)
      .trim()
      .split('\n');
    return { vars: null, unmet: [], error: `${input.confFile} is not valid bash: ${msg.join(' ')}` };
  }
  return interpret(rec, input);
}

function tailOf(stderr: string, from: string, to: string): string {
  return stderr.slice(-4096).trim().split('\n').slice(-3).join(' ').replaceAll(from, to);
}

/**
 * Run on the host (argv: $1 bytes of dkms.conf on stdin, then the .config; $2 time limit in
 * seconds; $3 EVAL_SCRIPT; $4 kernelver; $5 arch; $6 module; $7 module_version): a temp directory,
 * the evaluation as nobody when root (setpriv), an empty environment, a time limit, its process
 * group killed afterwards, the temp directory removed. The host's dkms would source the same file
 * as root: this is what it runs anyway, with less.
 */
const HOST_WRAPPER = `
umask 077
kf_d=$(mktemp -d -t kernelfile-dkms.XXXXXXXXXX) || exit 3
trap 'rm -rf "$kf_d"' EXIT
mkdir -p "$kf_d/build/include/config" "$kf_d/tmp" || exit 3
head -c "$1" >"$kf_d/dkms.conf" || exit 3
cat >"$kf_d/build/.config" || exit 3
{ printf '#\\n# Automatically generated file; DO NOT EDIT.\\n#\\n'
  grep -E '^CONFIG_[A-Za-z0-9_]+=' "$kf_d/build/.config"; } >"$kf_d/build/include/config/auto.conf"
kf_drop=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    chown -R ${NOBODY}:${NOBODY} "$kf_d" || exit 3
    kf_drop=(setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups --no-new-privs --)
fi
chmod 700 "$kf_d"
cd "$kf_d/build" || exit 3
timeout -k 1 "$2" "\${kf_drop[@]}" env -i PATH=${SANDBOX_PATH} \\
    bash --noprofile --norc -c "$3" kernelfile "$kf_d/dkms.conf" "$4" "$5" "$kf_d/build" "$6" "$7" "$kf_d/tmp" \\
    </dev/null >"$kf_d/out" 2>"$kf_d/err" &
kf_pid=$!
wait "$kf_pid"
kf_rc=$?
# timeout leads its own process group: end whatever the conf left in it.
kill -KILL -- "-$kf_pid" 2>/dev/null
cd / || exit 3
head -c ${MAX_OUTPUT + 1} "$kf_d/out"
tail -c 4096 "$kf_d/err" >&2
exit "$kf_rc"
`;

/**
 * Evaluate a host's dkms.conf (an `installed: true` module's, read by facts) ON THE HOST, through
 * its transport: the controller never runs a host's file. Same script, same limits, same parser.
 */
export async function evaluateDkmsConfOnHost(
  transport: Pick<Transport, 'run' | 'name'>,
  input: DkmsConfInput,
): Promise<DkmsConfResult> {
  const timeoutMs = input.timeoutMs ?? DKMS_CONF_TIMEOUT_MS;
  const conf = Buffer.from(input.conf, 'utf8');
  const r = await transport.run(
    [
      'bash',
      '--noprofile',
      '--norc',
      '-c',
      HOST_WRAPPER,
      'kernelfile',
      String(conf.length),
      String(Math.ceil(timeoutMs / 1000)),
      EVAL_SCRIPT,
      input.kernelver,
      input.arch,
      input.module ?? '',
      input.moduleVersion ?? '',
    ],
    { stdin: Buffer.concat([conf, Buffer.from(input.configText, 'utf8')]), timeoutMs: timeoutMs + 30_000 },
  );
  const failed = (why: string): DkmsConfResult => ({
    vars: null,
    unmet: [],
    error: `${input.confFile} could not be evaluated on ${transport.name}: ${why}`,
  });
  if (r.code === 124 || r.code === 137)
    return failed(`it ran for more than ${timeoutMs / 1000} s (does it loop, or wait for something?)`);
  if (r.stdout.length > MAX_OUTPUT) return failed('it printed too much');
  return finish(parseRecords(r.stdout), r.stderr, `code ${r.code}`, input, (s) =>
    s.replace(/\S*kernelfile-dkms\.[A-Za-z0-9]{10}\/dkms\.conf/g, input.confFile),
  );
}

/** A file of ours, at most `max` bytes (null when larger). */
async function readBounded(path: string, max: number): Promise<string | null> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(max + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got > max ? null : buf.subarray(0, got).toString('utf8');
  } finally {
    await fh.close();
  }
}

async function findTool(name: string): Promise<string | null> {
  for (const d of SANDBOX_PATH.split(':')) {
    const p = join(d, name);
    if (
      await access(p, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return p;
  }
  return null;
}

type Records = Map<string, string[]>;

/** key\0value\0… ending with done\0ok\0; null when the end is missing (the script did not finish). */
function parseRecords(stdout: string): Records | null {
  const f = stdout.split('\0');
  if (f.at(-1) !== '') return null;
  f.pop();
  if (f.length % 2 !== 0 || f.at(-2) !== 'done' || f.at(-1) !== 'ok') return null;
  const out: Records = new Map();
  for (let i = 0; i < f.length - 2; i += 2) {
    const k = f[i] as string;
    const list = out.get(k) ?? [];
    list.push(f[i + 1] as string);
    out.set(k, list);
  }
  return out;
}

function interpret(rec: Records, input: DkmsConfInput): DkmsConfResult {
  const one = (k: string) => rec.get(k)?.[0] ?? null;
  const vars: DkmsConfVars = {
    packageName: one('name'),
    packageVersion: one('version'),
    builtModules: rec.get('built') ?? [],
    autoinstall: one('autoinstall') !== null,
    make: one('make'),
    buildExclusive: {
      kernel: one('be-kernel'),
      kernelMin: one('be-kernel-min'),
      kernelMax: one('be-kernel-max'),
      arch: one('be-arch'),
      config: one('be-config'),
    },
  };
  const config = configValues(input.configText);
  const k = input.kernelver;
  const unmet: string[] = [];
  for (const re of rec.get('unmet-kernel') ?? [])
    unmet.push(`requires a kernel matching ${re} (this kernel is ${k})`);
  for (const re of rec.get('badre-kernel') ?? [])
    unmet.push(
      `requires a kernel matching ${re}, which is not a valid regular expression: dkms never builds it`,
    );
  for (const v of rec.get('unmet-min') ?? [])
    unmet.push(`requires kernel ${v} or newer (this kernel is ${k})`);
  for (const v of rec.get('unmet-max') ?? [])
    unmet.push(`requires kernel ${v} or older (this kernel is ${k})`);
  for (const v of rec.get('unmet-obsolete') ?? [])
    unmet.push(`requires a kernel older than ${v} (OBSOLETE_BY: dkms will not install it into ${k})`);
  for (const re of rec.get('unmet-arch') ?? [])
    unmet.push(`requires arch ${re} (this kernel is ${input.arch})`);
  for (const re of rec.get('badre-arch') ?? [])
    unmet.push(`requires arch ${re}, which is not a valid regular expression: dkms never builds it`);
  for (const sym of rec.get('unmet-config') ?? []) {
    const v = config.get(sym);
    unmet.push(
      v === undefined ? `requires ${sym}, which is not set` : `requires ${sym}=y or =m, but it is ${v}`,
    );
  }
  for (const sym of rec.get('unmet-notconfig') ?? [])
    unmet.push(`requires ${sym} to be unset, but it is ${config.get(sym) ?? 'set'}`);
  const invalid = rec.get('invalid') ?? [];
  return {
    vars,
    unmet,
    error:
      invalid.length > 0 ? `dkms would refuse ${input.confFile} (Bad conf file): ${invalid.join(' ')}` : null,
  };
}

/** CONFIG_X → value, for messages only (the decisions are dkms's greps). */
function configValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^([A-Za-z0-9_]+)=(.*)$/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}

/** include/config/auto.conf as Kbuild writes it: the options that are set. */
function autoConf(configText: string): string {
  const set = configText.split('\n').filter((l) => /^CONFIG_[A-Za-z0-9_]+=/.test(l));
  return `#\n# Automatically generated file; DO NOT EDIT.\n#\n${set.map((l) => `${l}\n`).join('')}`;
}

/** SIGKILL to a process group (the evaluation and anything it left behind), if it is still there. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left
  }
}

async function chownTree(path: string, id: number): Promise<void> {
  await chown(path, id, id);
  if (!(await stat(path)).isDirectory()) return;
  for (const e of await readdir(path)) await chownTree(join(path, e), id);
}

const TARBALL = /\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|tar\.zst)$/;

/**
 * The dkms.conf of a module declared with `path:`: `<dir>/dkms.conf`, or, in a tarball, the one
 * dkms.conf at most two directories deep (as apply unpacks it; `dkms mktarball` puts it in
 * dkms_source_tree/). `file` names it for messages: `mod.tar.gz:hello-1.0/dkms.conf`.
 */
export async function readModuleConf(path: string): Promise<{ conf: string; file: string }> {
  const st = await stat(path).catch(() => null);
  if (st === null) throw new Error(`${path} does not exist`);
  if (st.isDirectory()) {
    const file = join(path, 'dkms.conf');
    const r = await readRegular(file, MAX_DKMS_CONF_BYTES);
    if (r.ok) return { conf: r.bytes.toString('utf8'), file };
    if (r.reason === 'missing') throw new Error(`${path} has no dkms.conf`);
    throw new Error(r.message);
  }
  if (!st.isFile())
    throw new Error(`${path} is ${fileKind(st)}, neither a directory with dkms.conf nor a tarball`);
  const { execa } = await import('execa');
  const tar = (args: string[]) =>
    execa('tar', args, {
      reject: false,
      stdin: 'ignore',
      maxBuffer: 64 * 1024 * 1024,
      stripFinalNewline: false,
      env: { LC_ALL: 'C' },
    });
  // GNU tar recognises the compression itself when reading.
  const list = await tar(['-t', '--quoting-style=literal', '-f', path]);
  if (list.exitCode !== 0) {
    const why = String(list.stderr).trim().split('\n').slice(-2).join(' ');
    throw new Error(
      TARBALL.test(path)
        ? `cannot read the tarball ${path}: ${why}`
        : `${path} is neither a directory with dkms.conf nor a tarball (${why})`,
    );
  }
  const found = String(list.stdout)
    .split('\n')
    .filter((m) => {
      const parts = m.split('/').filter((p) => p !== '' && p !== '.');
      return parts.at(-1) === 'dkms.conf' && !m.endsWith('/') && parts.length <= 3;
    });
  if (found.length === 0) throw new Error(`${path} holds no dkms.conf (looked two directories deep)`);
  if (found.length > 1) throw new Error(`${path} holds several dkms.conf files: ${found.join(', ')}`);
  const member = found[0] as string;
  const out = await tar(['-x', '-O', '--no-wildcards', '--occurrence=1', '-f', path, '--', member]);
  if (out.exitCode !== 0)
    throw new Error(
      `cannot extract ${member} from ${path}: ${String(out.stderr).trim().split('\n').slice(-2).join(' ')}`,
    );
  const conf = String(out.stdout);
  if (conf.trim() === '') throw new Error(`${member} in ${path} is empty (or not a regular file)`);
  return { conf, file: `${path}:${member}` };
}
