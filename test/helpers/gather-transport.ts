/**
 * A transport for gather() tests: it records each run and answers with `respond` (canned output in
 * unit tests, the local sh in integration tests); put, write and get fail, since gathering only reads.
 */
import { capabilitiesOf, parseHostAddress } from '../../src/host/address.js';
import type { RunOptions, RunResult, Transport } from '../../src/host/transport.js';

export function gatherTransport(respond: (stdin: string) => RunResult | Promise<RunResult>) {
  const calls: { argv: readonly string[]; opts: RunOptions | undefined }[] = [];
  const t: Transport = {
    name: 'ssh://root@web-1:22',
    kind: 'ssh',
    capabilities: capabilitiesOf(parseHostAddress('ssh://root@web-1:22')),
    async run(argv, opts) {
      calls.push({ argv, opts });
      return respond(String(opts?.stdin ?? ''));
    },
    put: async () => {
      throw new Error('gather must not put');
    },
    write: async () => {
      throw new Error('gather must not write');
    },
    get: async () => {
      throw new Error('gather must not get');
    },
    close: async () => {},
  };
  return { t, calls };
}
