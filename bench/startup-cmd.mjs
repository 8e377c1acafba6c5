// Start-up benchmark (issue 12): wall time and CPU (user+sys) of short tsplay commands for
// several builds of the CLI, run interleaved (A B C A B C ...), which hyperfine does not do.
//
//   node bench/startup-cmd.mjs [-n RUNS] [--cwd DIR] CLI_MAIN.js [...] -- ARGS...
//   e.g. node bench/startup-cmd.mjs -n 20 /tmp/before/dist/cli/main.js dist/bin/tsplay.js -- --help
//        node bench/startup-cmd.mjs -n 20 A.js B.js -- validate playbooks/site.yml -i inv.yml
//
// Prints per build the median, min and max wall (ms, from spawn to exit) and the median CPU
// (ms, GNU time), with `node -e 0` as the floor, and the load average at the end.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
let runs = 20;
let cwd = process.cwd();
for (;;) {
  if (args[0] === '-n') runs = Number(args.splice(0, 2)[1]);
  else if (args[0] === '--cwd') cwd = args.splice(0, 2)[1];
  else break;
}
const sep = args.indexOf('--');
if (sep < 1) throw new Error('usage: node bench/startup-cmd.mjs [-n RUNS] [--cwd DIR] CLI_MAIN.js ... -- ARGS...');
const mains = args.slice(0, sep);
const cmdArgs = args.slice(sep + 1);
const variants = [...mains.map((m) => ({ label: m, argv: [m, ...cmdArgs] })), { label: 'node -e 0 (floor)', argv: ['-e', '0'] }];

function once(argv) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const c = spawn('/usr/bin/time', ['-f', '%U %S', process.execPath, ...argv], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      const [u, s] = err.trim().split('\n').at(-1).split(' ').map(Number);
      if (code !== 0) console.error(`${argv.join(' ')}: exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      resolve({ wall, cpu: (u + s) * 1000 });
    });
  });
}

const res = variants.map(() => ({ wall: [], cpu: [] }));
for (let i = 0; i < runs; i++) {
  for (const [j, v] of variants.entries()) {
    const r = await once(v.argv);
    res[j].wall.push(r.wall);
    res[j].cpu.push(r.cpu);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`tsplay ${cmdArgs.join(' ')}: ${runs} runs each, interleaved; load: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
for (const [j, v] of variants.entries()) {
  const w = res[j].wall;
  console.log(`${v.label.padEnd(44)} wall median ${med(w).toFixed(0)} ms (min ${Math.min(...w).toFixed(0)}, max ${Math.max(...w).toFixed(0)})  cpu median ${med(res[j].cpu).toFixed(0)} ms`);
}
