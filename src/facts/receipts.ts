/**
 * Fact family `receipts`: what kernelfile installed on this host, /var/lib/kernelfile/<release>.json
 * (written by apply). A receipt that cannot be read or parsed is reported by name, never fatal.
 */
import type { FactFamily, Sections } from './protocol.js';
import { keysWithPrefix, parseListing } from './sections.js';
import type { JsonValue, Receipt, ReceiptFacts } from './types.js';

export const RECEIPT_DIR = '/var/lib/kernelfile';

const script = `
kf_ls dir ${RECEIPT_DIR}
for kf_x in ${RECEIPT_DIR}/*.json; do kf_cat "file:\${kf_x##*/}" "$kf_x"; done
`;

function parse(s: Sections): ReceiptFacts {
  const receipts: Receipt[] = [];
  const errors: ReceiptFacts['errors'] = [];
  const read = new Set(keysWithPrefix(s, 'file:'));
  for (const name of [...read].sort()) {
    const file = `${RECEIPT_DIR}/${name}`;
    try {
      const data = JSON.parse(s[`file:${name}`] ?? '') as JsonValue;
      receipts.push({ file, release: name.replace(/\.json$/, ''), data });
    } catch (e) {
      errors.push({ file, error: `not valid JSON: ${(e as Error).message}` });
    }
  }
  for (const e of parseListing(s.dir) ?? [])
    if (e.name.endsWith('.json') && !read.has(e.name))
      errors.push({
        file: `${RECEIPT_DIR}/${e.name}`,
        error: e.type === 'file' ? 'not readable by the gathering user' : `not a regular file (${e.type})`,
      });
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { receipts, errors };
}

export const receipts: FactFamily<ReceiptFacts> = { name: 'receipts', script, parse };
