/**
 * Roles: finding them (./roles beside the playbook, configured roles paths, npm packages that
 * declare themselves tsplay roles), loading their parts, expanding meta dependencies, and checking
 * typed role arguments (meta/argument_specs.yml or argument_specs in meta/main.yml).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { didYouMean } from '../core/errors.js';
import type { YamlFile } from '../yaml/source.js';
import { LoadContext } from './context.js';
import type { Handler, LoadedRole, RoleRef, Src, VarsLayer } from './model.js';
import { describe, touchesTemplate, type TaskParser } from './tasks.js';

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Folders to look for roles in, in order. */
export function roleSearchDirs(playbookDir: string, rolesPath: string[]): string[] {
  const fromEnv = (process.env.TSPLAY_ROLES_PATH ?? '').split(':').filter(Boolean);
  return [join(playbookDir, 'roles'), join(playbookDir, '..', 'roles'), ...rolesPath, ...fromEnv].map((d) => resolve(d));
}

/**
 * npm packages that are tsplay roles: package.json has `"tsplay": { "role": "NAME" }` (or
 * `"tsplay": { "role": true }` to use the package name without its scope). Searched in every
 * node_modules folder from the playbook's folder up to the root.
 */
export function npmRoles(startDir: string): Map<string, string> {
  const found = new Map<string, string>();
  let dir = resolve(startDir);
  for (;;) {
    const nm = join(dir, 'node_modules');
    if (existsSync(nm)) {
      for (const entry of safeList(nm)) {
        const pkgDirs = entry.startsWith('@') ? safeList(join(nm, entry)).map((e) => join(nm, entry, e)) : [join(nm, entry)];
        for (const pd of pkgDirs) {
          const role = roleOfPackage(pd);
          if (role && !found.has(role.name)) found.set(role.name, role.dir);
        }
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return found;
}

function roleOfPackage(pkgDir: string): { name: string; dir: string } | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { name?: string; tsplay?: { role?: string | boolean; dir?: string } };
    const r = pkg.tsplay?.role;
    if (!r) return undefined;
    const name = typeof r === 'string' ? r : String(pkg.name ?? '').replace(/^@[^/]+\//, '');
    return { name, dir: join(pkgDir, pkg.tsplay?.dir ?? '.') };
  } catch {
    return undefined;
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Every role folder visible from the playbook (name -> dir), first match wins. */
export function visibleRoles(playbookDir: string, rolesPath: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of roleSearchDirs(playbookDir, rolesPath)) {
    for (const name of safeList(d)) {
      const full = join(d, name);
      if (!out.has(name) && statSync(full).isDirectory()) out.set(name, full);
    }
  }
  for (const [name, dir] of npmRoles(playbookDir)) if (!out.has(name)) out.set(name, dir);
  return out;
}

interface ArgOption {
  type?: string;
  required?: boolean;
  default?: unknown;
  choices?: unknown[];
  elements?: string;
  description?: string | string[];
}

/**
 * Ansible's checks of each type, which accept what Ansible converts (they validate; the
 * variable keeps its value): an int may be written "10" (or be a boolean, an int in Python), a
 * str may be any scalar, a bool may be yes/no/1/0.
 */
const BOOL_WORDS = new Set(['yes', 'no', 'on', 'off', 'true', 'false', 'y', 'n', 't', 'f', '1', '0', '1.0', '0.0']);
const TYPES: Record<string, () => z.ZodType> = {
  str: () => z.union([z.string(), z.number(), z.boolean()]),
  string: () => z.union([z.string(), z.number(), z.boolean()]),
  path: () => z.string(),
  int: () => z.union([z.number().int(), z.boolean(), z.string().regex(/^\s*[-+]?\d+\s*$/, 'expected an integer')]),
  float: () => z.union([z.number(), z.string().regex(/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/, 'expected a number')]),
  bool: () => z.union([z.boolean(), z.literal(0), z.literal(1), z.string().refine((s) => BOOL_WORDS.has(s.trim().toLowerCase()), 'expected a boolean')]),
  list: () => z.array(z.unknown()),
  dict: () => z.record(z.string(), z.unknown()),
  raw: () => z.unknown(),
};

/** Ansible's argument_specs options -> a zod object. */
export function argumentSpecToZod(options: Record<string, ArgOption>): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, opt] of Object.entries(options)) {
    let t: z.ZodType = (TYPES[opt.type ?? 'str'] ?? TYPES.raw!)();
    if (opt.type === 'list' && opt.elements && TYPES[opt.elements]) t = z.array(TYPES[opt.elements]!());
    if (opt.choices) {
      const choices = opt.choices;
      t = t.refine((v) => choices.includes(v as never), { message: `must be one of: ${choices.join(', ')}` });
    }
    if (opt.description) t = t.describe(Array.isArray(opt.description) ? opt.description.join(' ') : opt.description);
    shape[name] = opt.required ? t : t.optional();
  }
  return z.object(shape);
}

export class RoleLoader {
  private visible?: Map<string, string>;

  constructor(
    private readonly ctx: LoadContext,
    private readonly parser: () => TaskParser,
  ) {}

  roles(): Map<string, string> {
    this.visible ??= visibleRoles(this.ctx.playbookDir, this.ctx.rolesPath);
    return this.visible;
  }

  /** Parses a `roles:` entry: "name" or {role|name: NAME, vars?, when?, tags?, ...params}. */
  parseRef(file: YamlFile, path: Array<string | number>, value: unknown): RoleRef | undefined {
    const src: Src = { file, path };
    if (typeof value === 'string') return { name: value, params: {}, src, when: [], tags: [] };
    if (!isMap(value)) {
      this.ctx.error(src, `a role entry must be a name or a mapping with "role:" (got ${describe(value)})`);
      return undefined;
    }
    // `role: NAME` (or Ansible's older `name: NAME`); with `role:`, a `name` key is a parameter.
    const nameKey = 'role' in value ? 'role' : 'name';
    const name = value[nameKey];
    if (typeof name !== 'string') {
      this.ctx.error(src, 'role entry needs "role: NAME"');
      return undefined;
    }
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if ([nameKey, 'when', 'tags', 'become', 'become_user'].includes(k)) continue;
      if (k === 'vars') {
        if (isMap(v)) Object.assign(params, v);
        else this.ctx.error(src, 'role vars must be a mapping', 'vars');
      } else params[k] = v;
    }
    const p = this.parser();
    return { name, params, src, when: p.condition(src, value, 'when') ?? [], tags: p.stringList(src, value, 'tags') };
  }

  /**
   * Loads a role and its dependencies; returns them dependencies first. `chain` detects cycles.
   * `tasksFrom` picks tasks/<name>.yml (include_role's tasks_from).
   */
  load(ref: RoleRef, chain: string[] = [], tasksFrom = 'main'): LoadedRole[] {
    if (chain.includes(ref.name)) {
      this.ctx.error(ref.src, `role dependency cycle: ${[...chain, ref.name].join(' -> ')}`);
      return [];
    }
    const dir = this.roles().get(ref.name);
    if (!dir) {
      const dym = didYouMean(ref.name, this.roles().keys());
      this.ctx.error(ref.src, `role "${ref.name}" not found${dym ? `; did you mean "${dym}"?` : ''}`, undefined, `searched ${roleSearchDirs(this.ctx.playbookDir, this.ctx.rolesPath).join(', ')} and npm packages with "tsplay": {"role": ...}`);
      return [];
    }
    const layer = (sub: string, label: string): VarsLayer => {
      const f = LoadContext.yamlIn(join(dir, sub));
      return f ? this.ctx.varsFile(`role ${ref.name} ${label}`, f) : { label: `role ${ref.name} ${label}`, vars: {} };
    };
    const role: LoadedRole = {
      name: ref.name,
      dir,
      defaults: layer('defaults', 'defaults'),
      vars: layer('vars', 'vars'),
      params: { label: `role ${ref.name} parameters`, vars: ref.params, file: ref.src.file.file, pos: (k) => ref.src.file.keyPos([...ref.src.path, k]) },
      tasks: [],
      handlers: [],
      dependencies: [],
    };

    const out: LoadedRole[] = [];
    const metaFile = LoadContext.yamlIn(join(dir, 'meta'));
    if (metaFile) {
      const meta = this.ctx.yaml(metaFile);
      const data = meta.data;
      if (data !== undefined && data !== null && !isMap(data)) this.ctx.diags.error('meta/main.yml must be a mapping', meta.pos());
      const m = isMap(data) ? data : {};
      const deps = m.dependencies ?? [];
      if (!Array.isArray(deps)) this.ctx.diags.error('dependencies must be a list', meta.keyPos(['dependencies']));
      else
        deps.forEach((d, i) => {
          const depRef = this.parseRef(meta, ['dependencies', i], d);
          if (!depRef) return;
          role.dependencies.push(depRef.name);
          out.push(...this.load(depRef, [...chain, ref.name]));
        });
      const specs = isMap(m.argument_specs) ? m.argument_specs : undefined;
      if (specs) this.applyArgumentSpec(role, ref, specs, meta, ['argument_specs']);
    }
    const specFile = LoadContext.yamlIn(join(dir, 'meta'), 'argument_specs');
    if (specFile) {
      const yf = this.ctx.yaml(specFile);
      const d = isMap(yf.data) ? yf.data : {};
      const specs = isMap(d.argument_specs) ? d.argument_specs : undefined;
      if (specs) this.applyArgumentSpec(role, ref, specs, yf, ['argument_specs']);
    }

    const parser = this.parser();
    const tasksDir = join(dir, 'tasks');
    const tasksFile = LoadContext.yamlIn(tasksDir, tasksFrom);
    if (tasksFile) {
      const yf = this.ctx.yaml(tasksFile);
      role.tasks = parser.parseList(yf, [], yf.data, { role, dir: tasksDir, stack: [...chain, ref.name] });
    } else if (tasksFrom !== 'main') {
      this.ctx.error(ref.src, `role "${ref.name}" has no tasks/${tasksFrom}.yml`);
    }
    const verifyFile = LoadContext.yamlIn(tasksDir, 'verify');
    if (verifyFile) {
      const yf = this.ctx.yaml(verifyFile);
      role.verifyTasks = parser.parseList(yf, [], yf.data, { role, dir: tasksDir, stack: [...chain, ref.name] });
    }
    const handlersFile = LoadContext.yamlIn(join(dir, 'handlers'));
    if (handlersFile) {
      const yf = this.ctx.yaml(handlersFile);
      role.handlers = parser.parseList(yf, [], yf.data, { role, dir: join(dir, 'handlers'), stack: [], handlers: true }) as Handler[];
    }
    out.push(role);
    return out;
  }

  /** Validates the role's parameters (with its defaults) against the argument spec. */
  private applyArgumentSpec(role: LoadedRole, ref: RoleRef, specs: Record<string, unknown>, yf: YamlFile, path: Array<string | number>): void {
    const main = specs.main;
    if (!isMap(main) || !isMap(main.options)) {
      this.ctx.diags.error('argument_specs needs main.options', yf.keyPos(path));
      return;
    }
    const schema = argumentSpecToZod(main.options as Record<string, ArgOption>);
    role.argumentSpec = schema;
    // Spec defaults act as role defaults.
    for (const [k, opt] of Object.entries(main.options as Record<string, ArgOption>)) {
      if (isMap(opt) && 'default' in opt && !(k in role.defaults.vars)) role.defaults.vars[k] = opt.default;
    }
    const values: Record<string, unknown> = {};
    for (const k of Object.keys(schema.shape)) {
      if (k in ref.params) values[k] = ref.params[k];
      else if (k in role.defaults.vars) values[k] = role.defaults.vars[k];
    }
    const r = schema.safeParse(values);
    if (r.success) return;
    for (const iss of r.error.issues) {
      const key = String(iss.path[0]);
      if (touchesTemplate(values, iss.path as Array<string | number>)) continue;
      if (values[key] === undefined) {
        this.ctx.error(ref.src, `role ${ref.name}: missing required argument "${key}"`, undefined, describeOpt(main.options as Record<string, ArgOption>, key));
      } else if (key in ref.params) {
        this.ctx.diags.error(`role ${ref.name}: argument "${iss.path.join('.')}": ${iss.message}`, ref.src.file.pos([...ref.src.path, key]));
      } else {
        this.ctx.diags.error(`role ${ref.name}: default of "${iss.path.join('.')}": ${iss.message}`, role.defaults.pos?.(key));
      }
    }
  }
}

function describeOpt(options: Record<string, ArgOption>, key: string): string | undefined {
  const o = options[key];
  if (!o) return undefined;
  const d = Array.isArray(o.description) ? o.description.join(' ') : o.description;
  return `${key} (${o.type ?? 'str'})${d ? `: ${d}` : ''}`;
}
