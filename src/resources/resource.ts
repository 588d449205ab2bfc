/**
 * A resource kind as the planner sees it. The planner runs the registry (./index.ts) in `order`,
 * giving each the changes planned before it (`upstream`): what it depends on.
 */
import type { PlannedChange } from './change.js';
import type { Ctx } from './context.js';

export interface Resource {
  /** The resource kind (its file's name): kernel, dkms-module, …; a resource may plan changes of more than one kind (default-entry: trial). */
  readonly name: string;
  /** Where it plans among the others, ascending: the order apply converges them in. */
  readonly order: number;
  /** Part of installing the release: the receipt is written after the last of these changes that does something. */
  readonly installs: boolean;
  /** Its changes, from the context (desired state, facts) and the changes planned before it. */
  plan(ctx: Ctx, upstream: readonly PlannedChange[]): PlannedChange[];
}
