/**
 * A value made from a file on this machine, kept per process while it stays the same regular file
 * (device, inode, size, modification time): what every host of a fleet needs of one controller
 * file (a key, known_hosts, a build's file to ship) is read or hashed once. Replaced, it is made again.
 */
import { statSync } from 'node:fs';

/** The file's identity as far as a process can tell; undefined when it is not a regular file it can stat. */
function stampOf(path: string): string | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : undefined;
  } catch {
    return undefined;
  }
}

export class FileMemo<T> {
  private readonly kept = new Map<string, { stamp: string; value: T }>();

  /** make()'s value for the file as it is now; undefined (nothing made) when it is not a regular file. */
  get(path: string, make: () => T): T | undefined {
    const stamp = stampOf(path);
    if (stamp === undefined) return undefined;
    const hit = this.kept.get(path);
    if (hit?.stamp === stamp) return hit.value;
    const value = make();
    this.kept.set(path, { stamp, value });
    return value;
  }

  /** Made again next time (a value that turned out to be a failure). */
  forget(path: string): void {
    this.kept.delete(path);
  }
}
