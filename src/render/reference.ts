/**
 * The kernelfile reference in Markdown, generated from the schema's descriptions, defaults and
 * examples, so docs/kernelfile.md cannot drift from the format (a test compares them).
 */
import { stringify } from 'yaml';

interface Node {
  type?: string;
  const?: unknown;
  description?: string;
  examples?: unknown[];
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Node>;
  patternProperties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  anyOf?: Node[];
}

interface Row {
  key: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
  example?: unknown;
}

const inline = (v: unknown) => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trim();
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(n: Node): string {
  if (n.anyOf) {
    if (n.anyOf.every((b) => b.const !== undefined))
      return n.anyOf.map((b) => `\`${String(b.const)}\``).join(' \\| ');
    return n.anyOf.map(typeOf).join(' or ');
  }
  if (n.const !== undefined) return `\`${String(n.const)}\``;
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'values'}`;
  if (n.type === 'object') {
    if (n.patternProperties) return 'mapping';
    const keys = Object.keys(n.properties ?? {});
    return keys.length ? `{${keys.join(', ')}}` : 'mapping';
  }
  if (n.type === 'integer' && (n.minimum !== undefined || n.maximum !== undefined))
    return `integer (${n.minimum ?? ''}–${n.maximum ?? ''})`;
  return n.type ?? 'any';
}

function rows(n: Node, prefix: string, out: Map<string, Row>): void {
  const objects = n.anyOf ? n.anyOf.filter((b) => b.type === 'object') : n.type === 'object' ? [n] : [];
  for (const o of objects) {
    for (const [k, p] of Object.entries(o.properties ?? {})) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (!out.has(key)) {
        out.set(key, {
          key,
          type: typeOf(p),
          // Inside a union, "required" belongs to one variant: the parent's type lists the variants.
          required: !n.anyOf && (o.required?.includes(k) ?? false),
          default: p.default,
          description: p.description ?? '',
          example: p.examples?.[0],
        });
      }
      rows(p, key, out);
      if (p.type === 'array' && p.items) rows(p.items, `${key}[]`, out);
    }
    for (const [pattern, p] of Object.entries(o.patternProperties ?? {})) {
      const key = `${prefix}.${pattern.replace(/^\^|\$$/g, '').replace('[A-Z0-9_]+', '*')}`;
      out.set(key, {
        key,
        type: typeOf(p),
        required: false,
        description: p.description ?? '',
        example: p.examples?.[0],
      });
    }
  }
}

export function renderReference(schema: unknown): string {
  const table = new Map<string, Row>();
  rows(schema as Node, '', table);
  const lines = [
    '| key | type | default | description | example |',
    '| --- | --- | --- | --- | --- |',
    ...[...table.values()].map(
      (r) =>
        `| \`${r.key}\`${r.required ? ' (required)' : ''} | ${cell(r.type)} | ${r.default === undefined ? '' : `\`${cell(inline(r.default))}\``} | ${cell(r.description)} | ${r.example === undefined ? '' : `\`${cell(inline(r.example))}\``} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
