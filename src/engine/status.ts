/** Where each host stands against its kernelfile, from its plan and facts (read-only). */
import { hostState, type StatusRow, worstExit } from '../fleet/status.js';
import type { FleetHost } from './planning.js';

export type { HostState, StatusRow } from '../fleet/status.js';
export { STATE_EXIT, STATE_TEXT } from '../fleet/status.js';

export function statusRows(hosts: readonly FleetHost[]): { rows: StatusRow[]; exitCode: number } {
  const rows = hosts.map((h): StatusRow => {
    if (!h.ok)
      return {
        name: h.target.name,
        state: h.unreachable ? 'unreachable' : 'error',
        detail: h.error,
        running: null,
        target: null,
      };
    const s = hostState(h.plan, h.facts, { image: !h.transport.capabilities.runningKernel });
    return {
      name: h.target.name,
      state: s.state,
      detail: s.detail,
      running: h.facts.system.running,
      target: h.plan.summary.release,
    };
  });
  return { rows, exitCode: worstExit(rows.map((r) => r.state)) };
}
