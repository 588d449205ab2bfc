/**
 * The engine's one error vocabulary. Every failure a user can act on is one of these typed errors
 * (or a HostError, AddressError, BuildError, StepError from the layer that raised it); `describe`
 * turns any of them into the one line, hint and details a face shows, and says whether the host
 * was lost (unreachable) or failed.
 */
import { BuildError } from '../compile/errors.js';
import { AddressError } from '../host/kind.js';
import { HostError, type HostErrorKind } from '../host/transport.js';

/** Something the user asked for cannot be done as asked: one line and a hint, never a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** An apply that stopped on a host after changing part of it: the previous default is intact. */
export class ApplyError extends Error {
  constructor(
    message: string,
    readonly hint: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'ApplyError';
  }
}

/** A saved plan that no longer matches the host or the kernelfile: nothing was changed. */
export class StalePlanError extends UserError {
  override name = 'StalePlanError';
}

/** A saved plan that says something else than a fresh plan for the host: nothing was changed. */
export class PlanMismatchError extends UserError {
  override name = 'PlanMismatchError';
}

/** Host error kinds that mean "the host could not be reached or was lost", not "it failed". */
const LOST: ReadonlySet<HostErrorKind> = new Set([
  'unreachable',
  'auth',
  'host-key-unknown',
  'host-key-changed',
  'disconnected',
  'timeout',
]);

export interface Described {
  message: string;
  hint?: string;
  details: string[];
  /** The host could not be reached, or the connection was lost. */
  unreachable: boolean;
  /** A failure kernelfile expected (shown as one line); false: a bug (internal error). */
  expected: boolean;
}

export function describe(e: unknown): Described {
  if (e instanceof HostError)
    return { message: e.message, hint: e.hint, details: [], unreachable: LOST.has(e.kind), expected: true };
  if (e instanceof BuildError || e instanceof ApplyError)
    return { message: e.message, hint: e.hint, details: e.details, unreachable: false, expected: true };
  if (e instanceof UserError || e instanceof AddressError)
    return { message: e.message, hint: e.hint, details: [], unreachable: false, expected: true };
  const err = e as Error;
  return { message: err?.message ?? String(e), details: [], unreachable: false, expected: false };
}
