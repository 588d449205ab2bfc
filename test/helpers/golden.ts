/**
 * Golden files: what a test compares its output with. A golden that is missing is a failure (a case
 * without its expected output would otherwise pass by writing whatever the code produces today);
 * the files are written only when the test runs with the update variable set, to be reviewed as a
 * diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface GoldenOptions {
  /** The environment variable that rewrites the goldens, e.g. UPDATE_GOLDEN. */
  updateVar: string;
  /** The test command to run with it, e.g. `npx vitest run test/unit/plan/golden.test.ts`. */
  command: string;
  env?: NodeJS.ProcessEnv;
}

export function updating(o: GoldenOptions): boolean {
  return (o.env ?? process.env)[o.updateVar] === '1';
}

/** The text of the golden at `path`: written from `actual` first when updating; missing, an error saying how to make it. */
export function golden(path: string, actual: string, o: GoldenOptions): string {
  if (updating(o)) writeFileSync(path, actual);
  else if (!existsSync(path))
    throw new Error(
      `golden file ${path} is missing: create it with \`${o.updateVar}=1 ${o.command}\`, then review it`,
    );
  return readFileSync(path, 'utf8');
}
