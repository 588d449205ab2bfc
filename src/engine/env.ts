/**
 * What the engine needs of its caller's world: the working directory (relative paths in arguments
 * and inventories), the environment (HOME, XDG_CACHE_HOME, SSH_AUTH_SOCK, USER) and, for a
 * kernelfile named `-`, standard input. The CLI's Io satisfies it; a script passes its own.
 */
export interface Env {
  cwd: string;
  env: Record<string, string | undefined>;
  readStdin?: () => Promise<Buffer>;
  /** The clock the `generatedAt` of JSON documents is read from (default: now); tests fix it. */
  now?: () => Date;
}

export function processEnv(): Env {
  return { cwd: process.cwd(), env: process.env };
}
