/** `tsplay run`: validate everything (as `tsplay validate`), then execute (commands.ts declares it). */
// The files of the library this command needs, not src/index.ts: that would load every part of
// it (audit, docs, all renderers) before the first host is contacted.
import { UserError } from '../core/errors.js';
import { secret } from '../core/secret.js';
import { EventBus, RunStopped } from '../engine/events.js';
import { loadRun } from '../engine/run-file.js';
import { runPlaybook, type RunSummary } from '../engine/runner.js';
import { createRenderer, defaultRenderer } from '../render/index.js';
import { parseExtraVars } from '../vars/extra-vars.js';
import { outputMasker, printDiagnostics } from './output.js';
import { applyVaultOptions, type VaultCliOptions } from './vault.js';
import { promptHidden } from './prompt.js';


export interface RunCliOptions extends VaultCliOptions {
  inventory: string[];
  extraVars: string[];
  check?: boolean;
  diff?: boolean;
  limit?: string;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  forks: string;
  json?: boolean;
  verbose?: boolean;
  failOnChange?: boolean;
  rolesPath?: string;
  askBecomePass?: boolean;
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
  await applyVaultOptions(o);
  const extraVars = parseExtraVars(o.extraVars);
  if (o.askBecomePass) extraVars.become_password = secret(await promptHidden('BECOME password: '));
  // An unknown --limit name is a usage error (exit 1), like a validation error.
  const { playbook: pb, inventory, registry, warnings } = await loadRun(playbook, { inventory: o.inventory, extraVars, rolesPath: o.rolesPath?.split(':'), limit: o.limit });
  printDiagnostics(warnings);
  const forks = Number(o.forks);
  if (!Number.isInteger(forks) || forks < 1) throw new UserError(`--forks must be a positive integer (got ${o.forks})`);

  const bus = new EventBus(outputMasker);
  const renderer = createRenderer(defaultRenderer({ json: o.json, verbose: o.verbose }), bus, { verbose: o.verbose });

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
    });
    await renderer.idle();
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
