/** A build failure a user can act on: a message, a hint, and the lines that show why (log tails). */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'BuildError';
  }
}
