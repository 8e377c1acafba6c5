/**
 * tsplay as a library: everything the CLI does is available here.
 *   import { loadPlaybook, loadInventory, defineModule } from 'tsplay'
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
export { secret, Secret } from './core/secret.js';
export { parseExtraVars } from './vars/extra-vars.js';
export { playbookSchema, inventorySchema, tasksSchema, roleDefaultsSchema } from './docs/schema.js';
export { moduleDoc, moduleTable } from './docs/module-doc.js';
