/**
 * The library API as another package sees it: `import { loadKernelfile, plan, apply, status } from
 * 'kernelfile'` through package.json `exports`, typed (tsc checks a consumer against the emitted
 * declarations) and working (node runs it against the compiled dist/).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kf-library-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const docExamples: string[] = [];
const consumer = `
import { apply, loadKernelfile, plan, status, type FleetHost, type Loaded } from 'kernelfile';

const loaded: Loaded = await loadKernelfile(${JSON.stringify(join(root, 'examples/qemu-tiny/kernelfile.yaml'))}, { cwd: process.cwd(), env: process.env });
const hosts: FleetHost[] = await plan({ kernelfile: 'missing.yaml', host: 'local' }, {}, { cwd: process.cwd(), env: process.env });
const h = hosts[0];
console.log(JSON.stringify({
  valid: loaded.result.ok,
  name: loaded.result.ok ? loaded.result.value.spec.name : null,
  planned: h?.ok ?? null,
  error: h && !h.ok ? h.error : null,
  api: [typeof apply, typeof status],
}));
`;

beforeAll(() => {
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/kernelfile'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module","private":true}\n');
  writeFileSync(join(dir, 'consumer.ts'), consumer);
  // Every TypeScript example of docs/library.md, each as a module of its own.
  const examples = [...readFileSync(join(root, 'docs/library.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)];
  expect(examples.length).toBeGreaterThan(1);
  for (const [i, m] of examples.entries())
    writeFileSync(join(dir, `example-${i}.ts`), `${m[1]}\nexport {};\n`);
  docExamples.push(...examples.map((_, i) => `example-${i}.ts`));
  writeFileSync(
    join(dir, 'consumer.mjs'),
    consumer.replace(/, type FleetHost, type Loaded/, '').replace(/: (Loaded|FleetHost\[\])/g, ''),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files: ['consumer.ts', ...docExamples],
    }),
  );
}, 120_000);

describe("import('kernelfile') from another package", () => {
  it('type-checks against the published declarations, with the examples of docs/library.md', () => {
    const r = spawnSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);

  it('loads a kernelfile and reports a host it cannot plan as a result, not a throw', () => {
    const r = spawnSync(process.execPath, ['consumer.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      valid: boolean;
      name: string;
      planned: boolean;
      error: string;
      api: string[];
    };
    expect(out.valid).toBe(true);
    expect(out.name).toBe('qemu-tiny');
    expect(out.planned).toBe(false);
    expect(out.error).toMatch(/cannot read missing\.yaml: no such file/);
    expect(out.api).toEqual(['function', 'function']);
  }, 60_000);
});
