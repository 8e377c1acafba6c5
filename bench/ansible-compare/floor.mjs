// The raw SSH floor: what a converged run costs with no engine at all. One ssh2 connection per
// host (up to 20 at once, like both tools' forks), ONE exec of the same read-only checks a
// converged tsplay run needs (bench/ansible-compare/playbook.ts floorScript), output read, done.
// Plain JavaScript on purpose: started with `node`, no TypeScript loader in the measurement.
//
//   node floor.mjs hosts.json script.sh      hosts.json: {keyPath, hostKey, hosts: [{name, ip}]}
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import ssh2 from 'ssh2';

const [hostsFile, scriptFile] = process.argv.slice(2);
const { keyPath, hostKey, hosts } = JSON.parse(readFileSync(hostsFile, 'utf8'));
const privateKey = readFileSync(keyPath);
const script = readFileSync(scriptFile, 'utf8');

function check(host) {
  return new Promise((done, fail) => {
    const sock = connect(22, host.ip);
    sock.setNoDelay(true);
    const client = new ssh2.Client();
    client.on('error', fail);
    client.on('ready', () => {
      client.exec(script, (err, stream) => {
        if (err) return fail(err);
        let out = '';
        stream.on('data', (b) => (out += b));
        stream.stderr.on('data', (b) => process.stderr.write(`${host.name}: ${b}`));
        stream.on('close', (code) => {
          client.end();
          if (code !== 0) fail(new Error(`${host.name}: checks exited ${code}`));
          else done(out.length);
        });
      });
    });
    client.connect({ sock, username: 'root', privateKey, hostVerifier: (key) => key.toString('base64') === hostKey, readyTimeout: 120_000 });
  });
}

let next = 0;
let bytes = 0;
const worker = async () => {
  while (next < hosts.length) bytes += await check(hosts[next++]);
};
await Promise.all(Array.from({ length: Math.min(20, hosts.length) }, worker));
console.log(`floor: ${hosts.length} host(s), 1 exec each, ${bytes} bytes of facts`);
