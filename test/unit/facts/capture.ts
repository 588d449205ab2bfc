/**
 * Fixture capture: runs the real facts script with `sh -s` on this machine (or splits the output
 * of a run elsewhere), and writes each family's sections as they were printed to
 * test/fixtures/facts/<family>/<case>/output.txt. Not a test; run by hand:
 *   npx tsx test/unit/facts/capture.ts <case> [--from output.txt] [--only fam,fam] [--config-lines N]
 * --config-lines keeps the first N lines of the kernel config (a real one is ~100 KB).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAMILIES } from '../../../src/facts/families.js';
import { factsScript } from '../../../src/facts/gather.js';
import { FIXTURE_DIR, FIXTURE_NONCE } from './fixtures.js';

/** The output cut into one text per family, headers and contents exactly as printed. */
export function perFamily(output: string, nonce: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let lines: string[] | null = null;
  for (const line of output.split('\n')) {
    if (line.startsWith(`${nonce} `)) {
      const family = line.split(' ')[1] as string;
      lines = out.get(family) ?? [];
      out.set(family, lines);
    }
    lines?.push(line);
  }
  return out;
}

/** Keep the first `keep` content lines of one section (the protocol's closing blank line stays). */
export function trimSection(lines: string[], header: string, keep: number): string[] {
  const start = lines.indexOf(header);
  if (start < 0) return lines;
  let end = lines.findIndex((l, i) => i > start && l.startsWith(`${FIXTURE_NONCE} `));
  if (end < 0) end = lines.length;
  if (end - start - 1 <= keep + 1) return lines;
  return [...lines.slice(0, start + 1 + keep), '', ...lines.slice(end)];
}

function main(argv: string[]): void {
  const [name, ...rest] = argv;
  if (!name) throw new Error('usage: capture.ts <case> [--from file] [--only fam,fam] [--config-lines N]');
  const opt = (k: string) => {
    const i = rest.indexOf(k);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const from = opt('--from');
  const only = opt('--only')?.split(',');
  const configLines = Number(opt('--config-lines') ?? 0);
  const output = from
    ? readFileSync(from, 'utf8')
    : execFileSync('sh', ['-s'], { input: factsScript(FIXTURE_NONCE), encoding: 'utf8' });
  const families = perFamily(output, FIXTURE_NONCE);
  for (const family of Object.keys(FAMILIES)) {
    if (only && !only.includes(family)) continue;
    const lines = families.get(family) ?? [];
    let text = lines;
    if (family === 'config' && configLines > 0)
      text = trimSection(lines, `${FIXTURE_NONCE} config proc`, configLines);
    const dir = join(FIXTURE_DIR, family, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'output.txt'), text.length ? `${text.join('\n')}\n` : '');
    console.log(`${dir}/output.txt`);
  }
}

if (process.argv[1]?.endsWith('capture.ts')) main(process.argv.slice(2));
