/**
 * JSON Schemas for editors (yaml-language-server), generated from the registered modules' zod
 * schemas, so completion and checks always match what `tsplay validate` accepts.
 */
import { z } from 'zod';
import type { AnyModule } from '../core/module.js';
import { FQCN_PREFIXES } from '../modules/registry.js';
import { BLOCK_KEYS, INCLUDE_KEYS, PLAY_KEYWORDS, TASK_KEYWORDS } from '../playbook/keywords.js';

type Json = Record<string, unknown>;

function moduleSchema(m: AnyModule): Json {
  let params: Json;
  try {
    params = z.toJSONSchema(m.params, { io: 'input', unrepresentable: 'any' }) as Json;
  } catch {
    params = { type: 'object' };
  }
  delete params.$schema;
  if (params.type === 'object' && params.additionalProperties === undefined) params.additionalProperties = false;
  allowTemplates(params, true);
  const s: Json = { description: m.summary, ...(m.freeForm ? { anyOf: [{ type: 'string' }, params] } : params) };
  // What `register:` receives, for editors and readers (an annotation: validators ignore it).
  if (m.output) {
    try {
      const output = z.toJSONSchema(m.output, { io: 'output', unrepresentable: 'any' }) as Json;
      delete output.$schema;
      s['x-tsplay-registered'] = output;
    } catch {
      // unrepresentable output: the docs page still lists it
    }
  }
  return s;
}

/** A "{{ expression }}" string may stand for any value: its type is known at run time. */
const TEMPLATE: Json = { type: 'string', pattern: '\\{\\{' };

/** Lets every property (and list item) be a template string as well as what it declares. */
function allowTemplates(schema: Json, isRoot = false): void {
  const props = schema.properties as Record<string, Json> | undefined;
  if (props) for (const [k, p] of Object.entries(props)) props[k] = withTemplate(p);
  if (schema.items && typeof schema.items === 'object') schema.items = withTemplate(schema.items as Json);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = schema[key] as Json[] | undefined;
    if (Array.isArray(list)) list.forEach((x) => allowTemplates(x));
  }
  void isRoot;
}

function withTemplate(p: Json): Json {
  allowTemplates(p);
  if (Object.keys(p).length === 0) return p;
  const { description, default: dflt, ...rest } = p;
  return { ...(description ? { description } : {}), ...(dflt !== undefined ? { default: dflt } : {}), anyOf: [rest, TEMPLATE] };
}

const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const condition = { anyOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'boolean' }] } }] };

export function playbookSchema(modules: AnyModule[]): Json {
  const moduleProps: Json = {};
  for (const m of modules) moduleProps[m.name] = { $ref: `#/$defs/module_${m.name}` };
  const defs: Json = {};
  for (const m of modules) defs[`module_${m.name}`] = moduleSchema(m);
  const common: Json = {
    name: { type: 'string', description: 'Task name shown in progress and recap' },
    when: { ...condition, description: 'JavaScript expression(s) that must all be true' },
    loop: { description: 'List (or "{{ expression }}") to run the task once per item' },
    with_items: { description: 'Ansible alias of loop' },
    loop_control: { type: 'object', properties: { label: { type: 'string' }, loop_var: { type: 'string' }, index_var: { type: 'string' } }, additionalProperties: false },
    register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    notify: stringOrList,
    tags: stringOrList,
    become: { type: 'boolean' },
    become_user: { type: 'string' },
    become_method: { enum: ['sudo', 'su'] },
    ignore_errors: { oneOf: [{ type: 'boolean' }, { type: 'string', pattern: '^\\s*\\{\\{[\\s\\S]*\\}\\}\\s*$', description: 'A template evaluated per host; it must give a boolean' }] },
    changed_when: condition,
    failed_when: condition,
    until: condition,
    retries: { type: 'integer', minimum: 0 },
    delay: { type: 'integer', minimum: 0 },
    check_mode: { type: 'boolean' },
    diff: { type: 'boolean' },
    no_log: { oneOf: [{ type: 'boolean' }, { type: 'string', pattern: '^\\s*\\{\\{[\\s\\S]*\\}\\}\\s*$', description: 'A template evaluated per host; it must give a boolean' }] },
    run_once: { type: 'boolean' },
    delegate_to: { type: 'string', description: 'Run the task on this host (inventory name or localhost) for each host of the play' },
    delegate_facts: { type: 'boolean', description: 'Facts a delegated task gathers or sets go to the delegate' },
    local_action: { anyOf: [{ type: 'string' }, { type: 'object', properties: { module: { type: 'string' } }, required: ['module'] }], description: 'MODULE ARGS (or {module: M, ...}) run on localhost' },
    vars: { type: 'object' },
    environment: { type: 'object' },
    args: { type: 'object' },
    listen: stringOrList,
    block: { $ref: '#/$defs/tasks' },
    rescue: { $ref: '#/$defs/tasks' },
    always: { $ref: '#/$defs/tasks' },
    include_tasks: { anyOf: [{ type: 'string' }, { type: 'object', properties: { file: { type: 'string' } } }] },
    import_tasks: { anyOf: [{ type: 'string' }, { type: 'object', properties: { file: { type: 'string' } } }] },
    include_role: { type: 'object', properties: { name: { type: 'string' }, tasks_from: { type: 'string' } }, required: ['name'] },
    import_role: { type: 'object', properties: { name: { type: 'string' }, tasks_from: { type: 'string' } }, required: ['name'] },
  };
  for (const k of TASK_KEYWORDS) if (!(k in common)) common[k] = {};
  // `ansible.builtin.copy` and `tsplay.copy` are `copy`.
  const fqcn: Json = {};
  for (const m of modules) fqcn[`^(${FQCN_PREFIXES.map((p) => p.replace(/\./g, '\\.')).join('|')})\\.${m.name.replace(/\./g, '\\.')}$`] = { $ref: `#/$defs/module_${m.name}` };
  // Exactly one action per task: one module (under any of its names), a block or an include.
  const actions: Json[] = [
    ...modules.map((m) => ({ anyOf: [m.name, ...FQCN_PREFIXES.map((p) => `${p}.${m.name}`)].map((k) => ({ required: [k] })) })),
    { required: [BLOCK_KEYS[0]] },
    ...INCLUDE_KEYS.map((k) => ({ required: [k] })),
  ];
  defs.task = {
    type: 'object',
    properties: { ...common, ...moduleProps },
    patternProperties: fqcn,
    additionalProperties: false,
    oneOf: actions,
    errorMessage: 'a task needs exactly one module (or block, or include)',
  };
  defs.tasks = { type: 'array', items: { $ref: '#/$defs/task' } };
  const roleEntry = { anyOf: [{ type: 'string' }, { type: 'object', properties: { role: { type: 'string' }, name: { type: 'string' }, vars: { type: 'object' }, when: condition, tags: stringOrList } }] };
  const playProps: Json = {
    name: { type: 'string' },
    hosts: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'Host pattern: group, host, all, web*, a:b, a:&b, a:!b' },
    vars: { type: 'object' },
    vars_files: stringOrList,
    become: { type: 'boolean' },
    become_user: { type: 'string' },
    become_method: { enum: ['sudo', 'su'] },
    gather_facts: { type: 'boolean' },
    roles: { type: 'array', items: roleEntry },
    pre_tasks: { $ref: '#/$defs/tasks' },
    tasks: { $ref: '#/$defs/tasks' },
    post_tasks: { $ref: '#/$defs/tasks' },
    handlers: { $ref: '#/$defs/tasks' },
    serial: { anyOf: [{ type: 'integer' }, { type: 'string' }, { type: 'array' }] },
    max_fail_percentage: { type: 'number', minimum: 0, maximum: 100 },
    any_errors_fatal: { type: 'boolean' },
    strategy: { enum: ['free', 'linear'] },
    tags: stringOrList,
    check_mode: { type: 'boolean' },
    no_log: { type: 'boolean' },
    import_playbook: { type: 'string' },
  };
  for (const k of PLAY_KEYWORDS) if (!(k in playProps)) playProps[k] = {};
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'tsplay playbook',
    type: 'array',
    items: { type: 'object', properties: playProps, additionalProperties: false },
    $defs: defs,
  };
}

/** Task files (roles/X/tasks/*.yml, handlers). */
export function tasksSchema(modules: AnyModule[]): Json {
  const pb = playbookSchema(modules);
  return { $schema: pb.$schema, title: 'tsplay task list', $ref: '#/$defs/tasks', $defs: pb.$defs };
}

export function inventorySchema(): Json {
  const group: Json = {
    type: 'object',
    properties: {
      hosts: { anyOf: [{ type: 'object', additionalProperties: { anyOf: [{ type: 'null' }, { type: 'object' }] } }, { type: 'null' }] },
      children: { anyOf: [{ type: 'object', additionalProperties: { anyOf: [{ type: 'null' }, { $ref: '#/$defs/group' }] } }, { type: 'null' }] },
      vars: { type: 'object' },
    },
    additionalProperties: false,
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'tsplay inventory',
    type: 'object',
    additionalProperties: { anyOf: [{ $ref: '#/$defs/group' }, { type: 'null' }] },
    $defs: { group },
  };
}

export function roleDefaultsSchema(): Json {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'tsplay role defaults / vars',
    type: 'object',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  };
}

/** The files `tsplay schema -o DIR` and `tsplay init` write, by file name. */
export function editorSchemas(modules: AnyModule[]): Record<string, Json> {
  return {
    'playbook.schema.json': playbookSchema(modules),
    'tasks.schema.json': tasksSchema(modules),
    'inventory.schema.json': inventorySchema(),
    'role-defaults.schema.json': roleDefaultsSchema(),
  };
}
