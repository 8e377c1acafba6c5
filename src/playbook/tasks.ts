/**
 * Parsing task lists (tasks, handlers, blocks, includes) into the loaded model, with module
 * parameters checked against each module's zod schema. Errors carry the YAML position.
 */
import { z } from 'zod';
import { didYouMean } from '../core/errors.js';
import { coerceScalars } from '../core/coerce.js';
import type { AnyModule } from '../core/module.js';
import { BECOME_METHODS, type BecomeMethod } from '../connection/types.js';
import { isMissingAnsibleModule } from '../modules/registry.js';
import type { YamlFile, YamlPath } from '../yaml/source.js';
import type { LoadContext } from './context.js';
import { BLOCK_KEYS, INCLUDE_KEYS, TASK_KEYWORDS, TASK_KEYWORD_SET } from './keywords.js';
import type { BlockTask, Handler, IncludeTask, LoadedRole, ModuleTask, Src, Task, TaskBase } from './model.js';

export interface TaskListOptions {
  role?: LoadedRole;
  /** Folder that relative include_tasks paths start from. */
  dir: string;
  handlers?: boolean;
  /** Include chain, for cycle detection. */
  stack: string[];
}

/** Hooks the task parser needs from the playbook loader (include resolution). */
export interface IncludeResolver {
  includeTasks(target: string, src: Src, opts: TaskListOptions): Task[];
  includeRole(spec: Record<string, unknown>, src: Src, opts: TaskListOptions): { tasks: Task[]; handlers: Handler[]; role?: LoadedRole } | undefined;
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class TaskParser {
  constructor(
    private readonly ctx: LoadContext,
    private readonly includes: IncludeResolver,
  ) {}

  parseList(file: YamlFile, path: YamlPath, value: unknown, opts: TaskListOptions): Task[] {
    if (value === undefined || value === null) return [];
    const src: Src = { file, path };
    if (!Array.isArray(value)) {
      this.ctx.error(src, 'expected a list of tasks');
      return [];
    }
    const out: Task[] = [];
    value.forEach((item, i) => {
      const t = this.parseTask(file, [...path, i], item, opts);
      if (t && opts.handlers && t.kind !== 'module') out.push(...this.importedHandlers(t, item as Record<string, unknown>));
      else if (t) out.push(t);
    });
    return out;
  }

  /**
   * A handler list holds modules, and import_tasks whose tasks become handlers each notified by
   * its own name or listen (as in Ansible, not by the import's name). The import's when, tags
   * and become pass to them; anything dynamic (blocks, include_*, roles) is refused.
   */
  private importedHandlers(t: BlockTask | IncludeTask, value: Record<string, unknown>): Handler[] {
    const key = t.kind === 'block' ? 'block' : INCLUDE_KEYS.find((k) => k in value)!;
    if (t.kind === 'block' || key !== 'import_tasks') {
      this.ctx.error(t.src, `${key} in handlers is not supported; use import_tasks (each imported task becomes a handler) or a module`, key);
      return [];
    }
    const passed = new Set(['name', 'import_tasks', 'when', 'tags', 'become', 'become_user']);
    const other = Object.keys(value).filter((k) => !passed.has(k));
    for (const k of other) this.ctx.error(t.src, `"${k}" on an import_tasks in handlers is not supported; put it on the imported handlers`, k);
    if (other.length) return [];
    return (t.tasks as Handler[]).map((h) => ({
      ...h,
      when: [...t.when, ...h.when],
      tags: [...new Set([...t.tags, ...h.tags])],
      become: h.become ?? t.become,
      becomeUser: h.becomeUser ?? t.becomeUser,
    }));
  }

  parseTask(file: YamlFile, path: YamlPath, value: unknown, opts: TaskListOptions): Task | undefined {
    const src: Src = { file, path };
    if (!isMap(value)) {
      this.ctx.error(src, `a task must be a mapping (got ${describe(value)})`, undefined, 'write "- {name: ..., MODULE: {params}}"');
      return undefined;
    }
    const base = this.parseBase(src, value, opts);
    if (!base) return undefined;

    const blockKeys = BLOCK_KEYS.filter((k) => k in value);
    const includeKeys = INCLUDE_KEYS.filter((k) => k in value);
    const other = Object.keys(value).filter((k) => !TASK_KEYWORD_SET.has(k));

    if (blockKeys.length) {
      if (!('block' in value)) {
        this.ctx.error(src, `"${blockKeys[0]}" needs a "block" in the same task`, blockKeys[0]);
        return undefined;
      }
      if (other.length || includeKeys.length) {
        this.ctx.error(src, `a block cannot also run a module or include (found "${[...other, ...includeKeys][0]}")`, [...other, ...includeKeys][0]);
        return undefined;
      }
      this.rejectTaskOnly(src, value, ['register', 'notify', 'changed_when', 'failed_when', 'until', 'retries', 'delay', 'args']);
      const block: BlockTask = {
        ...base,
        kind: 'block',
        block: this.parseList(file, [...path, 'block'], value.block, opts),
        rescue: this.parseList(file, [...path, 'rescue'], value.rescue, opts),
        always: this.parseList(file, [...path, 'always'], value.always, opts),
      };
      return block;
    }

    if (includeKeys.length) {
      if (includeKeys.length > 1 || other.length) {
        this.ctx.error(src, `a task can have only one of ${[...includeKeys, ...other].join(', ')}`, includeKeys[1] ?? other[0]);
        return undefined;
      }
      return this.parseInclude(src, value, includeKeys[0]!, base, opts);
    }

    if ('local_action' in value) return this.parseLocalAction(src, value, other, base, opts);
    if (other.length === 0) {
      const candidates = Object.keys(value).filter((k) => k !== 'name');
      this.ctx.error(src, `task${base.name ? ` "${base.name}"` : ''} has no module`, undefined, candidates.length ? `keys found: ${candidates.join(', ')}` : undefined);
      return undefined;
    }
    if (other.length > 1) {
      // Usually one of them is a misspelt keyword: say which.
      const modules = other.filter((k) => this.ctx.registry.has(k));
      const unknown = other.filter((k) => !this.ctx.registry.has(k));
      for (const k of unknown) {
        const kw = didYouMean(k, TASK_KEYWORDS);
        const mod = this.ctx.registry.suggest(k);
        if (modules.length === 1 || kw) {
          this.ctx.error(src, `unknown task keyword "${k}"${kw ? `; did you mean "${kw}"?` : ''}`, k);
        } else {
          this.ctx.error(src, `unknown module "${k}"${mod ? `; did you mean "${mod}"?` : ''}`, k);
        }
      }
      if (modules.length > 1) this.ctx.error(src, `a task runs exactly one module, found ${modules.join(' and ')}`, modules[1]);
      return undefined;
    }
    const moduleKey = other[0]!;
    const module = this.ctx.registry.get(moduleKey);
    if (!module) {
      // A bundled module not loaded yet: the playbook is read again once it is (load.ts), so
      // this error is never shown and no did-you-mean search is spent on it.
      const lazy = this.ctx.registry.has(moduleKey);
      if (!lazy && isMissingAnsibleModule(moduleKey)) {
        this.ctx.error(src, `unknown module "${moduleKey}": an Ansible module tsplay does not have`, moduleKey, 'run `tsplay doc` to list modules; a project may add its own in modules/ (CONTRIBUTING.md)');
        return undefined;
      }
      const mod = lazy ? undefined : this.ctx.registry.suggest(moduleKey);
      const kw = lazy ? undefined : didYouMean(moduleKey, TASK_KEYWORDS);
      this.ctx.error(src, `unknown module "${moduleKey}"${mod ? `; did you mean "${mod}"?` : kw ? `; did you mean the keyword "${kw}"?` : ''}`, moduleKey, mod ? undefined : 'run `tsplay doc` to list modules');
      return undefined;
    }
    return this.parseModuleTask(src, value, moduleKey, module, base, opts);
  }

  private rejectTaskOnly(src: Src, value: Record<string, unknown>, keys: string[]): void {
    for (const k of keys) if (k in value) this.ctx.error(src, `"${k}" is not allowed on a block`, k);
  }

  /**
   * `local_action: MODULE ARGS` (free form) or `local_action: {module: MODULE, ...params}`: the
   * module's task delegated to localhost (the controller).
   */
  private parseLocalAction(src: Src, value: Record<string, unknown>, other: string[], base: TaskBase, opts: TaskListOptions): ModuleTask | Handler | undefined {
    if (other.length) {
      this.ctx.error(src, `a task runs exactly one module: local_action names its own, found "${other[0]}" too`, other[0]);
      return undefined;
    }
    if ('delegate_to' in value) {
      this.ctx.error(src, 'local_action runs on localhost: drop delegate_to (or write the module as usual with delegate_to)', 'delegate_to');
      return undefined;
    }
    const spec = value.local_action;
    let moduleKey: string | undefined;
    let args: unknown;
    if (typeof spec === 'string') {
      const m = /^\s*(\S+)(?:\s+([\s\S]*))?$/.exec(spec);
      moduleKey = m?.[1];
      args = m?.[2]?.trim() || undefined;
    } else if (isMap(spec) && typeof spec.module === 'string') {
      const { module: name, ...rest } = spec;
      moduleKey = name as string;
      args = rest;
    }
    if (!moduleKey) {
      this.ctx.valueError(src, 'local_action', 'local_action needs a module: "local_action: MODULE ARGS" or "local_action: {module: MODULE, PARAM: VALUE}"');
      return undefined;
    }
    const module = this.ctx.registry.get(moduleKey);
    if (!module) {
      const mod = this.ctx.registry.suggest(moduleKey);
      this.ctx.valueError(src, 'local_action', `local_action: unknown module "${moduleKey}"${mod ? `; did you mean "${mod}"?` : ''}`, mod ? undefined : 'run `tsplay doc` to list modules');
      return undefined;
    }
    return this.parseModuleTask(src, value, 'local_action', module, { ...base, delegateTo: 'localhost' }, opts, { args });
  }

  /** `given`: the parameters when they are not `value[key]` (local_action's). */
  private parseModuleTask(src: Src, value: Record<string, unknown>, key: string, module: AnyModule, base: TaskBase, opts: TaskListOptions, given?: { args: unknown }): ModuleTask | Handler {
    let args: unknown = given ? given.args : value[key];
    let argsPath: YamlPath = [...src.path, key];
    if (typeof args === 'string' || args === null || args === undefined) {
      if (typeof args === 'string' && module.freeForm) {
        args = module.freeForm(args);
      } else if (typeof args === 'string') {
        this.ctx.error(src, `module "${module.name}" takes a mapping of parameters, not a string`, key, key === 'local_action' ? `write local_action: {module: ${module.name}, param: value}` : `write ${key}: {param: value}`);
        args = {};
      } else {
        args = {};
      }
    }
    if ('args' in value) {
      if (!isMap(value.args)) this.ctx.error(src, '"args" must be a mapping', 'args');
      else args = { ...(value.args as object), ...(args as object) };
      if (!isMap(given ? given.args : value[key])) argsPath = [...src.path, 'args'];
    }
    this.checkArgs(src.file, argsPath, module, args);

    const register = value.register;
    if (register !== undefined && (typeof register !== 'string' || !IDENT.test(register))) {
      this.ctx.valueError(src, 'register', `register must be a variable name (got ${describe(register)})`);
    }
    const task: ModuleTask = {
      ...base,
      kind: 'module',
      moduleName: module.name,
      module,
      args,
      register: typeof register === 'string' ? register : undefined,
      notify: this.stringList(src, value, 'notify'),
      changedWhen: this.condition(src, value, 'changed_when'),
      failedWhen: this.condition(src, value, 'failed_when'),
      until: this.condition(src, value, 'until'),
      retries: this.integer(src, value, 'retries', 'until' in value ? 3 : 0),
      delaySeconds: this.integer(src, value, 'delay', 5),
    };
    if (opts.handlers) {
      return { ...task, listen: this.stringList(src, value, 'listen') } as Handler;
    }
    if ('listen' in value) this.ctx.error(src, '"listen" is only valid on handlers', 'listen');
    return task;
  }

  /**
   * Checks module parameters with the module's schema, skipping values that are templates (known
   * at run time). A number or boolean where a string is wanted is its string form, as at run time.
   */
  checkArgs(file: YamlFile, argsPath: YamlPath, module: AnyModule, args: unknown): void {
    const schema = module.params instanceof z.ZodObject ? module.params.strict() : module.params;
    const r = schema.safeParse(coerceScalars(module.params, args));
    if (r.success) return;
    const shape = module.params instanceof z.ZodObject ? Object.keys(module.params.shape) : [];
    for (const iss of r.error.issues) {
      const path = iss.path as Array<string | number>;
      if (touchesTemplate(args, path)) continue;
      // A refinement over a list or object (e.g. apt's "every name is a package name") cannot be
      // decided while an element is still a template: `name: [fail2ban, "{{ extra }}"]`.
      if (iss.code === 'custom' && holdsTemplate(getIn(args, path))) continue;
      if (iss.code === 'unrecognized_keys') {
        const keys = path.length ? objectKeysAt(module.params, path) : shape;
        for (const k of iss.keys) {
          const dym = didYouMean(k, keys);
          this.ctx.diags.error(
            `${module.name}: unknown parameter "${k}"${dym ? `; did you mean "${dym}"?` : ''}`,
            file.keyPos([...argsPath, ...path, k]),
            dym ? undefined : `${path.length ? path.join('.') : `parameters of ${module.name}`}: ${keys.join(', ')}`,
          );
        }
        continue;
      }
      const missing = getIn(args, path) === undefined && iss.code !== 'custom';
      const where = path.length ? path.join('.') : '';
      const message = missing
        ? `${module.name}: missing required parameter "${where}"`
        : `${module.name}: ${where ? `${where}: ` : ''}${iss.message}`;
      // A missing parameter is shown where it should be: its parent mapping (or the module key).
      const pos = missing ? (path.length > 1 ? file.pos([...argsPath, ...path.slice(0, -1)]) : file.keyPos(argsPath)) : file.pos([...argsPath, ...path]);
      this.ctx.diags.error(message, pos);
    }
  }

  private parseInclude(src: Src, value: Record<string, unknown>, key: (typeof INCLUDE_KEYS)[number], base: TaskBase, opts: TaskListOptions): IncludeTask | undefined {
    const spec = value[key];
    if (key === 'include_tasks' || key === 'import_tasks') {
      const target = typeof spec === 'string' ? spec : isMap(spec) && typeof spec.file === 'string' ? spec.file : undefined;
      if (!target) {
        this.ctx.error(src, `${key} needs a file name`, key);
        return undefined;
      }
      if (target.includes('{{')) {
        this.ctx.error(src, `${key}: the file name must be static (templated include paths are not supported)`, key);
        return undefined;
      }
      return { ...base, kind: 'include', what: 'tasks', target, tasks: this.includes.includeTasks(target, { file: src.file, path: [...src.path, key] }, opts), handlers: [] };
    }
    const roleSpec = typeof spec === 'string' ? { name: spec } : isMap(spec) ? spec : undefined;
    if (!roleSpec || typeof roleSpec.name !== 'string') {
      this.ctx.error(src, `${key} needs a role name (${key}: {name: ROLE})`, key);
      return undefined;
    }
    const r = this.includes.includeRole(roleSpec, { file: src.file, path: [...src.path, key] }, opts);
    return { ...base, kind: 'include', what: 'role', target: roleSpec.name, tasks: r?.tasks ?? [], handlers: r?.handlers ?? [], role: r?.role ?? base.role };
  }

  /** Keywords shared by every kind of task. */
  parseBase(src: Src, value: Record<string, unknown>, opts: TaskListOptions): TaskBase | undefined {
    const name = value.name;
    if (name !== undefined && typeof name !== 'string') this.ctx.error(src, 'task name must be a string', 'name');
    let loop: unknown = undefined;
    if ('loop' in value) loop = value.loop;
    else if ('with_items' in value) loop = value.with_items;
    else if ('with_list' in value) loop = value.with_list;
    else if ('with_dict' in value) loop = { __dict2items: value.with_dict };
    if (loop !== undefined && typeof loop !== 'string' && !Array.isArray(loop) && !(isMap(loop) && '__dict2items' in loop)) {
      this.ctx.error(src, 'loop must be a list or an expression that gives a list ("{{ users }}")', 'loop');
    }
    const lc = value.loop_control;
    let loopVar = 'item';
    let loopLabel: string | undefined;
    let loopIndexVar: string | undefined;
    let loopPause: number | undefined;
    if (lc !== undefined) {
      if (!isMap(lc)) this.ctx.error(src, 'loop_control must be a mapping', 'loop_control');
      else {
        for (const k of Object.keys(lc)) {
          if (!['label', 'loop_var', 'index_var', 'pause'].includes(k)) this.ctx.error({ file: src.file, path: [...src.path, 'loop_control'] }, `unknown loop_control key "${k}"`, k);
        }
        if (typeof lc.loop_var === 'string') loopVar = lc.loop_var;
        if (lc.label !== undefined) loopLabel = String(lc.label);
        if (lc.index_var !== undefined) {
          if (typeof lc.index_var === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(lc.index_var)) loopIndexVar = lc.index_var;
          else this.ctx.error({ file: src.file, path: [...src.path, 'loop_control', 'index_var'] }, 'loop_control.index_var must be a variable name');
        }
        if (lc.pause !== undefined) {
          if (typeof lc.pause === 'number' && lc.pause >= 0 && Number.isFinite(lc.pause)) loopPause = lc.pause;
          else this.ctx.error({ file: src.file, path: [...src.path, 'loop_control', 'pause'] }, 'loop_control.pause must be a number of seconds (0 or more)');
        }
      }
    }
    const vars = 'vars' in value ? this.ctx.varsLayer(`task vars`, src.file, [...src.path, 'vars'], value.vars, { list: true }) : undefined;
    const env = value.environment;
    if (env !== undefined && !isMap(env)) this.ctx.error(src, 'environment must be a mapping', 'environment');
    const delegateTo = this.str(src, value, 'delegate_to');
    if (delegateTo !== undefined && !delegateTo.trim()) this.ctx.valueError(src, 'delegate_to', 'delegate_to must name a host (an inventory host or localhost)');
    return {
      name: typeof name === 'string' ? name : undefined,
      src,
      when: this.condition(src, value, 'when') ?? [],
      tags: this.stringList(src, value, 'tags'),
      become: this.bool(src, value, 'become'),
      becomeUser: this.str(src, value, 'become_user'),
      becomeMethod: this.becomeMethod(src, value),
      ignoreErrors: this.boolOrTemplate(src, value, 'ignore_errors') ?? false,
      vars,
      noLog: this.boolOrTemplate(src, value, 'no_log') ?? false,
      checkMode: this.bool(src, value, 'check_mode'),
      diff: this.bool(src, value, 'diff'),
      runOnce: this.bool(src, value, 'run_once') ?? false,
      delegateTo: delegateTo?.trim() || undefined,
      delegateFacts: this.bool(src, value, 'delegate_facts'),
      role: opts.role,
      loop,
      loopVar,
      loopLabel,
      loopIndexVar,
      loopPause,
      environment: isMap(env) ? env : undefined,
    };
  }

  /** when / changed_when / failed_when: a string expression, a boolean, or a list (AND). */
  condition(src: Src, value: Record<string, unknown>, key: string): string[] | undefined {
    if (!(key in value)) return undefined;
    const v = value[key];
    const list = Array.isArray(v) ? v : [v];
    const out: string[] = [];
    list.forEach((c) => {
      if (typeof c === 'boolean') out.push(String(c));
      else if (typeof c === 'string' && c.trim()) {
        const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(c);
        if (m) {
          this.ctx.warning(src, `${key} is already an expression: drop the {{ }}`, key, `${key}: ${m[1]!.trim()}`);
          out.push(m[1]!.trim());
        } else out.push(c);
      } else this.ctx.error(src, `${key} must be an expression string, a boolean or a list of them (got ${describe(c)})`, key);
    });
    return out;
  }

  stringList(src: Src, value: Record<string, unknown>, key: string): string[] {
    const v = value[key];
    if (v === undefined || v === null) return [];
    if (typeof v === 'string') return key === 'tags' ? v.split(',').map((s) => s.trim()).filter(Boolean) : [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.map(String);
    this.ctx.error(src, `${key} must be a string or a list of strings`, key);
    return [];
  }

  bool(src: Src, value: Record<string, unknown>, key: string): boolean | undefined {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'yes' || v === 'no') {
      this.ctx.valueError(src, key, `${key} must be true or false (YAML 1.2 reads "${v}" as a string)`, `${key}: ${v === 'yes'}`);
      return v === 'yes';
    }
    this.ctx.valueError(src, key, `${key} must be true or false (got ${describe(v)})`);
    return undefined;
  }

  /** A boolean, or a whole-value template (`"{{ expr }}"`): its expression, evaluated per host at run time. */
  boolOrTemplate(src: Src, value: Record<string, unknown>, key: string): boolean | string | undefined {
    const v = value[key];
    const m = typeof v === 'string' ? /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(v) : null;
    if (m && m[1]!.trim()) return m[1]!.trim();
    return this.bool(src, value, key);
  }

  /** become_method: sudo or su (a play's or a task's); anything else is an error here, at validation. */
  becomeMethod(src: Src, value: Record<string, unknown>): BecomeMethod | undefined {
    const v = this.str(src, value, 'become_method');
    if (v === undefined) return undefined;
    if ((BECOME_METHODS as readonly string[]).includes(v)) return v as BecomeMethod;
    this.ctx.valueError(src, 'become_method', `become_method "${v}" is not supported (tsplay runs ${BECOME_METHODS.join(' and ')})`);
    return undefined;
  }

  str(src: Src, value: Record<string, unknown>, key: string): string | undefined {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    this.ctx.valueError(src, key, `${key} must be a string (got ${describe(v)})`);
    return undefined;
  }

  integer(src: Src, value: Record<string, unknown>, key: string, dflt: number): number {
    const v = value[key];
    if (v === undefined) return dflt;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    this.ctx.valueError(src, key, `${key} must be a non-negative integer (got ${describe(v)})`);
    return dflt;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** The keys of the object schema found at `path` inside a module's parameter schema. */
function objectKeysAt(schema: z.ZodType, path: Array<string | number>): string[] {
  let cur: z.ZodType | undefined = schema;
  const unwrap = (t: z.ZodType | undefined): z.ZodType | undefined => {
    let x = t;
    while (x && (x instanceof z.ZodOptional || x instanceof z.ZodDefault || x instanceof z.ZodNullable)) x = x.unwrap() as z.ZodType;
    return x;
  };
  for (const seg of path) {
    cur = unwrap(cur);
    if (cur instanceof z.ZodObject) cur = cur.shape[String(seg)] as z.ZodType | undefined;
    else if (cur instanceof z.ZodArray) cur = cur.element as z.ZodType;
    else return [];
  }
  cur = unwrap(cur);
  return cur instanceof z.ZodObject ? Object.keys(cur.shape) : [];
}

function getIn(v: unknown, path: Array<string | number>): unknown {
  let cur = v;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** True when a template string is anywhere inside `v` (v itself, or a list item or object value at any depth). */
export function holdsTemplate(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{');
  if (v === null || typeof v !== 'object') return false;
  return Object.values(v as Record<string, unknown>).some(holdsTemplate);
}

/** True when a value on the way to `path` is a template string: its type is known only at run time. */
export function touchesTemplate(v: unknown, path: Array<string | number>): boolean {
  let cur = v;
  for (let i = 0; i <= path.length; i++) {
    if (typeof cur === 'string' && cur.includes('{{')) return true;
    if (i === path.length || cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string | number, unknown>)[path[i]!];
  }
  return false;
}
