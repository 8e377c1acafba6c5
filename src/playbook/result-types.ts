/**
 * The static types validation gives to what expressions read (see vars/types.ts): the value
 * `register` stores for a task (its module's `output` schema plus the fields every result has),
 * and the host facts (`facts.*`).
 */
import { z } from 'zod';
import type { AnyModule } from '../core/module.js';
import { arrayOf, BOOLEAN, fromJsonSchema, NUMBER, object, STRING, union, UNKNOWN, type VType } from '../vars/types.js';
import type { ModuleTask } from './model.js';

/** Fields the engine adds to every module's result (engine/phases.ts, engine/loop.ts). */
const BASE: Record<string, VType> = {
  changed: BOOLEAN,
  failed: BOOLEAN,
  msg: STRING,
  changes: arrayOf(STRING),
  // A skipped task (its `when` was false) registers these instead of the module's output.
  skipped: BOOLEAN,
  skip_reason: STRING,
  // A failed step adds its exit code and output.
  rc: NUMBER,
  stdout: STRING,
  stderr: STRING,
};

const cache = new WeakMap<AnyModule, VType>();

/** What one run of the module registers (no loop). */
export function moduleResultType(m: AnyModule): VType {
  let t = cache.get(m);
  if (t) return t;
  const label = `the result of ${m.name}`;
  if (!m.output) t = object({ ...BASE }, label, UNKNOWN);
  else {
    const out = fromJsonSchema(z.toJSONSchema(m.output, { io: 'output', unrepresentable: 'any' }));
    t = out.t === 'object' ? object({ ...BASE, ...out.props }, label, out.open) : object({ ...BASE }, label, UNKNOWN);
  }
  cache.set(m, t);
  return t;
}

/** What `register` stores for this task: with a loop, `{results: [...], ...}` (engine/loop.ts). */
export function registeredType(t: ModuleTask, itemType: VType = UNKNOWN): VType {
  const one = moduleResultType(t.module);
  if (t.loop === undefined) return one;
  const item = one.t === 'object' ? object({ ...one.props, item: itemType }, `a result of ${t.module.name} in a loop`, one.open) : UNKNOWN;
  return object({ results: arrayOf(item), changed: BOOLEAN, failed: BOOLEAN, skipped: BOOLEAN, msg: STRING }, `the results of the ${t.module.name} loop`);
}

/** `facts.*`: what fact gathering and `setup` collect (facts/gather.ts HostFactsData). */
export const HOST_FACTS_TYPE: VType = object(
  {
    hostname: STRING,
    fqdn: STRING,
    os_id: STRING,
    os_version: STRING,
    os_codename: STRING,
    os_family: STRING,
    os_pretty: STRING,
    kernel: STRING,
    architecture: STRING,
    default_ipv4: union([object({ address: STRING, interface: STRING, gateway: union([STRING, { t: 'null' }]) }), { t: 'null' }]),
    interfaces: arrayOf(object({ name: STRING, address: STRING, prefix: NUMBER })),
    all_ipv4_addresses: arrayOf(STRING),
    cpus: NUMBER,
    memtotal_mb: NUMBER,
    memtotal_kb: NUMBER,
    user_id: STRING,
    init: STRING,
    pkg_mgr: union([STRING, { t: 'null' }]),
    docker: BOOLEAN,
  },
  'the host facts',
);
