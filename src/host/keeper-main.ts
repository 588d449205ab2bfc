/**
 * The keeper's process (keeper.ts): `node dist/bundle/keeper.cjs SOCKET VERSION`, started detached by
 * kept.ts. Its own bundle (scripts/bundle.ts), so the command line never loads it.
 */
import { runKeeper } from './keeper.js';

const [socket, version] = process.argv.slice(2);
if (!socket || !version) {
  process.stderr.write('usage: keeper.cjs SOCKET VERSION (started by kernelfile --control-persist)\n');
  process.exit(2);
}
process.title = 'kernelfile-keeper';
runKeeper(socket, version).then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`kernelfile keeper: ${e.message}\n`);
    process.exit(1);
  },
);
