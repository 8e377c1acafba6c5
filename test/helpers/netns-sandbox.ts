/**
 * A throwaway network namespace for running the real ufw and iptables without touching the
 * machine's firewall: commands run with `ip netns exec` (own iptables tables) inside a private
 * mount namespace where /etc/ufw and /etc/default/ufw are bind-mounted copies. Needs root,
 * `ip`, `unshare`, and the tools under test; `available()` says why not when it cannot work.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult } from '../../src/core/module.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Why the sandbox cannot run here, or undefined when it can. */
export function unavailable(tools: string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const t of ['ip', 'unshare', ...tools]) if (!has(t)) return `needs ${t}`;
  if (spawnSync('unshare', ['-n', '-m', 'true']).status !== 0) return 'cannot create namespaces here';
  return undefined;
}

export class NetnsSandbox {
  readonly name = `tsplay-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'tsplay-netns-'));
  private readonly mounts: Array<[string, string]> = [];

  /** Copies ufw's configuration into the sandbox (disabled, no sysctl changes, no rules). */
  withUfwCopy(): this {
    const etc = join(this.dir, 'etc-ufw');
    cpSync('/etc/ufw', etc, { recursive: true });
    // Start from the package's templates: not enabled, no user rules.
    for (const f of ['ufw.conf', 'user.rules', 'user6.rules']) writeFileSync(join(etc, f), readFileSync(join('/usr/share/ufw', f)));
    writeFileSync(join(etc, 'ufw.conf'), readFileSync(join(etc, 'ufw.conf'), 'utf8').replace(/^ENABLED=.*$/m, 'ENABLED=no'));
    const defaults = join(this.dir, 'default-ufw');
    const sysctl = join(this.dir, 'sysctl.conf');
    writeFileSync(sysctl, '');
    const text = readFileSync('/etc/default/ufw', 'utf8')
      .replace(/^IPT_SYSCTL=.*$/m, `IPT_SYSCTL=${sysctl}`)
      .replace(/^DEFAULT_INPUT_POLICY=.*$/m, 'DEFAULT_INPUT_POLICY="DROP"')
      .replace(/^DEFAULT_OUTPUT_POLICY=.*$/m, 'DEFAULT_OUTPUT_POLICY="ACCEPT"')
      .replace(/^DEFAULT_FORWARD_POLICY=.*$/m, 'DEFAULT_FORWARD_POLICY="DROP"')
      .replace(/^IPV6=.*$/m, 'IPV6=yes');
    writeFileSync(defaults, text);
    this.mounts.push([etc, '/etc/ufw'], [defaults, '/etc/default/ufw']);
    return this;
  }

  /** Bind-mounts an empty sandbox folder over `target` (e.g. /usr/local/sbin). */
  withEmptyDir(target: string): string {
    const d = mkdtempSync(join(this.dir, 'dir-'));
    this.mounts.push([d, target]);
    return d;
  }

  start(): this {
    execFileSync('ip', ['netns', 'add', this.name]);
    this.run('ip link set lo up');
    return this;
  }

  /** Runs a POSIX sh script inside the sandbox. */
  run(script: string, stdin?: string): ExecResult {
    const binds = this.mounts.map(([src, dst]) => `mount --bind '${src}' '${dst}'`).join(' && ');
    const setup = `mount --make-rprivate / ${binds ? `&& ${binds}` : ''} && exec sh -c "$1"`;
    const r = spawnSync('ip', ['netns', 'exec', this.name, 'unshare', '-m', 'sh', '-c', setup, 'sandbox', script], {
      input: stdin ?? '',
      encoding: 'utf8',
    });
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? -1 };
  }

  stop(): void {
    if (existsSync(`/run/netns/${this.name}`)) spawnSync('ip', ['netns', 'del', this.name]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
