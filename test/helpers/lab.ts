/**
 * The shared lab of the end-to-end suites (test/e2e/*): two real Debian hosts on the local
 * Docker engine, brought up once per test process and taken down by the root hook
 * (root-hooks.ts) after every suite has run.
 *
 *   e2e1  base flavor    groups [e2e]
 *   e2e2  docker flavor  groups [e2e]   (its own Docker engine, for docker-firewall tests)
 *
 * `run(playbook)` runs a playbook on it through the library API (the real engine, real SSH) and
 * returns the summary with per-task, per-host results; `sh(host, cmd)` inspects a host behind the
 * engine's back (docker exec), `ssh(host, cmd, {user, key})` logs in with OpenSSH. The lab is
 * never restarted between suites: a suite resets what it touched itself.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { EventBus, type EngineEvent, type HostStatus, type TaskHostResult } from '../../src/engine/events.js';
import { runPlaybook, type RunSummary } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { tryRun, type RunResult } from '../../src/lab/exec.js';
import { labDown, labStatus, labUp, type LabHost } from '../../src/lab/lab.js';
import { ensurePrerequisites } from '../../src/lab/prerequisites.js';
import type { LabProgress } from '../../src/lab/progress.js';
import { validateLabSpec } from '../../src/lab/spec.js';
import { loadPlaybook } from '../../src/playbook/load.js';

/** How long a suite's `before` should allow for `sharedLab()` (a cold image build included). */
export const LAB_UP_TIMEOUT_MS = 30 * 60_000;

export interface LabRunOptions {
  check?: boolean;
  diff?: boolean;
  extraVars?: Record<string, unknown>;
  limit?: string;
  /** More project files, by path relative to the project dir (e.g. `templates/motd.ejs`). */
  files?: Record<string, string | Buffer>;
}

export interface LabRun {
  summary: RunSummary;
  events: EngineEvent[];
  /** Every result of the task with this (rendered) name, on every host and loop item. */
  results(task: string): TaskHostResult[];
  /** The result of a task on one host (the last one, for a loop: its summary line). */
  result(task: string, host: string): TaskHostResult;
  /** `{ host: status }` of a task. */
  status(task: string): Record<string, HostStatus>;
  /** The project dir the playbook was written to. */
  dir: string;
}

export interface SharedLab {
  name: string;
  inventoryPath: string;
  keyPath: string;
  knownHostsPath: string;
  hosts: LabHost[];
  /** Seconds `labUp` took in this process. */
  upSeconds: number;
  ip(host: string): string;
  run(playbookYaml: string, opts?: LabRunOptions): Promise<LabRun>;
  /** `sh -c cmd` as root inside the host's container (docker exec): inspection without the engine. */
  sh(host: string, cmd: string, opts?: { input?: string }): Promise<RunResult>;
  /** `cmd` through OpenSSH with strict host key checking; default user root with the lab key. */
  ssh(host: string, cmd: string, opts?: { user?: string; key?: string }): Promise<RunResult>;
}

export const SHARED_LAB_SPEC = validateLabSpec({
  name: `e2e-${process.pid}`,
  hosts: [
    { name: 'e2e1', groups: ['e2e'] },
    { name: 'e2e2', groups: ['e2e'], docker: true },
  ],
});

const ROLES = join(import.meta.dirname, '../../roles');

/** Every file of the roles in roles/, as `roles/NAME/...` project files (for `run`'s `files`). */
export function roleFiles(...names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out[join('roles', relative(ROLES, path))] = readFileSync(path, 'utf8');
    }
  };
  for (const n of names) walk(join(ROLES, n));
  return out;
}

let shared: Promise<SharedLab> | undefined;
let stateDir: string | undefined;
const projects: string[] = [];

/** The lab of this test process, brought up on first use. */
export function sharedLab(): Promise<SharedLab> {
  shared ??= bringUp();
  return shared;
}

/** Takes the shared lab down if this process brought it up (or tried to). Called by the root hook. */
export async function stopSharedLab(): Promise<void> {
  if (!shared || !stateDir) return;
  shared = undefined;
  const t0 = Date.now();
  await labDown(SHARED_LAB_SPEC.name, { stateDir });
  console.log(`      [shared lab ${SHARED_LAB_SPEC.name} down in ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  rmSync(stateDir, { recursive: true, force: true });
  for (const p of projects.splice(0)) rmSync(p, { recursive: true, force: true });
}

/** Labs `e2e-<pid>` left behind by test processes that died before their root hook ran. */
async function removeOrphans(): Promise<void> {
  for (const lab of await labStatus()) {
    const pid = /^e2e-(\d+)$/.exec(lab.name)?.[1];
    if (!pid || Number(pid) === process.pid || alive(Number(pid))) continue;
    await labDown(lab.name);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function bringUp(): Promise<SharedLab> {
  await ensurePrerequisites({ install: process.getuid?.() === 0 });
  await removeOrphans();
  stateDir = mkdtempSync(join(tmpdir(), 'tsplay-e2e-state-'));
  const t0 = Date.now();
  const phases: string[] = [];
  const up = await labUp(SHARED_LAB_SPEC, {
    stateDir,
    onProgress: (e: LabProgress) => e.status === 'done' && phases.push(`${e.phase} ${e.seconds.toFixed(1)}s`),
  });
  const upSeconds = (Date.now() - t0) / 1000;
  console.log(`      [shared lab ${up.name} up in ${upSeconds.toFixed(1)} s${phases.length ? `: ${phases.join(', ')}` : ''}]`);
  const container = (host: string) => {
    const h = up.hosts.find((x) => x.name === host);
    if (!h) throw new Error(`the shared lab has no host ${host}`);
    return h;
  };
  return {
    name: up.name,
    inventoryPath: up.inventoryPath,
    keyPath: up.keyPath,
    knownHostsPath: up.knownHostsPath,
    hosts: up.hosts,
    upSeconds,
    ip: (host) => container(host).ip,
    run: (yaml, opts) => runOnLab(up.inventoryPath, yaml, opts),
    sh: (host, cmd, opts = {}) => tryRun('docker', ['exec', '-i', container(host).container, 'sh', '-c', cmd], { input: opts.input, timeoutMs: 5 * 60_000 }),
    ssh: (host, cmd, opts = {}) =>
      tryRun(
        'ssh',
        [
          '-i', opts.key ?? up.keyPath,
          '-o', 'IdentitiesOnly=yes',
          '-o', 'BatchMode=yes',
          '-o', 'ConnectTimeout=10',
          '-o', `UserKnownHostsFile=${up.knownHostsPath}`,
          '-o', 'StrictHostKeyChecking=yes',
          `${opts.user ?? 'root'}@${container(host).ip}`,
          cmd,
        ],
        { timeoutMs: 2 * 60_000 },
      ),
  };
}

async function runOnLab(inventoryPath: string, playbookYaml: string, opts: LabRunOptions = {}): Promise<LabRun> {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-e2e-project-'));
  projects.push(dir);
  const write = (rel: string, text: string | Buffer) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  write('playbook.yml', playbookYaml);
  for (const [rel, text] of Object.entries(opts.files ?? {})) write(rel, text);

  const inventory = loadInventory([inventoryPath]);
  const { playbook, registry } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory, extraVars: opts.extraVars });
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.on((e) => events.push(e));
  const summary = await runPlaybook(playbook, { inventory, registry, bus, check: opts.check, diff: opts.diff, extraVars: opts.extraVars, limit: opts.limit });

  const names = new Map<number, string>();
  for (const e of events) if (e.type === 'task:start') names.set(e.id, e.name);
  const results = (task: string) => {
    if (![...names.values()].includes(task)) throw new Error(`no task named "${task}" ran; tasks: ${[...new Set(names.values())].join(', ')}`);
    return events.flatMap((e) => (e.type === 'task:host' && names.get(e.id) === task ? [e.result] : []));
  };
  const result = (task: string, host: string) => {
    const r = results(task).filter((x) => x.host === host);
    if (!r.length) throw new Error(`task "${task}" has no result on ${host}`);
    return r[r.length - 1]!;
  };
  const status = (task: string) => Object.fromEntries(results(task).map((x) => [x.host, x.status]));
  return { summary, events, results, result, status, dir };
}
