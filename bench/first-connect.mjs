// Start-up benchmark (issue 12): how long after launch `tsplay run` opens its first SSH
// connection, finishes it, and starts its first task, for several builds of the CLI, run
// interleaved (A B A B ...). Needs root and /usr/sbin/sshd: it starts its own sshd on loopback
// with keys in a temp dir, and measures the first TCP connection through a local relay.
// With --container NAME --key FILE it targets a running sshd container of your own instead
// (e.g. one started from the bench image with FILE.pub as root's authorized_keys).
//
//   node bench/first-connect.mjs [-n RUNS] [--container NAME --key FILE] CLI_MAIN.js [CLI_MAIN.js ...]
//   e.g. node bench/first-connect.mjs -n 10 /tmp/before/dist/cli/main.js dist/cli/main.js
//
// Prints, per build, the medians in ms from spawn: tcp (first connection accepted), connected
// (first connect:progress with a connected host), task (first task:start), total wall, and the
// child's CPU (user+sys). Report the machine's load (uptime) with the numbers.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let runs = 8;
let container;
let containerKey;
for (;;) {
  if (args[0] === '-n') runs = Number(args.splice(0, 2)[1]);
  else if (args[0] === '--container') container = args.splice(0, 2)[1];
  else if (args[0] === '--key') containerKey = args.splice(0, 2)[1];
  else break;
}
if (container && !containerKey) throw new Error('--container needs --key (the private key whose .pub is in its authorized_keys)');
if (!args.length) throw new Error('usage: node bench/first-connect.mjs [-n RUNS] CLI_MAIN.js ...');

const dir = mkdtempSync(join(tmpdir(), 'tsplay-first-connect-'));
const freePort = () => new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const sshdPort = await freePort();
const relayPort = await freePort();
for (const k of ['hk', 'key']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, k)]);
writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'key.pub')));
writeFileSync(join(dir, 'sshd_config'), [`Port ${sshdPort}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'hk')}`, `PidFile ${join(dir, 'pid')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'UsePAM no', 'StrictModes no', 'PasswordAuthentication no', 'PermitRootLogin prohibit-password', 'UseDNS no', ''].join('\n'));
const docker = (...a) => execFileSync('docker', a, { encoding: 'utf8' }).trim();
const target = container ? { host: docker('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', container).split(' ')[0], port: 22 } : { host: '127.0.0.1', port: sshdPort };
const hostKey = (container ? docker('exec', container, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub') : readFileSync(join(dir, 'hk.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${relayPort} ${hostKey}\n`);
writeFileSync(join(dir, 'inv.yml'), `all:\n  hosts:\n    h1:\n      ansible_host: 127.0.0.1\n      ansible_port: ${relayPort}\n      ansible_user: root\n      ansible_ssh_private_key_file: ${container ? containerKey : join(dir, 'key')}\n      known_hosts_file: ${join(dir, 'known_hosts')}\n`);
writeFileSync(join(dir, 'pb.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: a file\n      copy: {dest: ${container ? '/tmp/first-connect.txt' : join(dir, 'out.txt')}, content: "hello\\n"}\n`);
const sshd = container ? undefined : spawn('/usr/sbin/sshd', ['-D', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });

let firstAccept;
const relay = net.createServer((c) => {
  firstAccept ??= Date.now();
  const s = net.connect(target.port, target.host);
  c.pipe(s).pipe(c);
  c.on('error', () => s.destroy());
  s.on('error', () => c.destroy());
}).listen(relayPort, '127.0.0.1');

function once(main) {
  return new Promise((resolve) => {
    firstAccept = undefined;
    const t0 = Date.now();
    const c = spawn('/usr/bin/time', ['-f', '%U %S', process.execPath, main, 'run', join(dir, 'pb.yml'), '-i', join(dir, 'inv.yml'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    let connected;
    let task;
    c.stderr.on('data', (d) => (err += d));
    c.stdout.on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
        const e = JSON.parse(buf.slice(0, i));
        if (e.type === 'connect:progress' && connected === undefined && e.connected > 0) connected = Date.parse(e.ts) - t0;
        if (e.type === 'task:start' && task === undefined) task = Date.parse(e.ts) - t0;
      }
    });
    c.on('exit', (code) => {
      if (code !== 0) console.error(`${main}: exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      const [u, s] = err.trim().split('\n').at(-1).split(' ').map(Number);
      resolve({ tcp: firstAccept - t0, connected, task, total: Date.now() - t0, cpu: Math.round((u + s) * 1000) });
    });
  });
}

try {
  await new Promise((r) => setTimeout(r, 300)); // sshd up
  const keys = ['tcp', 'connected', 'task', 'total', 'cpu'];
  const res = args.map(() => Object.fromEntries(keys.map((k) => [k, []])));
  for (let i = 0; i < runs; i++) {
    for (const [j, main] of args.entries()) {
      const r = await once(main);
      for (const k of keys) res[j][k].push(r[k]);
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`load: ${readFileSync('/proc/loadavg', 'utf8').trim()}; ${runs} runs each, interleaved; medians in ms`);
  for (const [j, main] of args.entries()) console.log(main.padEnd(44), keys.map((k) => `${k} ${med(res[j][k])}`).join('  '));
} finally {
  relay.close();
  sshd?.kill();
  rmSync(dir, { recursive: true, force: true });
}
