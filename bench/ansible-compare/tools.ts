/**
 * The two tools under test, driven the same way: a project folder each (playbook, template,
 * inventory, and for Ansible its ansible.cfg), one timed process per run with output to a pipe,
 * the PLAY RECAP parsed from its output. Also counts each tool's round trips in a separate,
 * untimed run: tsplay's RunSummary stats through the library API, Ansible's `-vvv` SSH commands.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook, type RunSummary } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { tryRun } from '../../src/lab/exec.js';
import type { LabUpResult } from '../../src/lab/lab.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { renderPlaybook, templateFile, templateText, type BenchTask } from './playbook.js';

export type Tool = 'tsplay' | 'ansible';
export type Mode = 'fresh' | 'converged' | 'check';

/** Ansible's settings for speed: pipelining, ControlPersist, forks like tsplay's default (20). */
export function ansibleCfg(controlPathDir: string): string {
  return `[defaults]
inventory = inventory.yml
forks = 20
retry_files_enabled = False
[ssh_connection]
pipelining = True
ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s
control_path_dir = ${controlPathDir}
`;
}

export interface Projects {
  dir: string;
  tsplay: { dir: string; playbook: string; inventory: string };
  ansible: { dir: string; playbook: string; inventory: string; cfg: string; cfgText: string; controlPathDir: string };
}

/**
 * Ansible's inventory for the lab: the same hosts, user and key as tsplay's, strict host key
 * checking against the lab's known_hosts (ansible_ssh_common_args), python3 named so that no
 * interpreter discovery runs.
 */
function ansibleInventory(lab: LabUpResult): string {
  const sshArgs = `-o UserKnownHostsFile=${lab.knownHostsPath} -o StrictHostKeyChecking=yes`;
  const hosts = Object.fromEntries(
    lab.hosts.map((h) => [
      h.name,
      { ansible_host: h.ip, ansible_user: 'root', ansible_ssh_private_key_file: lab.keyPath, ansible_ssh_common_args: sshArgs, ansible_python_interpreter: '/usr/bin/python3' },
    ]),
  );
  return stringify({ all: { hosts, children: { lab: { hosts: Object.fromEntries(lab.hosts.map((h) => [h.name, {}])) } } } }, { lineWidth: 0 });
}

/** Writes both projects under `dir` (replacing what was there). tsplay uses the lab's own inventory. */
export function writeProjects(dir: string, tasks: BenchTask[], lab: LabUpResult): Projects {
  const root = resolve(dir);
  rmSync(root, { recursive: true, force: true });
  const t = join(root, 'tsplay');
  const a = join(root, 'ansible');
  const controlPathDir = join(root, 'cp');
  for (const d of [join(t, 'templates'), join(a, 'templates'), controlPathDir]) mkdirSync(d, { recursive: true });
  const write = (tool: Tool, base: string) => {
    writeFileSync(join(base, 'site.yml'), stringify(renderPlaybook(tool, tasks), { lineWidth: 0 }));
    writeFileSync(join(base, 'templates', templateFile(tool)), templateText(tool));
  };
  write('tsplay', t);
  write('ansible', a);
  const cfgText = ansibleCfg(controlPathDir);
  writeFileSync(join(a, 'ansible.cfg'), cfgText);
  writeFileSync(join(a, 'inventory.yml'), ansibleInventory(lab));
  return {
    dir: root,
    tsplay: { dir: t, playbook: join(t, 'site.yml'), inventory: lab.inventoryPath },
    ansible: { dir: a, playbook: join(a, 'site.yml'), inventory: join(a, 'inventory.yml'), cfg: join(a, 'ansible.cfg'), cfgText, controlPathDir },
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
  /** User + system CPU seconds of the tool and every process it waited for (bash `times`). */
  cpuS: number;
  code: number;
  output: string;
  recap: Record<string, HostRecap>;
}

/** `1m2.500s` -> 62.5 */
const seconds = (s: string) => {
  const m = /^(\d+)m([\d.]+)s$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};

const TIMES_MARK = '__bench_times__';

/**
 * Runs argv in `cwd` under bash, timing the wall clock around the whole process and reading the
 * children's CPU time from bash's `times` (a bash start, ~2 ms, is inside every measurement).
 */
export function timed(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<TimedRun> {
  return new Promise((done, fail) => {
    const script = `"$@"; rc=$?; echo ${TIMES_MARK} >&2; times >&2; exit $rc`;
    const t0 = process.hrtime.bigint();
    const child = spawn('bash', ['-c', script, 'bash', ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      const stderr = Buffer.concat(err).toString('utf8');
      const [before, times = ''] = stderr.split(`${TIMES_MARK}\n`);
      const children = times.trim().split('\n')[1]?.trim().split(/\s+/) ?? [];
      const cpuS = seconds(children[0] ?? '') + seconds(children[1] ?? '');
      const output = Buffer.concat(out).toString('utf8') + before;
      done({ wallMs, recapMs, cpuS, code: code ?? 1, output, recap: parseRecap(output) });
    });
  });
}

/** How to run `tool`: tsplay's CLI from `tsplayBuild` (a tsc output folder), Ansible's from PATH. */
export function toolArgv(tool: Tool, p: Projects, mode: Mode, tsplayBuild: string, extra: string[] = []): { argv: string[]; cwd: string; env: NodeJS.ProcessEnv } {
  const check = mode === 'check' ? ['--check'] : [];
  if (tool === 'tsplay') {
    const main = join(tsplayBuild, 'cli/main.js');
    return { argv: ['node', main, 'run', p.tsplay.playbook, '-i', p.tsplay.inventory, ...check, ...extra], cwd: p.tsplay.dir, env: process.env };
  }
  return {
    argv: ['ansible-playbook', p.ansible.playbook, ...check, ...extra],
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
export async function tsplayRoundTrips(p: Projects, mode: Mode): Promise<{ summary: RunSummary; trips: RoundTrips }> {
  const inventory = loadInventory([p.tsplay.inventory]);
  const { playbook, registry } = await loadPlaybook(p.tsplay.playbook, { inventory });
  const summary = await runPlaybook(playbook, { inventory, registry, bus: new EventBus(), check: mode === 'check', forks: 20 });
  const s = summary.stats;
  return { summary, trips: { connects: s.connects, execs: s.execs, transfers: 0, probeExecs: s.probeExecs, stepExecs: s.stepExecs, engineMs: summary.durationMs } };
}

/** An Ansible run at -vvv (cold masters), counting the ssh and sftp/scp commands it logs. */
export async function ansibleRoundTrips(p: Projects, mode: Mode, hosts: number): Promise<{ run: TimedRun; trips: RoundTrips }> {
  await closeAnsibleMasters(p);
  const { argv, cwd, env } = toolArgv('ansible', p, mode, '', ['-vvv']);
  const run = await timed(argv, cwd, env);
  const execs = run.output.match(/SSH: EXEC ssh /g)?.length ?? 0;
  const transfers = run.output.match(/SSH: EXEC (sftp|scp) /g)?.length ?? 0;
  return { run, trips: { connects: hosts, execs, transfers } };
}
