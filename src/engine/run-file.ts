/**
 * Running a playbook file, the way `tsplay run` does: load the inventory (with the group_vars/
 * and host_vars/ beside the playbook), load and validate the playbook, check --limit, then run.
 * Nothing is contacted when loading fails (a UserError with every diagnostic is thrown).
 * Subscribe to `bus` for the events (or hand it to a renderer, see render/index.ts).
 */
import { dirname, resolve } from 'node:path';
import type { Diagnostic } from '../core/errors.js';
import { Inventory, loadInventory } from '../inventory/model.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { loadPlaybook } from '../playbook/load.js';
import type { Playbook } from '../playbook/model.js';
import type { RunOptions, RunSummary } from './runner.js';

export interface LoadRunOptions {
  /** Inventory files or folders (like -i), or an inventory already loaded. Default: none (implicit localhost). */
  inventory?: string[] | Inventory;
  extraVars?: Record<string, unknown>;
  /** Extra folders to look for roles in. */
  rolesPath?: string[];
  /** Host pattern that further limits the hosts; an unknown name is an error. */
  limit?: string;
}

export interface LoadedRun {
  playbook: Playbook;
  inventory: Inventory;
  registry: ModuleRegistry;
  /** Warnings of the inventory and the playbook (errors are thrown). */
  warnings: Diagnostic[];
}

/** Loads and validates everything a run needs; contacts no host. */
export async function loadRun(playbookPath: string, o: LoadRunOptions = {}): Promise<LoadedRun> {
  const inventory = o.inventory instanceof Inventory ? o.inventory : loadInventory(o.inventory ?? [], { playbookDir: dirname(resolve(playbookPath)) });
  const { playbook, registry, warnings } = await loadPlaybook(playbookPath, { inventory, extraVars: o.extraVars, rolesPath: o.rolesPath });
  if (o.limit) inventory.select(o.limit);
  return { playbook, inventory, registry, warnings: [...inventory.diagnostics.filter((d) => d.severity === 'warning'), ...warnings] };
}

export type RunFileOptions = LoadRunOptions & Omit<RunOptions, 'inventory' | 'registry' | 'extraVars' | 'limit'>;

export interface RunFileResult extends RunSummary {
  /** Load warnings (deprecated keywords, unused variables ...), for the caller to show. */
  warnings: Diagnostic[];
}

/** loadRun, then runPlaybook: the whole of `tsplay run` without the terminal. */
export async function runPlaybookFile(playbookPath: string, o: RunFileOptions = {}): Promise<RunFileResult> {
  const { inventory, extraVars, rolesPath, limit, ...run } = o;
  const loaded = await loadRun(playbookPath, { inventory, extraVars, rolesPath, limit });
  // The engine (and the connection layer under it) loads once the playbook is valid: loadRun alone
  // (`tsplay validate`) does not load it.
  const { runPlaybook } = await import('./runner.js');
  const summary = await runPlaybook(loaded.playbook, { ...run, inventory: loaded.inventory, registry: loaded.registry, extraVars, limit });
  return { ...summary, warnings: loaded.warnings };
}
