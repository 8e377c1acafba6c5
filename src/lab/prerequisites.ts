/**
 * What `tsplay lab` needs on the controller: the docker client and a running engine,
 * debootstrap (to build the base image), OpenSSH's client tools (keys, ssh), tar and dpkg-deb.
 * With `install: true` (and root) missing Debian packages are installed and dockerd is started.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { UserError } from '../core/errors.js';
import { hasCommand, run, tryRun } from './exec.js';
import { aptProgress, follow, phase, type OnProgress, type Update } from './progress.js';

/** Each program the lab uses, and the Debian package that provides it. */
const PROGRAMS: ReadonlyArray<{ command: string; pkg: string; why: string }> = [
  { command: 'docker', pkg: 'docker.io', why: 'runs the lab hosts' },
  { command: 'dockerd', pkg: 'docker.io', why: 'the Docker engine' },
  { command: 'debootstrap', pkg: 'debootstrap', why: 'builds the Debian image' },
  { command: 'ssh-keygen', pkg: 'openssh-client', why: 'makes the lab SSH key' },
  { command: 'ssh', pkg: 'openssh-client', why: 'connects to lab hosts' },
  { command: 'tar', pkg: 'tar', why: 'packs root filesystems' },
  { command: 'dpkg-deb', pkg: 'dpkg', why: 'unpacks busybox-static' },
];

export interface PrerequisiteReport {
  /** Debian packages this call installed. */
  installed: string[];
  /** True when this call started the Docker engine. */
  startedDockerd: boolean;
}

const isRoot = () => process.getuid?.() === 0;

async function missingPrograms(): Promise<typeof PROGRAMS[number][]> {
  const found = await Promise.all(PROGRAMS.map((p) => hasCommand(p.command)));
  return PROGRAMS.filter((_, i) => !found[i]);
}

/** Whether the engine answers; `permission` when the socket exists but we may not use it. */
async function engineState(): Promise<'up' | 'down' | 'permission'> {
  const r = await tryRun('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 20_000 }).catch(() => undefined);
  if (!r) return 'down';
  if (r.code === 0) return 'up';
  return /permission denied/i.test(r.stderr) ? 'permission' : 'down';
}

async function aptInstall(pkgs: string[], update: Update): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['install', '-y', '--no-install-recommends', ...pkgs];
  const first = await tryRun('apt-get', args, { env, onLine: follow(aptProgress(), update) });
  if (first.code === 0) return;
  // Package lists may be missing or stale on a fresh machine.
  await run('apt-get', ['update'], { env, onLine: follow(aptProgress(), update) });
  await run('apt-get', args, { env, onLine: follow(aptProgress(), update) });
}

async function startDockerd(): Promise<void> {
  if (existsSync('/run/systemd/system')) {
    await run('systemctl', ['start', 'docker']);
  } else {
    const log = openSync('/var/log/dockerd.log', 'a');
    const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    closeSync(log);
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await engineState()) === 'up') return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new UserError('started dockerd but the Docker engine did not answer within 60 s (see /var/log/dockerd.log)');
}

/**
 * Checks (and with `install`, fixes) what the lab needs. Throws a UserError naming everything
 * that is missing and how to get it.
 */
export async function ensurePrerequisites(opts: { install: boolean; onProgress?: OnProgress }): Promise<PrerequisiteReport> {
  const report: PrerequisiteReport = { installed: [], startedDockerd: false };
  let missing = await missingPrograms();
  const canInstall = opts.install && isRoot() && (await hasCommand('apt-get'));
  if (missing.length && canInstall) {
    const pkgs = [...new Set(missing.map((p) => p.pkg))];
    await phase(opts.onProgress, `install ${pkgs.join(', ')}`, (update) => aptInstall(pkgs, update));
    report.installed = pkgs;
    missing = await missingPrograms();
  }
  const problems = missing.map((p) => `${p.command} (${p.why}; Debian package ${p.pkg})`);

  if (!missing.some((p) => p.command === 'docker')) {
    let state = await engineState();
    if (state === 'down' && canInstall && !missing.some((p) => p.command === 'dockerd')) {
      await phase(opts.onProgress, 'start dockerd', () => startDockerd());
      report.startedDockerd = true;
      state = 'up';
    }
    if (state === 'down') problems.push('a running Docker engine (start it: `systemctl start docker`, or `dockerd &` as root)');
    if (state === 'permission') problems.push('access to the Docker engine (permission denied: run as root or join the docker group)');
  }

  if (problems.length) {
    const pkgs = [...new Set(missing.map((p) => p.pkg))];
    const fix = pkgs.length ? `\n  install with: apt-get install ${pkgs.join(' ')}` : '';
    const auto = opts.install && !isRoot() ? '\n  (installing needs root)' : '';
    throw new UserError(`tsplay lab needs:\n  - ${problems.join('\n  - ')}${fix}${auto}`);
  }
  return report;
}
