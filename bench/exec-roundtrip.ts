/**
 * Exec round trip over SSH against a local sshd (test/helpers/sshd.ts; needs root).
 *   node --import tsx bench/exec-roundtrip.ts [count]
 * Prints: connect time, median/p90 latency of sequential `true` execs with and without
 * TCP_NODELAY, and throughput with 5 execs in flight.
 */
import { SshConnection } from '../src/connection/ssh.js';
import type { ConnectionVars } from '../src/connection/types.js';
import { startSshd, type Sshd } from '../test/helpers/sshd.js';

const COUNT = Number(process.argv[2] ?? 200);

function vars(s: Sshd): ConnectionVars {
  return {
    name: 'bench',
    address: s.host,
    port: s.port,
    user: s.user,
    privateKeyFile: s.keyFile,
    become: false,
    becomeUser: 'root',
    becomeMethod: 'sudo',
    connection: 'ssh',
    hostKeyChecking: 'strict',
    knownHostsFile: s.knownHostsFile,
    connectTimeoutMs: 10_000,
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function sequential(s: Sshd, noDelay: boolean): Promise<void> {
  const c = new SshConnection(vars(s), { noDelay });
  let t = performance.now();
  await c.connect();
  const connectMs = performance.now() - t;
  await c.run('true'); // warm up
  const lat: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    t = performance.now();
    const r = await c.run('true');
    lat.push(performance.now() - t);
    if (r.code !== 0) throw new Error('exec failed');
  }
  lat.sort((a, b) => a - b);
  console.log(
    `sequential, noDelay=${noDelay}: connect ${ms(connectMs)}; ${COUNT} execs: median ${ms(quantile(lat, 0.5))}, p90 ${ms(quantile(lat, 0.9))}, min ${ms(lat[0]!)}`,
  );
  await c.close();
}

async function parallel(s: Sshd, inFlight: number): Promise<void> {
  const c = new SshConnection(vars(s));
  await c.connect();
  await c.run('true');
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < COUNT) await c.run('true');
    }),
  );
  const total = performance.now() - t;
  console.log(`${COUNT} execs, ${inFlight} in flight: ${ms(total)} total, ${(COUNT / (total / 1000)).toFixed(0)} execs/s`);
  await c.close();
}

const server = await startSshd();
try {
  await sequential(server, true);
  await sequential(server, false);
  await parallel(server, 5);
} finally {
  await server.stop();
}
