/** Split a stream of chunks into lines for `RunOptions.onLine`, keeping the whole text too. */
export class LineCollector {
  private text = '';
  private partial = '';

  constructor(private readonly onLine?: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const s = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.text += s;
    if (!this.onLine) return;
    const parts = (this.partial + s).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.onLine(line.replace(/\r$/, ''));
  }

  /** Flush a last line without a newline; returns everything collected. */
  end(): string {
    if (this.onLine && this.partial) this.onLine(this.partial);
    this.partial = '';
    return this.text;
  }
}
