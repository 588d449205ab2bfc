/**
 * Progress of long-running stages through listr2: a live task list on a terminal, plain lines
 * otherwise (CI logs). Stage functions report with `update(message)`; updates are throttled so a
 * kernel build's thousands of make lines do not flood a log. listr2 is loaded on first use: a
 * command that shows no progress (a one-host plan to a pipe) does not pay for it.
 */

export interface Stage<C> {
  title: string;
  /** Skip the stage (shown as skipped) when this returns a reason. */
  skip?: (ctx: C) => string | false;
  run: (ctx: C, update: (message: string) => void) => Promise<void>;
}

/**
 * What a failed task gives listr2 in place of its error: listr2 would print the error's message
 * beside the task, and the command prints the error itself once it ends (with its hint and
 * details), so it would be shown twice. The task is still marked failed (✖) on a terminal.
 */
function shownBelow(): Error {
  return new Error('');
}

export async function runStages<C extends object>(
  stages: Stage<C>[],
  ctx: C,
  opts: { tty: boolean },
): Promise<C> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  // Progress goes to stderr: stdout carries the result (and --json must stay parseable).
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  let failed: { error: unknown } | undefined;
  const list = new Listr<C>(
    stages.map((s) => ({
      title: s.title,
      rendererOptions: { outputBar: 1, persistentOutput: false },
      skip: s.skip ? (c: C) => s.skip?.(c) ?? false : undefined,
      task: async (c: C, task) => {
        let last = 0;
        try {
          await s.run(c, (m) => {
            const now = Date.now();
            if (now - last < (opts.tty ? 200 : 15_000)) return;
            last = now;
            task.output = m;
          });
        } catch (e) {
          failed = { error: e };
          throw shownBelow();
        }
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
  try {
    return await list.run(ctx);
  } catch (e) {
    throw failed ? failed.error : e;
  }
}

/**
 * Live progress of work that reports itself as a sequence of items (apply: one task per change,
 * its current step as the task's output), on a terminal. `work` runs once and emits `start(i)`
 * when item i begins and `output(text)` as it goes; its result or error ends the list.
 */
export async function runSequence<R>(
  titles: string[],
  work: (report: { start(index: number): void; output(text: string): void }) => Promise<R>,
): Promise<R> {
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const logger = new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) });
  const gates = titles.map(() => {
    let open!: () => void;
    let fail!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      open = res;
      fail = rej;
    });
    promise.catch(() => {});
    return { promise, open, fail };
  });
  let current = -1;
  let output: (text: string) => void = () => {};
  const settle = (upTo: number) => {
    for (let i = 0; i <= upTo && i < gates.length; i++) gates[i]?.open();
  };
  const running = work({
    start(index) {
      settle(index - 1);
      current = index;
    },
    output(text) {
      output(text);
    },
  });
  running.then(
    () => settle(gates.length - 1),
    // The caller gets the error (from `running`) and prints it once.
    () => gates[Math.max(0, current)]?.fail(shownBelow()),
  );
  const list = new Listr(
    titles.map((title, i) => ({
      title,
      task: async (_c: unknown, task: { output: string }) => {
        output = (text) => {
          if (current === i) task.output = text;
        };
        await gates[i]?.promise;
      },
      rendererOptions: { outputBar: 1, persistentOutput: false },
    })),
    { renderer: 'default', rendererOptions: { logger }, exitOnError: true, collectErrors: false },
  );
  await list.run().catch(() => {});
  return running;
}
