/**
 * Runs a playbook on the engine with fake connections (fake-connection.ts) and the bundled
 * plus fake modules, over a three-host inventory (h1, h2 in group web; h3).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EventBus, type EngineEvent, type TaskHostResult } from '../../src/engine/events.js';
import { runPlaybook, type RunSummary } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { ModuleRegistry } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { FakeWorld } from './fake-connection.js';
import { FAKE_MODULES } from './fake-modules.js';

const INVENTORY = `
all:
  hosts:
    h1:
    h2:
    h3:
  children:
    web:
      hosts:
        h1:
        h2:
`;

export interface Run {
  summary: RunSummary;
  events: EngineEvent[];
  world: FakeWorld;
  results: (task: string) => TaskHostResult[];
}

export interface RunOpts {
  check?: boolean;
  world?: FakeWorld;
  extraVars?: Record<string, unknown>;
  tags?: string[];
  skipTags?: string[];
  limit?: string;
  diff?: boolean;
  forks?: number;
  startAtTask?: string;
  /** More files of the project (included task files, vars files, other playbooks). */
  files?: Record<string, string>;
}

export async function run(playbook: string, opts: RunOpts = {}): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-engine-'));
  writeFileSync(join(dir, 'inventory.yml'), INVENTORY);
  writeFileSync(join(dir, 'playbook.yml'), playbook);
  for (const [f, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  const inventory = loadInventory([join(dir, 'inventory.yml')]);
  const registry = new ModuleRegistry([...BUNDLED_MODULES, ...FAKE_MODULES]);
  const { playbook: pb } = await loadPlaybook(join(dir, 'playbook.yml'), { inventory, registry, extraVars: opts.extraVars });
  const world = opts.world ?? new FakeWorld();
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.on((e) => events.push(e));
  const summary = await runPlaybook(pb, { inventory, registry, bus, connect: world.connect, check: opts.check, diff: opts.diff, extraVars: opts.extraVars, tags: opts.tags, skipTags: opts.skipTags, limit: opts.limit, forks: opts.forks, startAtTask: opts.startAtTask });
  const names = new Map<number, string>();
  for (const e of events) if (e.type === 'task:start') names.set(e.id, e.name);
  const results = (task: string) => events.flatMap((e) => (e.type === 'task:host' && names.get(e.id) === task ? [e.result] : []));
  return { summary, events, world, results };
}

export const statusOf = (r: Run, task: string) => Object.fromEntries(r.results(task).map((x) => [x.host, x.status]));
