/**
 * Progress of long-running stages through listr2: a live task list on a terminal, plain lines
 * otherwise (CI logs). Stage functions report with `update(message)`; updates are throttled so a
 * kernel build's thousands of make lines do not flood a log.
 */
import { Listr, ListrLogger, ProcessOutput } from 'listr2';

export interface Stage<C> {
  title: string;
  /** Skip the stage (shown as skipped) when this returns a reason. */
  skip?: (ctx: C) => string | false;
  run: (ctx: C, update: (message: string) => void) => Promise<void>;
}

export async function runStages<C extends object>(
  stages: Stage<C>[],
  ctx: C,
  opts: { tty: boolean },
): Promise<C> {
  // Progress goes to stderr: stdout carries the result (and --json must stay parseable).
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const list = new Listr<C>(
    stages.map((s) => ({
      title: s.title,
      rendererOptions: { outputBar: 1, persistentOutput: false },
      skip: s.skip ? (c: C) => s.skip?.(c) ?? false : undefined,
      task: async (c: C, task) => {
        let last = 0;
        await s.run(c, (m) => {
          const now = Date.now();
          if (now - last < (opts.tty ? 200 : 15_000)) return;
          last = now;
          task.output = m;
        });
      },
    })),
    {
      renderer: 'default',
      fallbackRenderer: 'simple',
      // Not a terminal (CI, a pipe): plain lines from the simple renderer.
      fallbackRendererCondition: () => !opts.tty,
      rendererOptions: { logger },
      fallbackRendererOptions: { logger },
      exitOnError: true,
      collectErrors: false,
    },
  );
  return list.run(ctx);
}
