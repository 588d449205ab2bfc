/**
 * Why a text is not JSON: cut short (the input ends inside a value: a write or a copy that did not
 * finish) or malformed (a byte that cannot be there). Iterative, so no nesting depth can overflow
 * the stack. Called only once JSON.parse has refused the text.
 */

type State = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'after';
type Scan = 'complete' | 'truncated' | 'malformed';

const WS = ' \t\n\r';
const HEX4 = /^[0-9a-fA-F]{0,4}$/;

/** Scan a string from its opening quote; the index after it, or why it is not a string. */
function scanString(text: string, start: number): number | 'truncated' | 'malformed' {
  let i = start + 1;
  for (;;) {
    if (i >= text.length) return 'truncated';
    const c = text[i] as string;
    if (c === '"') return i + 1;
    if (c === '\\') {
      const e = text[i + 1];
      if (e === undefined) return 'truncated';
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!HEX4.test(hex)) return 'malformed';
        if (hex.length < 4) return 'truncated';
        i += 6;
      } else if ('"\\/bfnrt'.includes(e)) i += 2;
      else return 'malformed';
    } else if (c < ' ') return 'malformed';
    else i++;
  }
}

export function scanJson(text: string): Scan {
  // Lenient: a number cut short still reads as one (its end is then the end of the input).
  const number = /-?[0-9]*(\.[0-9]*)?([eE][+-]?[0-9]*)?/y;
  const stack: ('{' | '[')[] = [];
  let state: State = 'value';
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && WS.includes(text[i] as string)) i++;
    if (i >= n) return state === 'after' && stack.length === 0 ? 'complete' : 'truncated';
    const c = text[i] as string;
    switch (state) {
      case 'value':
      case 'value-or-close': {
        if (c === ']' && state === 'value-or-close') {
          stack.pop();
          i++;
          state = 'after';
        } else if (c === '{' || c === '[') {
          stack.push(c);
          i++;
          state = c === '{' ? 'key-or-close' : 'value-or-close';
        } else if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== 'number') return end;
          i = end;
          state = 'after';
        } else if (c === '-' || (c >= '0' && c <= '9')) {
          number.lastIndex = i;
          number.exec(text);
          i = number.lastIndex;
          state = 'after';
        } else {
          const word = ['true', 'false', 'null'].find((w) => w[0] === c);
          if (!word) return 'malformed';
          const rest = text.slice(i, i + word.length);
          if (rest === word) i += word.length;
          else return word.startsWith(rest) && i + rest.length >= n ? 'truncated' : 'malformed';
          state = 'after';
        }
        break;
      }
      case 'key':
      case 'key-or-close': {
        if (c === '}' && state === 'key-or-close') {
          stack.pop();
          i++;
          state = 'after';
        } else if (c === '"') {
          const end = scanString(text, i);
          if (typeof end !== 'number') return end;
          i = end;
          state = 'colon';
        } else return 'malformed';
        break;
      }
      case 'colon':
        if (c !== ':') return 'malformed';
        i++;
        state = 'value';
        break;
      case 'after': {
        const top = stack.at(-1);
        if (top === undefined) return 'malformed';
        if (c === ',') state = top === '{' ? 'key' : 'value';
        else if ((c === '}' && top === '{') || (c === ']' && top === '[')) stack.pop();
        else return 'malformed';
        i++;
        break;
      }
    }
  }
}
