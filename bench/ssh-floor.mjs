/**
 * The floor of a fleet plan for any Node tool on SSH: one Node process that connects to every host
 * with ssh2 (the library kernelfile uses), checks each host key against the one expected, runs
 * `true` and disconnects; nothing else (no facts, no plan, no command-line parser). Plain JavaScript
 * so that it starts as fast as Node can (no TypeScript loader). bench/fleet.ts runs it side by side
 * with `kernelfile plan --inventory` on the same hosts.
 *
 *   node bench/ssh-floor.mjs HOSTS.json PARALLEL [SCRIPT]
 *
 * With SCRIPT (a file): `sh -s` instead of `true`, the script on its stdin and its output read and
 * dropped, as kernelfile runs its facts script: the floor with the hosts' share of a plan included.
 *
 * HOSTS.json: [{ "host", "port", "user", "privateKeyPath", "hostKey": base64 of the key blob }].
 * Exit 0 when every host ran `true`; else 1 with the failures on stderr.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const [file, parallelArg, scriptFile] = process.argv.slice(2);
const hosts = JSON.parse(readFileSync(file, 'utf8'));
const script = scriptFile ? readFileSync(scriptFile) : undefined;
const parallel = Number(parallelArg) || hosts.length;

function run(h) {
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    c.on('ready', () =>
      c.exec(script ? 'sh -s' : 'true', (err, ch) => {
        if (err) return reject(err);
        ch.on('close', (code) => {
          c.end();
          if (code === 0) resolve();
          else reject(new Error(`${h.host}:${h.port}: exit ${code}`));
        });
        ch.resume();
        ch.stderr.resume();
        if (script) ch.end(script);
      }),
    );
    c.on('error', reject);
    c.connect({
      host: h.host,
      port: h.port,
      username: h.user,
      privateKey: readFileSync(h.privateKeyPath),
      hostVerifier: (key) => Buffer.from(key).toString('base64') === h.hostKey,
    });
  });
}

const queue = [...hosts];
const failures = [];
await Promise.all(
  Array.from({ length: Math.min(parallel, hosts.length) }, async () => {
    for (let h = queue.shift(); h; h = queue.shift()) await run(h).catch((e) => failures.push(e.message));
  }),
);
if (failures.length) {
  process.stderr.write(`${failures.join('\n')}\n`);
  process.exit(1);
}
