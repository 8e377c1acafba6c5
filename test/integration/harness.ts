/**
 * Helpers for the `tsplay run` integration tests (run.test.ts): a throwaway project folder
 * (playbook, inventory, templates/) aimed at a real sshd, a target folder owned by the test
 * user, a recursive snapshot of it, and two ways to run: the CLI as a child process and the
 * library API with an EventBus.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBus, type EngineEvent, type TaskHostResult } from '../../src/engine/events.js';
import { runPlaybook, type RunSummary } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { canRunSshd, startSshd, type Sshd } from '../helpers/sshd.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI from source (through tsx), so the test never runs a stale dist/. */
const CLI = [process.execPath, '--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts')] as const;

/** Inventory host variables that point at the test sshd as its NOPASSWD user. */
export function sshVars(server: Sshd, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ansible_host: server.host,
    ansible_port: server.port,
    ansible_user: server.user,
    ansible_ssh_private_key_file: server.keyFile,
    known_hosts_file: server.knownHostsFile,
    connect_timeout: 5,
    ...over,
  };
}

/** A YAML inventory: `all.hosts.<name>: vars` (JSON is valid YAML). */
export function inventoryYaml(hosts: Record<string, Record<string, unknown>>): string {
  return JSON.stringify({ all: { hosts } }, null, 2) + '\n';
}

export interface Project {
  dir: string;
  playbook: string;
  inventory: string;
}

/** Writes a project: playbook.yml, inventory.yml and any extra files (e.g. templates/x.ejs). */
export function makeProject(files: { playbook: string; inventory: string; extra?: Record<string, string> }): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-it-project-'));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  write('playbook.yml', files.playbook);
  write('inventory.yml', files.inventory);
  for (const [rel, text] of Object.entries(files.extra ?? {})) write(rel, text);
  return { dir, playbook: join(dir, 'playbook.yml'), inventory: join(dir, 'inventory.yml') };
}

/** A fresh folder on the target (this machine) owned by `user`, mode 0755. */
export function targetDir(user: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-it-target-'));
  const uid = Number(readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))!.split(':')[2]);
  chownSync(dir, uid, uid);
  return dir;
}

export interface SshdSuite {
  /** The suite's sshd (set by its `before` hook). */
  readonly server: Sshd;
  /** A fresh target folder owned by the sshd's user, removed after the suite. */
  target(): string;
  /** A project folder (see makeProject), removed after the suite. */
  project(files: Parameters<typeof makeProject>[0]): Project;
  /** Removes this folder after the suite. */
  removeLater(dir: string): void;
}

/**
 * Call inside a `describe`: starts a real sshd before the suite (skipping it without root) and
 * stops it after, removing every target and project the suite made.
 */
export function sshdSuite(): SshdSuite {
  let server: Sshd | undefined;
  const cleanup: string[] = [];
  before(async function () {
    if (!canRunSshd()) this.skip();
    server = await startSshd();
  });
  after(async () => {
    await server?.stop();
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  });
  const keep = <T>(dir: string, v: T) => (cleanup.push(dir), v);
  return {
    removeLater: (dir) => void cleanup.push(dir),
    get server() {
      if (!server) throw new Error('the sshd is not started yet (use it inside a test or hook)');
      return server;
    },
    target: () => {
      const d = targetDir(server!.user);
      return keep(d, d);
    },
    project: (files) => {
      const p = makeProject(files);
      return keep(p.dir, p);
    },
  };
}

export interface Entry {
  type: 'file' | 'dir' | 'link' | 'other';
  mode: string;
  uid: number;
  gid: number;
  /** File content (utf8), link target, or undefined for folders. */
  content?: string;
  mtimeMs: number;
}

/** Every path below `dir` (relative names, `.` for dir itself) with type, mode, owner and content. */
export function snapshot(dir: string): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (rel: string) => {
    const abs = rel === '.' ? dir : join(dir, rel);
    const st = lstatSync(abs);
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
    const e: Entry = { type, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
    if (type === 'file') e.content = readFileSync(abs, 'utf8');
    if (type === 'link') e.content = readlinkSync(abs);
    out[rel] = e;
    if (type === 'dir') for (const name of readdirSync(abs).sort()) walk(rel === '.' ? name : join(rel, name));
  };
  walk('.');
  return out;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed `--json` lines (empty without --json). */
  events: Array<EngineEvent & { ts: string }>;
  ms: number;
}

export interface CliRun {
  child: ChildProcess;
  /** Resolves when stdout has printed a line matching `re` (rejects if the process ends first). */
  waitFor(re: RegExp): Promise<string>;
  done: Promise<CliResult>;
}

/** Starts `tsplay ARGS` (from source) with plain output (no TTY, no colour). */
export function startCli(args: string[], opts: { cwd?: string } = {}): CliRun {
  const t0 = Date.now();
  const child = spawn(CLI[0], [...CLI.slice(1), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1', SSH_AUTH_SOCK: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      const line = stdout.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    check();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const done = new Promise<CliResult>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`tsplay exited (${code ?? signal}) before printing ${w.re}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      const events = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as EngineEvent & { ts: string });
      res({ code, signal, stdout, stderr, events, ms: Date.now() - t0 });
    });
  });
  return {
    child,
    done,
    waitFor: (re) =>
      new Promise((res, rej) => {
        waiters.push({ re, resolve: res, reject: rej });
        check();
      }),
  };
}

export function runCli(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

export interface LibRun {
  summary: RunSummary;
  events: EngineEvent[];
  /** Results of the task with this name, one per host. */
  results(task: string): TaskHostResult[];
  /** host -> status of the task with this name. */
  statuses(task: string): Record<string, string>;
}

/** Runs a project through the library API (the same calls the CLI makes). */
export async function runLib(p: Project, opts: { check?: boolean; diff?: boolean; signal?: AbortSignal; onEvent?: (e: EngineEvent) => void } = {}): Promise<LibRun> {
  const inventory = loadInventory([p.inventory], { playbookDir: p.dir });
  const { playbook, registry } = await loadPlaybook(p.playbook, { inventory });
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.on((e) => {
    events.push(e);
    opts.onEvent?.(e);
  });
  const summary = await runPlaybook(playbook, { inventory, registry, bus, check: opts.check, diff: opts.diff, signal: opts.signal });
  return { summary, events, results: (task) => taskResults(events, task), statuses: (task) => Object.fromEntries(taskResults(events, task).map((r) => [r.host, r.status])) };
}

/** The task:host results of the task named `task` in a list of events. */
export function taskResults(events: EngineEvent[], task: string): TaskHostResult[] {
  const ids = new Set(events.flatMap((e) => (e.type === 'task:start' && e.name === task ? [e.id] : [])));
  return events.flatMap((e) => (e.type === 'task:host' && ids.has(e.id) ? [e.result] : []));
}

/** The recap event's counters (throws if there is none). */
export function recapOf(events: EngineEvent[]): Extract<EngineEvent, { type: 'recap' }> {
  const r = events.find((e): e is Extract<EngineEvent, { type: 'recap' }> => e.type === 'recap');
  if (!r) throw new Error('no recap event');
  return r;
}

/** Lines of an sshd log that record a successful login. */
export function acceptedLogins(server: Sshd): number {
  return readFileSync(join(server.dir, 'sshd.log'), 'utf8')
    .split('\n')
    .filter((l) => /Accepted publickey for/.test(l)).length;
}

/** Lines of an sshd log that record any incoming TCP connection. */
export function connectionsSeen(server: Sshd): number {
  return readFileSync(join(server.dir, 'sshd.log'), 'utf8')
    .split('\n')
    .filter((l) => /Connection from /.test(l)).length;
}
