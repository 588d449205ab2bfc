/**
 * Ajv's errors, turned into diagnostics a person can act on: one per problem, at the key or value
 * it is about, in words about the kernelfile (not about JSON Schema), with a hint.
 */
import type { ErrorObject } from 'ajv';
import type { Diagnostic, PathSegment } from './diagnostic.js';
import { PATTERNS } from './format.js';
import { at, type SourceDoc } from './source.js';
import { suggest } from './suggest.js';

type SchemaNode = {
  type?: string | string[];
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  required?: string[];
  anyOf?: SchemaNode[];
  description?: string;
};

/** `/patches/0/path` → `['patches', 0, 'path']` (numbers only where the data is an array). */
function segments(instancePath: string, root: unknown): PathSegment[] {
  if (!instancePath) return [];
  const out: PathSegment[] = [];
  let cur: unknown = root;
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg: PathSegment = Array.isArray(cur) && /^\d+$/.test(key) ? Number(key) : key;
    out.push(seg);
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return out;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v)}`;
    case 'number':
      return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
    case 'boolean':
      return `the boolean ${v}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
  null: 'null',
};

function listOf(values: readonly string[]): string {
  return values.map((v) => `\`${v}\``).join(', ');
}

/** Explanations for the patterns in the schema, by pattern. */
function patternMessage(pattern: string, value: string, field: string): { message: string; hint?: string } {
  switch (pattern) {
    case PATTERNS.sha256: {
      const nonHex = value.match(/[^0-9a-fA-F]/);
      return {
        message: nonHex
          ? `${field} must be 64 hex digits, but contains \`${nonHex[0]}\``
          : `${field} must be 64 hex digits, got ${value.length}`,
        hint: 'compute it with `sha256sum FILE`, or copy it from the sha256sums file published next to the download',
      };
    }
    case '^(https|file)://': {
      const scheme = value.match(/^([a-z][a-z0-9+.-]*):/i)?.[1]?.toLowerCase();
      return {
        message: scheme
          ? `${field}: the \`${scheme}:\` scheme is not allowed; use https:// or file://`
          : `${field} must be an https:// or file:// URL`,
        hint:
          scheme === 'http' || scheme === 'ftp'
            ? `use the https:// address of the same file (kernel.org serves everything over https), or download it and use \`path:\``
            : 'for a file on this machine, use `path:` or a file:///absolute/path URL',
      };
    }
    case PATTERNS.version:
      return {
        message: `${field} \`${value}\` is not a kernel version`,
        hint: 'write it as `make kernelversion` prints it, e.g. `6.1.192`, `6.12` or `6.13-rc3` (quote it if YAML reads it as a number)',
      };
    case PATTERNS.commit:
      return {
        message: `${field} must be a full commit id (40 or 64 lower-case hex digits), not \`${value}\``,
        hint: 'branches and tags move; pin the commit: `git rev-parse REF^{commit}`',
      };
    case PATTERNS.kconfigSymbol:
      return {
        message: `\`${value}\` is not a Kconfig symbol name`,
        hint: `names are CONFIG_ followed by upper-case letters, digits and _, e.g. \`${kconfigName(value)}\``,
      };
    case PATTERNS.moduleName:
    case PATTERNS.moduleVersion:
    case PATTERNS.name:
    case PATTERNS.localversion:
    case PATTERNS.kmodName:
    case PATTERNS.makeVar: {
      const allowed: Record<string, string> = {
        [PATTERNS.moduleName]: 'letters, digits and `._+-`, starting with a letter or digit',
        [PATTERNS.moduleVersion]: 'letters, digits and `.+~_:-`, starting with a letter or digit',
        [PATTERNS.name]: 'letters, digits and `._-`, starting with a letter or digit, at most 63',
        [PATTERNS.localversion]: 'letters, digits and `._+~-`, 1 to 32 of them',
        [PATTERNS.kmodName]: 'letters, digits, `_` and `-` (a module name as `modprobe` takes it)',
        [PATTERNS.makeVar]: 'letters, digits and `_`, not starting with a digit',
      };
      const bad = value.match(
        pattern === PATTERNS.moduleVersion ? /[^A-Za-z0-9.+~_:-]/ : /[^A-Za-z0-9._+~-]/,
      );
      return {
        message: bad
          ? `${field} \`${value}\` contains \`${bad[0] === '\n' ? '\\n' : bad[0]}\`, which is not allowed`
          : `${field} \`${value}\` is not allowed`,
        hint: `use ${allowed[pattern]}; it becomes part of file names and commands`,
      };
    }
    default:
      return { message: `${field} \`${value}\` does not match the pattern ${pattern}` };
  }
}

export function kconfigName(s: string): string {
  const up = s.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return up.startsWith('CONFIG_') ? up : `CONFIG_${up}`;
}

const REQUIRED_HINTS: Record<string, string> = {
  apiVersion: 'add `apiVersion: kernelfile/v1` at the top',
  name: 'add a `name:` for this kernel spec, e.g. `name: web-server`',
  kernel: 'add a `kernel:` section with `version` and `source`',
  version: 'the kernel version the source contains, e.g. `version: "6.1.192"`',
  source: 'e.g. `source: {path: /usr/src/linux-source-6.1.tar.xz}`',
  sha256: 'a URL must be pinned by its checksum: download the file once and run `sha256sum` on it',
  ref: 'the full commit id to build: `git rev-parse REF^{commit}`',
  keyring: 'the gpg keyring that holds the signing keys, for `gpgv --keyring`',
};

function variantKeys(branch: SchemaNode): string {
  const req = branch.required ?? [];
  const opt = Object.keys(branch.properties ?? {}).filter((k) => !req.includes(k));
  return `{${[...req, ...opt.map((k) => `${k}?`)].join(', ')}}`;
}

function describeBranches(branches: SchemaNode[]): string {
  const consts = branches.filter((b) => b.const !== undefined).map((b) => `\`${String(b.const)}\``);
  const others = branches
    .filter((b) => b.const === undefined)
    .map((b) => (b.type === 'object' ? variantKeys(b) : (TYPE_WORDS[String(b.type)] ?? String(b.type))));
  return [...consts, ...others].join(', ');
}

interface Translated {
  path: PathSegment[];
  key?: boolean;
  code: string;
  message: string;
  hint?: string;
}

/** Pick the anyOf branch the user meant: for a mapping, the one declaring most of its keys. */
function chooseBranch(
  branches: SchemaNode[],
  data: unknown,
): { index: number } | { ambiguous: string[] } | null {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return null;
  const keys = Object.keys(data);
  const scored = branches.map((b, i) => ({
    i,
    score: b.type === 'object' ? keys.filter((k) => b.properties && k in b.properties).length : -1,
  }));
  const max = Math.max(...scored.map((s) => s.score));
  if (max <= 0) return null;
  const top = scored.filter((s) => s.score === max);
  if (top.length === 1) return { index: (top[0] as { i: number }).i };
  // Keys that identify a variant (declared by it and no other): more than one present is a conflict.
  const identifying = keys.filter(
    (k) => branches.filter((b) => b.type === 'object' && b.properties && k in b.properties).length === 1,
  );
  return identifying.length > 1 ? { ambiguous: identifying } : { index: (top[0] as { i: number }).i };
}

export function translate(errors: ErrorObject[], data: unknown, src: SourceDoc): Diagnostic[] {
  // Resolve anyOf first, outermost first: keep only the errors of the branch the user meant.
  let pending = [...errors];
  const out: Translated[] = [];
  const anyOfs = pending
    .filter((e) => e.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const e of anyOfs) {
    if (!pending.includes(e)) continue;
    const base = `${e.schemaPath}/`;
    const inside = pending.filter((x) => x.schemaPath.startsWith(base));
    pending = pending.filter((x) => x !== e && !x.schemaPath.startsWith(base));
    const branches = (e.schema as SchemaNode[]) ?? [];
    const path = segments(e.instancePath, data);
    const choice = chooseBranch(branches, e.data);
    if (choice && 'index' in choice) {
      pending.push(...inside.filter((x) => x.schemaPath.startsWith(`${base}${choice.index}/`)));
      continue;
    }
    const field = path.length ? String(path[path.length - 1]) : 'the document';
    if (choice && 'ambiguous' in choice) {
      out.push({
        path,
        code: 'conflicting-keys',
        message: `${listOf(choice.ambiguous)} cannot be used together here`,
        hint: `use exactly one of: ${describeBranches(branches)}`,
      });
      continue;
    }
    const consts = branches.filter((b) => b.const !== undefined).map((b) => String(b.const));
    if (typeof e.data === 'string' && consts.length > 0) {
      const guess = suggest(e.data, consts);
      out.push({
        path,
        code: 'invalid-value',
        message: `\`${e.data}\` is not a valid ${field}`,
        hint: `${guess ? `did you mean \`${guess}\`? ` : ''}allowed: ${describeBranches(branches)}`,
      });
      continue;
    }
    out.push({
      path,
      code: 'wrong-type',
      message: `${field}: expected ${describeBranches(branches)}; got ${typeName(e.data)}`,
    });
  }

  for (const e of pending) {
    const t = translateOne(e, data);
    if (t) out.push(t);
  }

  // One diagnostic per place and message.
  const seen = new Set<string>();
  const diags: Diagnostic[] = [];
  for (const t of out) {
    const d = at(
      src,
      t.path,
      { severity: 'error', code: t.code, message: t.message, ...(t.hint ? { hint: t.hint } : {}) },
      {
        key: t.key,
      },
    );
    const k = `${d.line}:${d.column}:${d.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    diags.push(d);
  }
  return diags;
}

function translateOne(e: ErrorObject, data: unknown): Translated | null {
  const path = segments(e.instancePath, data);
  const field = path.length ? String(path[path.length - 1]) : 'the document';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(p.missingProperty);
      const where = path.length
        ? `\`${path.filter((s) => typeof s === 'string').join('.')}\``
        : 'the kernelfile';
      return {
        path,
        key: false,
        code: 'missing-key',
        message: `${where} is missing the required key \`${missing}\``,
        hint: REQUIRED_HINTS[missing],
      };
    }
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const parent = e.parentSchema as SchemaNode | undefined;
      const known = Object.keys(parent?.properties ?? {});
      const patterns = Object.keys(parent?.patternProperties ?? {});
      if (patterns.length > 0 && known.length === 0) {
        const pm = patternMessage(patterns[0] as string, key, 'key');
        return { path: [...path, key], key: true, code: 'invalid-key', message: pm.message, hint: pm.hint };
      }
      const guess = suggest(key, known);
      return {
        path: [...path, key],
        key: true,
        code: 'unknown-key',
        message: `unknown key \`${key}\`${path.length ? ` in \`${path.filter((s) => typeof s === 'string').join('.')}\`` : ''}`,
        hint: guess ? `did you mean \`${guess}\`?` : `allowed keys: ${listOf(known)}`,
      };
    }
    case 'type': {
      const want = String(p.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ');
      let quoteHint: string | undefined;
      if (p.type === 'string' && (typeof e.data === 'number' || typeof e.data === 'boolean'))
        quoteHint = `put it in quotes: \`"${String(e.data)}"\` (YAML reads it as a ${typeof e.data})`;
      else if (p.type === 'boolean' && typeof e.data === 'string' && /^(yes|no|on|off|y|n)$/i.test(e.data))
        quoteHint = `write \`${/^(yes|on|y)$/i.test(e.data) ? 'true' : 'false'}\` (YAML 1.2 reads \`${e.data}\` as a string)`;
      return {
        path,
        code: 'wrong-type',
        message: `${field}: expected ${want}, got ${typeName(e.data)}`,
        hint: quoteHint,
      };
    }
    case 'const':
      return {
        path,
        code: 'invalid-value',
        message: `${field} must be \`${String(p.allowedValue)}\`, got ${typeName(e.data)}`,
        hint:
          field === 'apiVersion'
            ? `this kernelfile release reads \`${String(p.allowedValue)}\` files`
            : undefined,
      };
    case 'pattern': {
      const pm = patternMessage(String(p.pattern), String(e.data), field);
      return { path, code: 'invalid-value', message: pm.message, hint: pm.hint };
    }
    case 'propertyNames':
      return null; // reported by the nested error on the name itself
    case 'minimum':
    case 'maximum':
      return {
        path,
        code: 'out-of-range',
        message: `${field} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(p.limit)}, got ${String(e.data)}`,
      };
    case 'minLength':
      return { path, code: 'empty-value', message: `${field} must not be empty` };
    case 'maxLength':
      return {
        path,
        code: 'too-long',
        message: `${field} is too long (at most ${String(p.limit)} characters)`,
      };
    default:
      return { path, code: `schema-${e.keyword}`, message: `${field}: ${e.message ?? 'is invalid'}` };
  }
}
