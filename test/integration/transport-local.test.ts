import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalTransport } from '../../src/host/local.js';
import { transportContract } from './contract.js';

transportContract('local', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'kf-local-'));
  return {
    t: new LocalTransport(),
    scratch,
    sudoBecomesRoot: process.getuid?.() === 0,
    stop: async () => rmSync(scratch, { recursive: true, force: true }),
  };
});
