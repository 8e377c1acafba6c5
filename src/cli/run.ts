/** `tsplay run`: validate everything (as `tsplay validate`), then execute (commands.ts declares it). */
// The files of the library this command needs, not src/index.ts: that would load every part of
// it (audit, docs, all renderers) before the first host is contacted. What only some runs need
// (--list-*, --junit, a password prompt) is imported where it is used.
import { UserError } from '../core/errors.js';
import { secret } from '../core/secret.js';
import { EventBus, RunStopped } from '../engine/events.js';
import { loadRun } from '../engine/run-file.js';
import { runPlaybook, type RunSummary } from '../engine/runner.js';
import { createRenderer, defaultRenderer } from '../render/index.js';
import { parseExtraVars } from '../vars/extra-vars.js';
import { outputMasker, printDiagnostics } from './output.js';
import { applyVaultOptions, type VaultCliOptions } from './vault.js';
import { loadProjectConfig } from './config.js';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';


export interface RunCliOptions extends VaultCliOptions {
  inventory: string[];
  extraVars: string[];
  check?: boolean;
  diff?: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  forks?: string;
  json?: boolean;
  /** -v count (0 without). */
  verbose?: number;
  failOnChange?: boolean;
  rolesPath?: string;
  askBecomePass?: boolean;
  junit?: string;
  listHosts?: boolean;
  listTasks?: boolean;
  listTags?: boolean;
  user?: string;
  privateKey?: string;
  sshConfig?: string;
  become?: boolean;
  becomeUser?: string;
}

/**
 * Exit codes: 0 ok, 1 usage/validation, 2 task failed, 3 pending change (--check --fail-on-change),
 * 4 unreachable, and when the run was stopped early: 130 SIGINT (Ctrl-C), 143 SIGTERM, 141 stdout
 * closed (e.g. `| head`; the code a shell gives a command killed by SIGPIPE).
 */
export function exitCode(s: RunSummary, o: { check?: boolean; failOnChange?: boolean }): number {
  if (s.interrupted) return 130;
  if (s.unreachable) return 4;
  if (s.failed) return 2;
  if (o.check && o.failOnChange && s.changed) return 3;
  return 0;
}

export async function runCommand(playbook: string, o: RunCliOptions): Promise<number> {
  const config = loadProjectConfig();
  const env = process.env;
  const vaultGiven = o.vaultPasswordFile?.length || o.vaultId?.length || o.askVaultPass || env.TSPLAY_VAULT_PASSWORD_FILE || env.ANSIBLE_VAULT_PASSWORD_FILE;
  await applyVaultOptions(!vaultGiven && config?.vaultPasswordFile ? { ...o, vaultPasswordFile: [config.vaultPasswordFile] } : o);
  const extraVars = parseExtraVars(o.extraVars);
  if (o.askBecomePass) extraVars.become_password = secret(await (await import('./prompt.js')).promptHidden('BECOME password: '));
  const inventoryPaths = o.inventory.length ? o.inventory : (config?.inventory ?? []);
  const rolesPath = o.rolesPath?.split(':') ?? config?.rolesPath;
  // An unknown --limit name is a usage error (exit 1), like a validation error.
  const { playbook: pb, inventory, registry, warnings } = await loadRun(playbook, { inventory: inventoryPaths, extraVars, rolesPath, limit: o.limit });
  printDiagnostics(warnings);
  const forks = o.forks !== undefined ? Number(o.forks) : (config?.forks ?? 20);
  if (!Number.isInteger(forks) || forks < 1) throw new UserError(`--forks must be a positive integer (got ${o.forks})`);

  if (o.listHosts || o.listTasks || o.listTags) {
    const [{ listPlaybook }, { formatListing }] = await Promise.all([import('../engine/list.js'), import('./list.js')]);
    const plays = listPlaybook(pb, { inventory, registry, limit: o.limit, tags: o.tags, skipTags: o.skipTags, startAtTask: o.startAtTask, extraVars });
    process.stdout.write(outputMasker.mask(formatListing(playbook, plays, { hosts: o.listHosts, tasks: o.listTasks, tags: o.listTags })));
    return 0;
  }

  // Before anything runs: a report that cannot be written is found out now, not after the run.
  if (o.junit && !existsSync(dirname(resolve(o.junit)))) throw new UserError(`--junit ${o.junit}: cannot write the report: folder ${dirname(o.junit)} does not exist`);

  const bus = new EventBus(outputMasker);
  const verbosity = o.verbose ?? 0;
  const renderer = createRenderer(defaultRenderer({ json: o.json, verbose: verbosity > 0 }), bus, { verbose: verbosity > 0 });
  const junit = o.junit ? (await import('../render/junit.js')).junitReporter(bus) : undefined;

  const stop = new RunStopper();
  try {
    const summary = await runPlaybook(pb, {
      inventory,
      registry,
      bus,
      check: o.check,
      diff: o.diff,
      limit: o.limit,
      tags: o.tags,
      skipTags: o.skipTags,
      startAtTask: o.startAtTask,
      extraVars,
      forks,
      signal: stop.signal,
      verbosity,
      connectionDefaults: {
        ...config?.connection,
        ...(o.user !== undefined && { user: o.user }),
        ...(o.privateKey !== undefined && { privateKeyFile: o.privateKey }),
        ...(o.sshConfig !== undefined && { sshConfigFile: resolve(o.sshConfig) }),
        ...(o.become && { become: true }),
        ...(o.becomeUser !== undefined && { becomeUser: o.becomeUser }),
      },
    });
    await renderer.idle();
    if (junit && o.junit) writeFileAtomic(o.junit, junit.xml());
    return stop.exitCode ?? exitCode(summary, o);
  } finally {
    stop.dispose();
  }
}

/** Exit code of each way a run is stopped early (see exitCode). */
const STOP_CODES = { SIGINT: 130, SIGTERM: 143, EPIPE: 141 } as const;
/** What the recap says stopped the run. */
const STOP_NAMES = { SIGINT: 'SIGINT (Ctrl-C)', SIGTERM: 'SIGTERM', EPIPE: 'closed output' } as const;

/**
 * What stops a run early: Ctrl-C (SIGINT), SIGTERM (CI cancel, `timeout`, systemd) and a closed
 * stdout all abort it the same way: nothing new starts, running commands are stopped, the recap
 * is printed (where it still can be) and the exit code says why. A second signal quits at once.
 */
class RunStopper {
  private readonly abort = new AbortController();
  /** Set once the run was stopped. */
  exitCode?: number;

  constructor() {
    process.on('SIGINT', this.onSigint);
    process.on('SIGTERM', this.onSigterm);
    process.stdout.on('error', this.onStdoutError);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  dispose(): void {
    process.off('SIGINT', this.onSigint);
    process.off('SIGTERM', this.onSigterm);
    // The stdout listener stays: output written after the run (a late recap line) may still fail.
  }

  private readonly onSigint = () => this.onSignal('SIGINT', 'Ctrl-C again to quit now');
  private readonly onSigterm = () => this.onSignal('SIGTERM', 'SIGTERM again to quit now');

  private onSignal(name: 'SIGINT' | 'SIGTERM', again: string): void {
    if (this.exitCode !== undefined) process.exit(STOP_CODES[name]);
    const label = name === 'SIGINT' ? 'interrupt' : 'interrupt (SIGTERM)';
    process.stderr.write(`\n${label}: finishing running commands, starting nothing new (${again})\n`);
    this.stopWith(name);
  }

  /**
   * A closed stdout (EPIPE; later writes fail as "stream destroyed") is an interrupt that prints
   * nothing more: nobody reads it.
   */
  private readonly onStdoutError = () => {
    if (this.exitCode === undefined) this.stopWith('EPIPE');
  };

  private stopWith(reason: keyof typeof STOP_CODES): void {
    this.exitCode = STOP_CODES[reason];
    this.abort.abort(new RunStopped(STOP_NAMES[reason]));
  }
}

/** Writes a report whole or not at all (a CI reading it never sees half a file). */
function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    throw new UserError(`--junit ${file}: cannot write the report: ${(e as Error).message}`);
  }
}
