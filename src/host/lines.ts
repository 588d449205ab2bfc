import { StringDecoder } from 'node:string_decoder';

/**
 * Split a stream of chunks into lines for `RunOptions.onLine`, keeping the whole text too. Chunks
 * are kept as they come and decoded once at the end (a character split across two chunks stays
 * whole); the lines are decoded as they come, through a decoder that holds such a split character.
 */
export class LineCollector {
  private readonly chunks: Buffer[] = [];
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly onLine?: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.chunks.push(b);
    if (!this.onLine) return;
    const parts = (this.partial + this.decoder.write(b)).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.onLine(line.replace(/\r$/, ''));
  }

  /** Flush a last line without a newline; returns everything collected. */
  end(): string {
    if (this.onLine) {
      const last = this.partial + this.decoder.end();
      if (last) this.onLine(last);
    }
    this.partial = '';
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
