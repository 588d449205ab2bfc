/** Colour, only where it helps: on a terminal, never with NO_COLOR. The one place colour is decided. */
import { styleText } from 'node:util';

export type Style = (
  kind: 'error' | 'warning' | 'bold' | 'dim' | 'caret' | 'ok' | 'add' | 'change' | 'remove',
  text: string,
) => string;

const FORMATS = {
  error: ['red', 'bold'],
  warning: ['yellow', 'bold'],
  bold: ['bold'],
  dim: ['dim'],
  caret: ['cyan'],
  ok: ['green'],
  add: ['green'],
  change: ['yellow'],
  remove: ['red'],
} as const;

export const plain: Style = (_kind, text) => text;
export const colored: Style = (kind, text) =>
  styleText([...FORMATS[kind]] as Parameters<typeof styleText>[0], text);

/** Colour when the stream is a terminal and the environment does not forbid it (https://no-color.org). */
export function wantColor(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== '') return true;
  return Boolean(isTTY) && env.TERM !== 'dumb';
}
