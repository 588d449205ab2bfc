/**
 * The references kernelfile's inventory reading is checked against, run live: `ansible-inventory
 * --list` and the INI plugin's own value parser (ansible.plugins.inventory.ini `_parse_value`, or
 * Python's ast.literal_eval where ansible is not importable). Used by the integration tests and by
 * scripts/record-ansible.ts, which records their output beside the fixtures for the unit tests.
 * Starts processes: not for test/unit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

/** `ansible-inventory -i FILE --list`, parsed; run from / so no playbook-adjacent vars are read. */
export function ansibleInventoryList(file: string): unknown {
  const out = execFileSync('ansible-inventory', ['-i', file, '--list'], {
    encoding: 'utf8',
    cwd: '/',
    env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_NOCOLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out);
}

/** What the INI plugin made of a value, in JSON terms (what python-literal.ts answers). */
export type RecordedLiteral =
  | { text: string; kind: 'text' }
  | { text: string; kind: 'value'; value: unknown }
  | { text: string; kind: 'unsupported' }
  | { text: string; kind: 'error' };

const PROGRAM = String.raw`
import ast, json, math, sys
try:
    from ansible.plugins.inventory.ini import InventoryModule
    parse = InventoryModule._parse_value
except Exception:
    def parse(v):
        try:
            v = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            pass
        return v.decode('utf-8', 'surrogateescape') if isinstance(v, bytes) else v
class Unsupported(Exception):
    pass
def conv(v, top):
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        if abs(v) > 1.7976931348623157e308:
            raise Unsupported()
        return v
    if isinstance(v, float):
        if math.isinf(v) or math.isnan(v):
            raise Unsupported()
        return v
    if isinstance(v, (list, tuple)):
        return [conv(x, False) for x in v]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not (isinstance(k, (str, int, float)) or k is None):
                raise Unsupported()
            out[k] = conv(x, False)
        return json.loads(json.dumps(out))
    raise Unsupported()
res = []
for s in json.load(sys.stdin):
    try:
        r = parse(s)
    except Exception:
        res.append({'text': s, 'kind': 'error'})
        continue
    if isinstance(r, str) and r == s:
        res.append({'text': s, 'kind': 'text'})
        continue
    if isinstance(r, str):
        # bytes that are not UTF-8 come back with surrogate escapes: kernelfile keeps the text.
        try:
            orig = ast.literal_eval(s.lstrip(' \t'))
        except Exception:
            orig = None
        if isinstance(orig, bytes):
            try:
                orig.decode('utf-8')
            except UnicodeDecodeError:
                res.append({'text': s, 'kind': 'unsupported'})
                continue
    try:
        res.append({'text': s, 'kind': 'value', 'value': conv(r, True)})
    except Unsupported:
        res.append({'text': s, 'kind': 'unsupported'})
json.dump(res, sys.stdout)
`;

/** The Python ansible-inventory runs with (its `#!` line), else python3. */
export function ansiblePython(): string {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const f = d && join(d, 'ansible-inventory');
    if (!f || !existsSync(f)) continue;
    const first = readFileSync(f, 'utf8').split('\n', 1)[0] ?? '';
    const m = /^#!\s*(\S*python[0-9.]*)\s*$/.exec(first);
    if (m?.[1] && existsSync(m[1])) return m[1];
  }
  return 'python3';
}

/** Each text as the INI plugin reads a value (one Python process for all of them). */
export function pythonLiterals(texts: readonly string[]): RecordedLiteral[] {
  const out = execFileSync(ansiblePython(), ['-W', 'ignore', '-c', PROGRAM], {
    input: JSON.stringify(texts),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(out) as RecordedLiteral[];
}
