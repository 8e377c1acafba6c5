/**
 * tsplay as a library: everything the CLI does is available here; the CLI loads and runs through it.
 *   import { runPlaybookFile, EventBus, createRenderer, defineModule } from 'tsplay'
 * A run: loadRun (inventory + playbook, validated) then runPlaybook, or both in runPlaybookFile;
 * the engine reports on an EventBus, renderers (or your code) subscribe to it.
 */
export { z } from 'zod';
export * from './core/errors.js';
export { defineModule, fact, noop, change, failPlan, octalMode } from './core/module.js';
export type * from './core/module.js';
export { sh, quote, raw } from './core/quote.js';
export { ModuleRegistry } from './modules/registry.js';
export { BUNDLED_MODULES } from './modules/index.js';
export { loadPlaybook, loadProjectModules, type LoadOptions, type LoadResult } from './playbook/load.js';
export type * from './playbook/model.js';
export { loadInventory, Inventory } from './inventory/model.js';
export { connectionVars, type ConnectionVars } from './inventory/connection.js';
export { secret, Secret, Masker } from './core/secret.js';
export { decryptVault, readVaultPasswordFile, setVaultPasswords, setVaultPasswordSource } from './yaml/vault.js';
export { parseExtraVars } from './vars/extra-vars.js';
export { playbookSchema, inventorySchema, tasksSchema, roleDefaultsSchema } from './docs/schema.js';
export { moduleDoc, moduleTable } from './docs/module-doc.js';
export { runPlaybook, type RunOptions, type RunSummary } from './engine/runner.js';
export { loadRun, runPlaybookFile, type LoadRunOptions, type LoadedRun, type RunFileOptions, type RunFileResult } from './engine/run-file.js';
export { EventBus, emptyCounters, type EngineEvent, type Listener, type HostStatus, type HostCounters, type TaskHostResult, type FailureDetail } from './engine/events.js';
export { createRenderer, chooseRenderer, defaultRenderer, RENDERER_KINDS, plainRenderer, listrRenderer, jsonRenderer, type RendererKind, type RendererChoice, type RendererOptions, type Renderer } from './render/index.js';
export { auditInventory, auditExitCode, type AuditOptions, type AuditReport, type HostAudit } from './audit/audit.js';
export type { AuditRow, ProbeResult } from './audit/rows.js';
