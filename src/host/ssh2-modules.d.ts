/**
 * Two of ssh2's own modules, which src/host/ssh.ts imports instead of ssh2's index: the index also
 * loads its SSH server, key generator and HTTP(S) agents, and with them node:http, https and tls
 * (about 20 ms of every start of an SSH command). Typed as @types/ssh2 types them in the index.
 */
declare module 'ssh2/lib/client.js' {
  import type { Client } from 'ssh2';

  const client: typeof Client;
  export default client;
}

declare module 'ssh2/lib/protocol/keyParser.js' {
  import type { utils } from 'ssh2';

  const keyParser: { parseKey: typeof utils.parseKey };
  export default keyParser;
}
