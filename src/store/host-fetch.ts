/**
 * Hosts fetching a build's files from the store themselves, with the host's own curl (or wget):
 * the controller sends digests and URLs, never the files. Pure: the scripts, their argv and what
 * their output means. The transport runs them (argv quoted by src/host/quote.ts like every command).
 *
 * - probe (plan time, only on hosts that need the kernel): which tool the host has, and whether it
 *   reaches the store's /v2/ (any HTTP answer, 401 included, is reaching it).
 * - fetch (apply time): each file into the upload directory through a temporary name, its sha256
 *   checked on the host, then renamed; a file that does not check out is removed and the command
 *   fails (the controller then ships the build as without a store). A bearer token, only when the
 *   registry issues short-lived ones, comes on standard input and goes to curl as a config line
 *   (`-K -`) through the shell's printf builtin: never in an argv (`ps` on the host), never in a
 *   file. wget reads its config only from a file, so a host with wget alone fetches only from a
 *   store without authentication. Basic credentials never leave the controller: such a store is
 *   shipped from.
 */
import type { StoreFetch } from '../resources/change.js';

/**
 * argv: sh -c PROBE_SH kernelfile BASE_URL HAS_CA. With a CA of the store's own (HAS_CA 1) the
 * probe does not check the certificate (the fetch does, against that CA, which is not on the host
 * before apply): it asks only whether the store answers, and sends nothing.
 */
export const PROBE_SH = `u=$1 ca=$2 t=none
if command -v curl >/dev/null 2>&1; then t=curl; elif command -v wget >/dev/null 2>&1; then t=wget; fi
echo "tool=$t"
case $t in
curl)
  if [ "$ca" = 1 ]; then c=$(curl -s -k -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 10 "$u/v2/" 2>&1); r=$?
  else c=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 10 "$u/v2/" 2>&1); r=$?; fi
  echo "reach=$r $c" ;;
wget)
  if [ "$ca" = 1 ]; then wget -q -t 1 -T 10 --no-check-certificate -O /dev/null "$u/v2/" 2>/dev/null; r=$?
  else wget -q -t 1 -T 10 -O /dev/null "$u/v2/" 2>/dev/null; r=$?; fi
  echo "reach=$r" ;;
esac
exit 0`;

export function probeArgv(base: string, hasCa: boolean): string[] {
  return ['sh', '-c', PROBE_SH, 'kernelfile', base, hasCa ? '1' : '0'];
}

export type ProbeResult = { tool: 'curl' | 'wget' } | { why: string };

const CURL_EXIT: Record<string, string> = {
  '6': 'cannot resolve its host name',
  '7': 'cannot connect to it',
  '28': 'timed out',
  '35': 'the TLS handshake failed',
  '60': 'its TLS certificate is not trusted there',
  '77': 'cannot read the CA certificates',
};

/** What a probe's output says: the tool to fetch with, or why the host is shipped to instead. */
export function parseProbe(stdout: string): ProbeResult {
  const tool = /^tool=(\S+)$/m.exec(stdout)?.[1];
  if (tool !== 'curl' && tool !== 'wget') return { why: 'the host has neither curl nor wget' };
  const reach = /^reach=(\d+)(?: (\d{3}))?/m.exec(stdout);
  if (!reach) return { why: 'the probe of the store printed nothing' };
  const [, rc, code] = reach;
  if (tool === 'curl') {
    if (rc === '0' && code && code !== '000') return { tool };
    return {
      why: `the host cannot reach the store with curl: ${CURL_EXIT[rc as string] ?? `curl exited with ${rc}`}`,
    };
  }
  // wget: 0 success, 6 authentication asked (a 401), 8 an HTTP error answer: the store answered.
  if (rc === '0' || rc === '6' || rc === '8') return { tool };
  return {
    why: `the host cannot reach the store with wget: ${rc === '4' ? 'a network failure' : rc === '5' ? 'the TLS check failed' : `wget exited with ${rc}`}`,
  };
}

/**
 * argv: sh -c FETCH_SH kernelfile DIR TOOL CA_PEM NAME URL SHA256 [NAME URL SHA256]…
 * stdin: one line, the bearer token as fetchStdin writes it, or empty.
 * Prints `kf-fetch ok NAME` per file; exit 3: a download failed, 4: a sha256 did not match.
 */
export const FETCH_SH = `set -u
d=$1 tool=$2 pem=$3
shift 3
IFS= read -r tok || :
cd "$d" || exit 1
ca=
if [ -n "$pem" ]; then printf '%s\\n' "$pem" > .store-ca.pem && ca=$d/.store-ca.pem || exit 1; fi
conf() {
  [ -n "$tok" ] || return 0
  printf 'header = "Authorization: Bearer %s"\\n' "$tok"
}
get() {
  if [ "$tool" = curl ]; then
    conf | curl -fsSL --retry 2 --connect-timeout 10 \${ca:+--cacert} \${ca:+"$ca"} -K - -o "$1" "$2"
  elif [ -z "$tok" ]; then
    wget -q -t 2 -T 30 \${ca:+"--ca-certificate=$ca"} -O "$1" "$2"
  else
    return 1
  fi
}
while [ $# -ge 3 ]; do
  n=$1 u=$2 sum=$3
  shift 3
  p=".$n.kf-part"
  rm -f "$p"
  if ! get "$p" "$u"; then rm -f "$p"; echo "kf-fetch failed $n"; exit 3; fi
  got=$(sha256sum "$p") && got=\${got%% *} || got=
  if [ "$got" != "$sum" ]; then rm -f "$p"; echo "kf-fetch mismatch $n $got"; exit 4; fi
  chmod 0644 "$p" && mv -f "$p" "$n" || exit 1
  echo "kf-fetch ok $n"
done
rm -f .store-ca.pem
exit 0`;

/** The blob URL of a digest (`sha256:HEX`) in the store. */
/**
 * The fetch's standard input: the bearer token, escaped for the double-quoted string of the curl
 * config line it goes into (`\\` and `"`): a token is the registry's answer, and must stay one
 * header value however it is written.
 */
export function fetchStdin(token: string | undefined): string {
  return `${(token ?? '').replace(/[\\"]/g, '\\$&')}\n`;
}

export function blobUrl(s: Pick<StoreFetch, 'base' | 'repository'>, digest: string): string {
  return `${s.base}/v2/${s.repository}/blobs/${digest}`;
}

export function fetchArgv(dir: string, s: StoreFetch, files: { name: string; sha256: string }[]): string[] {
  return [
    'sh',
    '-c',
    FETCH_SH,
    'kernelfile',
    dir,
    s.tool,
    s.ca ?? '',
    ...files.flatMap((f) => [f.name, blobUrl(s, `sha256:${f.sha256}`), f.sha256]),
  ];
}

/** The files a fetch's output says arrived (checked), and what stopped it. */
export function parseFetch(stdout: string): { ok: string[]; failed?: string } {
  const ok: string[] = [];
  let failed: string | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^kf-fetch (ok|failed|mismatch) (\S+)(?: ([0-9a-f]*))?$/.exec(line);
    if (!m) continue;
    if (m[1] === 'ok') ok.push(m[2] as string);
    else
      failed =
        m[1] === 'failed'
          ? `${m[2]} could not be downloaded from the store`
          : `${m[2]} from the store is not the build's file (sha256 ${(m[3] || 'none').slice(0, 12)}…)`;
  }
  return { ok, ...(failed ? { failed } : {}) };
}
