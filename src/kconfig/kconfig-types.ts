/**
 * The symbol database kernelfile reads from a kernel source tree's Kconfig files: every definition
 * of every symbol (a symbol may be defined several times, in several files), with the conditions of
 * the if/menu/choice blocks around it, and reverse indexes of `select` and `imply`.
 * Symbol names are stored as Kconfig writes them, without the CONFIG_ prefix.
 */
import type { Expr } from './expr.js';
import type { SymbolType } from './values.js';

export interface Where {
  file: string; // relative to the tree's root, e.g. fs/ext4/Kconfig
  line: number; // 1-based
}

/** A condition that an `if`, `menu` or `choice` block puts on everything inside it. */
export interface Context extends Where {
  kind: 'if' | 'menu' | 'choice';
  /** `if EXPR`, or the block's `depends on` lines ANDed. */
  dependsOn?: Expr;
  /** A menu's `visible if`: hides prompts inside without changing their values. */
  visibleIf?: Expr;
  /** A menu's title. */
  title?: string;
  /** For kind `choice`. */
  choice?: ChoiceDef;
}

export interface Prompt extends Where {
  text: string;
  if?: Expr;
}

export interface Conditional<T> extends Where {
  value: T;
  if?: Expr;
}

interface EntryBase extends Where {
  type?: SymbolType;
  prompt?: Prompt;
  /** The entry's own `depends on` lines, ANDed. */
  dependsOn?: Expr;
  /** Enclosing if/menu/choice blocks, outermost first. */
  context: readonly Context[];
  defaults: Conditional<Expr>[];
  hasHelp: boolean;
}

export interface SymbolDef extends EntryBase {
  name: string;
  keyword: 'config' | 'menuconfig';
  selects: Conditional<string>[];
  implies: Conditional<string>[];
  /** `range MIN MAX [if EXPR]`: MIN and MAX are numbers or symbols. */
  ranges: Conditional<[Expr, Expr]>[];
  /** The choice this symbol is a member of. */
  choice?: ChoiceDef;
  /** `modules`: the symbol that enables loadable modules (MODULES). */
  modules?: boolean;
}

export interface ChoiceDef extends EntryBase {
  /** `choice NAME` (rare); most choices are anonymous. */
  name?: string;
  optional: boolean;
  /** Names of the member symbols, in order. */
  members: string[];
}

/** Symbol `by` selects (or implies) the target when `if` holds. */
export interface ReverseDep extends Where {
  by: string;
  if?: Expr;
}

export interface KconfigProblem extends Where {
  column?: number;
  message: string;
}

export interface KconfigDb {
  symbols: Map<string, SymbolDef[]>;
  choices: ChoiceDef[];
  selectedBy: Map<string, ReverseDep[]>;
  impliedBy: Map<string, ReverseDep[]>;
  /** Every file read, in the order it was sourced. */
  files: string[];
  /** Syntax errors, missing sourced files, constructs skipped. */
  problems: KconfigProblem[];
}

/** Reads a file of the tree by its path relative to the root; undefined if it does not exist. */
export type TreeReader = (relPath: string) => string | undefined;
/** Lists a directory of the tree (names only), for globs in `source`; undefined if it does not exist. */
export type TreeLister = (relDir: string) => string[] | undefined;

/** Preprocessor variables for `$(NAME)`, e.g. { SRCARCH: 'x86', ARCH: 'x86_64' }. */
export type KconfigVars = Readonly<Record<string, string>>;

export interface LoadOptions {
  /** The top file; default `Kconfig`. */
  root?: string;
  /** Needed only for globs such as `source "drivers/*\/Kconfig"`. */
  list?: TreeLister;
}
