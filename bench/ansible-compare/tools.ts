/**
 * The tools under test, driven the same way: a project folder each (playbook, template,
 * inventories, for Ansible its ansible.cfg; for the floor its script and host lists), one timed
 * process per run with output to a pipe, the PLAY RECAP parsed from its output. Also counts each tool's round trips in a separate,
 * untimed run: tsplay's RunSummary stats through the library API, Ansible's `-vvv` SSH commands.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook, type RunSummary } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { tryRun } from '../../src/lab/exec.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { BenchHosts } from './hosts.js';
import { floorScript, renderPlaybook, templateFile, templateText, type BenchTask } from './playbook.js';

/** This folder (floor.mjs lives here). */
const FLOOR_DIR = dirname(fileURLToPath(import.meta.url));

export type Tool = 'tsplay' | 'ansible' | 'floor';
export type Mode = 'fresh' | 'converged' | 'check';

/** Ansible's settings for speed: pipelining, ControlPersist, forks like tsplay's default (20). */
export function ansibleCfg(controlPathDir: string): string {
  return `[defaults]
forks = 20
retry_files_enabled = False
[ssh_connection]
pipelining = True
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s
control_path_dir = ${controlPathDir}
`;
}

/** The three project folders, with one inventory (or host list) per lab size. */
export interface Projects {
  dir: string;
  tsplay: { dir: string; playbook: string; inventory: (n: number) => string };
  ansible: { dir: string; playbook: string; inventory: (n: number) => string; cfg: string; cfgText: string; controlPathDir: string };
  floor: { dir: string; script: string; hosts: (n: number) => string };
}

/**
 * The first `n` hosts as a YAML inventory in the group `lab`: root with the bench key, strict
 * host key checking against the bench's known_hosts (tsplay: its own host vars; Ansible: ssh
 * arguments), and for Ansible python3 named so that no interpreter discovery runs.
 */
function inventory(tool: 'tsplay' | 'ansible', bench: BenchHosts, n: number): string {
  const conn = { ansible_user: 'root', ansible_ssh_private_key_file: bench.keyPath };
  const extra =
    tool === 'tsplay'
      ? { known_hosts_file: bench.knownHostsPath, host_key_checking: 'strict' }
      : { ansible_ssh_common_args: `-o UserKnownHostsFile=${bench.knownHostsPath} -o StrictHostKeyChecking=yes`, ansible_python_interpreter: '/usr/bin/python3' };
  const hosts = bench.hosts.slice(0, n);
  const vars = Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.ip, ...conn, ...extra }]));
  return stringify({ all: { hosts: vars, children: { lab: { hosts: Object.fromEntries(hosts.map((h) => [h.name, {}])) } } } }, { lineWidth: 0 });
}

/** Writes the three projects under `dir` (replacing what was there), an inventory per size in `sizes`. */
export function writeProjects(dir: string, tasks: BenchTask[], bench: BenchHosts, sizes: number[]): Projects {
  const root = resolve(dir);
  rmSync(root, { recursive: true, force: true });
  const t = join(root, 'tsplay');
  const a = join(root, 'ansible');
  const f = join(root, 'floor');
  const controlPathDir = join(root, 'cp');
  for (const d of [join(t, 'templates'), join(a, 'templates'), f, controlPathDir]) mkdirSync(d, { recursive: true });
  const write = (tool: 'tsplay' | 'ansible', base: string) => {
    writeFileSync(join(base, 'site.yml'), stringify(renderPlaybook(tool, tasks), { lineWidth: 0 }));
    writeFileSync(join(base, 'templates', templateFile(tool)), templateText(tool));
    for (const n of sizes) writeFileSync(join(base, `inventory-${n}.yml`), inventory(tool, bench, n));
  };
  write('tsplay', t);
  write('ansible', a);
  const cfgText = ansibleCfg(controlPathDir);
  writeFileSync(join(a, 'ansible.cfg'), cfgText);
  writeFileSync(join(f, 'script.sh'), floorScript(tasks));
  for (const n of sizes) {
    const hosts = bench.hosts.slice(0, n).map((h) => ({ name: h.name, ip: h.ip }));
    writeFileSync(join(f, `hosts-${n}.json`), JSON.stringify({ keyPath: bench.keyPath, hostKey: bench.hostKey, hosts }));
  }
  return {
    dir: root,
    tsplay: { dir: t, playbook: join(t, 'site.yml'), inventory: (n) => join(t, `inventory-${n}.yml`) },
    ansible: { dir: a, playbook: join(a, 'site.yml'), inventory: (n) => join(a, `inventory-${n}.yml`), cfg: join(a, 'ansible.cfg'), cfgText, controlPathDir },
    floor: { dir: f, script: join(f, 'script.sh'), hosts: (n) => join(f, `hosts-${n}.json`) },
  };
}

export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

/** `host : ok=N changed=N unreachable=N failed=N ...` lines (the same in both tools' output). */
export function parseRecap(output: string): Record<string, HostRecap> {
  const out: Record<string, HostRecap> = {};
  const re = /^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm;
  for (const m of output.matchAll(re)) out[m[1]!] = { ok: +m[2]!, changed: +m[3]!, unreachable: +m[4]!, failed: +m[5]! };
  return out;
}

export interface TimedRun {
  wallMs: number;
  /** When the "PLAY RECAP" header reached the pipe (both tools flush it as they print it). */
  recapMs: number;
  /** User + system CPU seconds of the tool and every process it waited for (GNU time). */
  cpuS: number;
  /** Peak resident set of the largest single process of the tree, MiB (GNU time %M). */
  rssMiB: number;
  code: number;
  output: string;
  recap: Record<string, HostRecap>;
}

/**
 * Runs argv in `cwd` under /usr/bin/time (GNU time: the child's rusage, so CPU and peak RSS
 * include every process it waited for), timing the wall clock around the whole process.
 */
export function timed(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  const timesFile = join(cwd, `.time-${process.pid}`);
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-o', timesFile, '-f', '%U %S %M', ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let recapMs = NaN;
    let tail = '';
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      const text = tail + b.toString('latin1');
      if (Number.isNaN(recapMs) && text.includes('PLAY RECAP')) recapMs = Number(process.hrtime.bigint() - t0) / 1e6;
      tail = text.slice(-20);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', fail);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const [user = NaN, sys = NaN, rssKiB = NaN] = readFileSync(timesFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      rmSync(timesFile, { force: true });
      const output = Buffer.concat(out).toString('utf8') + Buffer.concat(err).toString('utf8');
      done({ wallMs, recapMs, cpuS: user + sys, rssMiB: rssKiB / 1024, code: code ?? 1, output, recap: parseRecap(output) });
    });
  });
}

/** How to run `tool` on the first `n` hosts: tsplay's CLI from `tsplayBuild` (a tsc output folder), Ansible's from PATH. */
export function toolArgv(tool: Tool, p: Projects, mode: Mode, n: number, tsplayBuild: string, extra: string[] = []): { argv: string[]; cwd: string; env: NodeJS.ProcessEnv } {
  const check = mode === 'check' ? ['--check'] : [];
  if (tool === 'floor') return { argv: ['node', join(FLOOR_DIR, 'floor.mjs'), p.floor.hosts(n), p.floor.script], cwd: p.floor.dir, env: process.env };
  if (tool === 'tsplay') {
    const main = join(tsplayBuild, 'cli/main.js');
    return { argv: ['node', ...extra, main, 'run', p.tsplay.playbook, '-i', p.tsplay.inventory(n), ...check], cwd: p.tsplay.dir, env: process.env };
  }
  return {
    argv: ['ansible-playbook', '-i', p.ansible.inventory(n), p.ansible.playbook, ...check, ...extra],
    cwd: p.ansible.dir,
    env: { ...process.env, ANSIBLE_CONFIG: p.ansible.cfg, ANSIBLE_NOCOLOR: '1' },
  };
}

/**
 * Ends Ansible's ControlPersist masters (`ssh -O exit` on each socket), so that the next run
 * pays for its own SSH connections like a tsplay run does ("cold"). Returns how many it closed.
 */
export async function closeAnsibleMasters(p: Projects): Promise<number> {
  let closed = 0;
  for (const sock of readdirSync(p.ansible.controlPathDir)) {
    const r = await tryRun('ssh', ['-o', `ControlPath=${join(p.ansible.controlPathDir, sock)}`, '-O', 'exit', 'bench-control-master']);
    if (r.code === 0) closed++;
    else rmSync(join(p.ansible.controlPathDir, sock), { force: true });
  }
  return closed;
}

export interface RoundTrips {
  /** tsplay: SSH connections opened; Ansible: hosts (one ControlPersist master each, cold). */
  connects: number;
  /** Commands run on hosts (tsplay: execs; Ansible: `ssh` invocations in -vvv output). */
  execs: number;
  /** Files sent (Ansible: sftp/scp transfers; tsplay sends content inside its execs: 0). */
  transfers: number;
  /** tsplay only: probe and apply execs, as counted by the engine. */
  probeExecs?: number;
  stepExecs?: number;
  /** tsplay only: the engine's own duration in-process (no node start, no module loading). */
  engineMs?: number;
}

/** A tsplay run through the library API, for its RunSummary stats. */
export async function tsplayRoundTrips(p: Projects, mode: Mode, n: number): Promise<{ summary: RunSummary; trips: RoundTrips }> {
  const inventory = loadInventory([p.tsplay.inventory(n)]);
  const { playbook, registry } = await loadPlaybook(p.tsplay.playbook, { inventory });
  const summary = await runPlaybook(playbook, { inventory, registry, bus: new EventBus(), check: mode === 'check', forks: 20 });
  const s = summary.stats;
  return { summary, trips: { connects: s.connects, execs: s.execs, transfers: 0, probeExecs: s.probeExecs, stepExecs: s.stepExecs, engineMs: summary.durationMs } };
}

/** An Ansible run at -vvv (cold masters), counting the ssh and sftp/scp commands it logs. */
export async function ansibleRoundTrips(p: Projects, mode: Mode, hosts: number): Promise<{ run: TimedRun; trips: RoundTrips }> {
  await closeAnsibleMasters(p);
  const { argv, cwd, env } = toolArgv('ansible', p, mode, hosts, '', ['-vvv']);
  const run = await timed(argv, cwd, env);
  const execs = run.output.match(/SSH: EXEC ssh /g)?.length ?? 0;
  const transfers = run.output.match(/SSH: EXEC (sftp|scp) /g)?.length ?? 0;
  return { run, trips: { connects: hosts, execs, transfers } };
}
