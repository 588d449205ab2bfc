/**
 * The one-time MOK password (`--mok-password-file FILE`): read on the controller, bounded, and
 * handed to `mokutil --import` on its standard input at apply time. It is never part of a plan,
 * a log, an argv or an error message. The MOK manager asks for it again on the console at the
 * next boot, where only a plain keyboard works: 1 to 256 printable ASCII characters (mokutil's
 * PASSWORD_MIN..PASSWORD_MAX), on the file's first line.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from './errors.js';

export const MOK_PASSWORD_OPTION = '--mok-password-file';
const MAX_BYTES = 4096;

export function readMokPassword(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new UserError(
      `${MOK_PASSWORD_OPTION} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      'name a file holding the one-time password on its first line',
    );
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new UserError(
        `${MOK_PASSWORD_OPTION} ${file}: not a regular file`,
        'name a file holding the password',
      );
    if (st.size > MAX_BYTES)
      throw new UserError(
        `${MOK_PASSWORD_OPTION} ${file}: ${st.size} bytes, more than a password file holds (at most ${MAX_BYTES})`,
        'put the one-time password alone on the first line',
      );
    const buf = Buffer.alloc(MAX_BYTES);
    const n = readSync(fd, buf, 0, MAX_BYTES, 0);
    text = buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
  const line = text.split('\n')[0]?.replace(/\r$/, '') ?? '';
  // Never echo the password (or part of it) in a message.
  if (line.length === 0)
    throw new UserError(
      `${MOK_PASSWORD_OPTION} ${file}: the first line is empty`,
      'write the password on the first line',
    );
  if (line.length > 256)
    throw new UserError(
      `${MOK_PASSWORD_OPTION} ${file}: the password is ${line.length} characters; mokutil takes at most 256`,
    );
  if (!/^[\x20-\x7e]+$/.test(line))
    throw new UserError(
      `${MOK_PASSWORD_OPTION} ${file}: the password has characters other than printable ASCII`,
      'the MOK manager reads it from the console keyboard at the next boot: use letters, digits and ASCII punctuation',
    );
  return line;
}
