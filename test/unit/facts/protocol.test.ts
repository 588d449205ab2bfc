/** The section protocol's pure parts (test/integration/facts-protocol.test.ts runs the prelude under sh). */
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../../src/facts/families.js';
import {
  composeScript,
  familyBlock,
  inPlace,
  isComplete,
  prelude,
  splitSections,
} from '../../../src/facts/protocol.js';

const NONCE = 'kfTEST0123456789';

describe('splitSections', () => {
  it('ignores what comes before the first header (a login banner, a chatty .bashrc)', () => {
    const out = `Welcome to web-1\n${NONCE} system arch\nx86_64\n${NONCE} - end\nok\n`;
    expect(splitSections(out, NONCE)).toEqual({ system: { arch: 'x86_64' }, '-': { end: 'ok' } });
  });

  it('keeps keys with spaces and slashes whole', () => {
    const out = `${NONCE} boot entry:/boot/loader/entries/a b.conf\ntitle A\n\n`;
    expect(splitSections(out, NONCE).boot?.['entry:/boot/loader/entries/a b.conf']).toBe('title A\n');
  });

  it('cuts what a line-by-line reading cuts, on any mix of headers, near-headers and content', () => {
    // The reference: every line read in turn, a header line starts a section, the rest is content.
    const byLines = (output: string) => {
      const out: Record<string, Record<string, string>> = {};
      let cur: { family: string; key: string; lines: string[] } | null = null;
      const flush = () => {
        if (cur) out[cur.family] = { ...(out[cur.family] ?? {}), [cur.key]: cur.lines.join('\n') };
      };
      for (const line of (output.endsWith('\n') ? output.slice(0, -1) : output).split('\n')) {
        const rest = line.startsWith(`${NONCE} `) ? line.slice(NONCE.length + 1) : null;
        const sp = rest?.indexOf(' ') ?? -1;
        if (rest !== null && sp > 0) {
          flush();
          cur = { family: rest.slice(0, sp), key: rest.slice(sp + 1), lines: [] };
        } else cur?.lines.push(line);
      }
      flush();
      return out;
    };
    const pieces = [
      `${NONCE} f k`,
      `${NONCE} g a b`,
      `${NONCE} f k2`,
      `${NONCE} nospace`,
      `${NONCE}  lead`,
      `x${NONCE} f z`,
      '',
      'text',
      'two words',
    ];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 2000; round++) {
      const lines = Array.from({ length: rand(9) }, () => pieces[rand(pieces.length)] as string);
      const output = lines.join('\n') + (rand(2) ? '\n' : '');
      expect(splitSections(output, NONCE), JSON.stringify(output)).toEqual(byLines(output));
    }
  });

  it('is incomplete without the trailer', () => {
    expect(isComplete(splitSections(`${NONCE} system arch\nx86_64\n`, NONCE))).toBe(false);
  });
});

describe('the nonce', () => {
  it('rejects a nonce that could break the script', () => {
    expect(() => prelude("x'; rm -rf /; '")).toThrow(/bad nonce/);
    expect(() => prelude('short')).toThrow(/bad nonce/);
  });
});

describe('composeScript', () => {
  const fams = () => [
    { name: 'one', script: 'kf_val a 1' },
    { name: 'two', script: 'kf_val b 2' },
  ];

  it('gives every host of a list the same families, its own nonce and options', () => {
    const list = fams();
    const a = composeScript('kfAAAA0000', list);
    const b = composeScript('kfBBBB1111', list, { knownBoot: '0b1f2c3d-1111-2222-3333-444455556666' });
    expect(a.slice(a.indexOf('kf__fam=one'))).toBe(b.slice(b.indexOf('kf__fam=one')));
    expect(a).toContain("kf__nonce='kfAAAA0000'");
    expect(b).toContain("kf__nonce='kfBBBB1111'");
    expect(b).toContain("kf_kboot='0b1f2c3d-1111-2222-3333-444455556666'");
    expect(a).not.toContain('kf_kboot');
    expect(b.endsWith('kf__fam=-\nkf_val end ok\n')).toBe(true);
  });

  it('joins a list again once it changed: a family replaced, added or removed', () => {
    const list = fams();
    expect(composeScript(NONCE, list)).toContain('kf_val b 2');
    list[1] = { name: 'two', script: 'kf_val b 3' };
    expect(composeScript(NONCE, list)).toContain('kf_val b 3');
    list.push({ name: 'three', script: 'kf_val c 4' });
    expect(composeScript(NONCE, list)).toContain('kf__fam=three');
    list.splice(0, 2);
    const s = composeScript(NONCE, list);
    expect(s).not.toContain('kf__fam=one');
    expect(s).toContain('kf__fam=three');
  });
});

describe("families in the script's own shell", () => {
  it('every family runs without a subshell of its own (no fork per family)', () => {
    for (const f of Object.values(FAMILIES)) {
      expect(inPlace(f.script), f.name).toBe(true);
      expect(familyBlock(f.name, f.script)).toMatch(
        new RegExp(`^kf__fam=${f.name}\n\\{\n[\\s\\S]*\n\\} </dev/null 2>/dev/null\n$`),
      );
    }
    expect(composeScript(NONCE, Object.values(FAMILIES))).not.toMatch(/^\($/m);
  });

  it.each([
    ['exit', 'kf_val a 1\nexit 3'],
    ['exit after a list', '[ -d /x ] || exit 0'],
    ['exec', 'exec 4>&1'],
    ['shift', 'shift 2'],
    ['set -e', 'set -e'],
    ['set +f', 'kf_val a 1; set +f'],
    ['trap', "trap 'kf_val a 1' EXIT"],
    ['readonly', 'readonly kf_x=1'],
    ['unset', 'unset kf_x'],
    ['export', 'export kf_x'],
    ['eval', 'eval "$kf_x"'],
    ['dot', '. /etc/os-release'],
    ['cd elsewhere', 'cd /tmp'],
    ['cd to $HOME', 'cd'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: sh text, not a template
    ['${x?}', 'kf_val a "${kf_x?unset}"'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: sh text, not a template
    ['${x:?}', 'kf_val a "${kf_x:?}"'],
    ['arithmetic on a value', 'kf_val a $((kf_x * 2))'],
    ['arithmetic on host data', 'kf_val a $(($kf_l + 1))'],
    ['bare IFS', 'IFS=:\nfor kf_x in $PATH; do :; done'],
    ['bare IFS after then', 'if true; then IFS=; fi'],
    ['return at the top', 'kf_val a 1 || return'],
    ['a prelude function redefined', 'kf_h() { :; }'],
  ])('a fragment with %s gets a subshell', (_what, script) => {
    expect(inPlace(script)).toBe(false);
    expect(familyBlock('t', script)).toMatch(/^kf__fam=t\n\(\n[\s\S]*\n\) <\/dev\/null 2>\/dev\/null\n$/);
  });

  it.each([
    ['set --', 'set --\nset -- "$@" /boot\nset --; kf_x=1'],
    ['cd /', 'cd / && {\nkf_val a 1\n}'],
    ['IFS= read', 'while IFS= read -r kf_l; do :; done </etc/hostname'],
    ['a counter going down', 'kf_n=$((kf_n - 1))'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: sh text, not a template
    ['a counter', 'kf_n=0; kf_n=$((kf_n + 1)); kf_n=$((kf_n + ${#kf_l} + 1))'],
    ['return inside its own function', 'kf_mine() {\n  [ -f "$1" ] || return 1\n}\nkf_one() { return 0; }'],
    ['a case pattern that names a builtin', 'case $kf_x in build|source|exit) continue ;; esac'],
    ['a word that only contains one', 'kf_exit=1; kf_val exec-path /x; kf_val "set:$kf_x" 1'],
    ['a comment', '# exit here would end the shell\nkf_val a 1'],
  ])('a fragment with %s runs in place', (_what, script) => {
    expect(inPlace(script)).toBe(true);
  });
});
