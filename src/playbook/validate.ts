/**
 * Whole-playbook checks that need more than one task at a time: host patterns against the
 * inventory, notify targets, expressions (syntax and names), local files and templates.
 */
import { didYouMean, UserError } from '../core/errors.js';
import type { Inventory } from '../inventory/model.js';
import { BECOME_METHOD_VARS, CONNECTION_VAR_NAMES } from '../inventory/connection.js';
import { LOCALHOST_NAMES } from '../inventory/vars-dirs.js';
import { BECOME_METHODS } from '../connection/types.js';
import { analyzeExpression, jinjaHint } from '../vars/analyze.js';
import { ExprSyntaxError, JinjaHabitError } from '../vars/expr-errors.js';
import { constantKeys, jinjaHabit } from '../vars/jinja.js';
import { parseTemplate } from '../vars/expr.js';
import { EXPR_GLOBALS } from '../vars/globals.js';
import { ANSIBLE_FACT_NAMES, ANSIBLE_FACT_VARS } from '../facts/ansible.js';
import type { LoadContext } from './context.js';
import { fileCandidates, filesUnder, findLocalDir, findLocalFile, readLocalFile } from './files.js';
import { quietKeys, templatedCandidates } from './included-names.js';
import type { Handler, LoadedRole, ModuleTask, Play, Playbook, Src, Task, VarsLayer } from './model.js';
import { checkTemplate, templatesRoot } from './templates.js';
import { isJinjaFile, JinjaSyntaxError, jinjaNames, TEMPLATE_VARS } from './jinja.js';
import { jinjaBuiltins } from '../vars/sandbox.js';
import { isVaultFile } from '../yaml/vault.js';
import { checkTypes, describe, fromValue, notBoolean, union, UNKNOWN, type VType } from '../vars/types.js';
import { HOST_FACTS_TYPE, registeredType } from './result-types.js';

/** Names every expression may use, whatever the play. */
export const MAGIC_VARS = [
  'inventory_hostname', 'inventory_hostname_short', 'groups', 'group_names', 'hostvars', 'play_hosts', 'ansible_play_hosts',
  'ansible_play_batch', 'ansible_check_mode', 'ansible_diff_mode', 'playbook_dir', 'role_name', 'ansible_role_name', 'role_path', 'facts',
  'ansible_facts', 'omit', 'environment',
] as const;

interface Names {
  base: Set<string>;
  /** Names defined by users (for the "did you mean {{ x }}" warning). */
  user: Set<string>;
}

export function validatePlaybook(pb: Playbook, ctx: LoadContext, opts: { inventory?: Inventory; extraVars?: Record<string, unknown> }): void {
  const inventoryNames = new Set<string>();
  if (opts.inventory) {
    for (const h of opts.inventory.hosts.keys()) for (const k of Object.keys(opts.inventory.hostVars(h).vars)) inventoryNames.add(k);
  }
  if (opts.inventory) checkInventoryBecomeMethods(opts.inventory, ctx);
  for (const play of pb.plays) new PlayChecker(play, ctx, opts, inventoryNames).run();
}

/** An unsupported become method (doas, pbrun, ...) in a variable: reported here, before any host is contacted. */
function becomeMethodError(key: string, v: unknown): string | undefined {
  if (!BECOME_METHOD_VARS.includes(key) || typeof v !== 'string' || v.includes('{{') || (BECOME_METHODS as readonly string[]).includes(v)) return undefined;
  return `${key}: become method "${v}" is not supported (tsplay runs ${BECOME_METHODS.join(' and ')})`;
}

function checkInventoryBecomeMethods(inventory: Inventory, ctx: LoadContext): void {
  const seen = new Set<string>();
  for (const h of inventory.hosts.keys()) {
    for (const [k, v] of Object.entries(inventory.hostVars(h).vars)) {
      const msg = becomeMethodError(k, v);
      if (!msg) continue;
      const pos = inventory.varSource(h, k)?.pos;
      const key = pos ? `${pos.file}:${pos.line}:${pos.col}` : `${h}:${k}`;
      if (seen.has(key)) continue;
      seen.add(key);
      ctx.diags.error(pos ? msg : `host ${h}: ${msg}`, pos);
    }
  }
}

class PlayChecker {
  private readonly registered = new Set<string>();
  /** Names set by set_fact (their type is whatever the expression gave: unknown). */
  private readonly setFacts = new Set<string>();
  /** Each task's registered type, by register name (several tasks may register one name). */
  private readonly registeredTypes = new Map<string, VType[]>();
  /** Types of names bound by the task being checked (its loop variable and index). */
  private local = new Map<string, VType>();
  private readonly topics = new Set<string>();
  private readonly names: Names;

  /** Every value given to each variable name in the play, its roles, tasks and the inventory (for `in`). */
  private readonly values = new Map<string, unknown[]>();

  constructor(
    private readonly play: Play,
    private readonly ctx: LoadContext,
    private readonly opts: { inventory?: Inventory; extraVars?: Record<string, unknown> },
    inventoryNames: Set<string>,
  ) {
    const user = new Set<string>([...inventoryNames, ...Object.keys(opts.extraVars ?? {}), ...layerNames(play.vars), ...play.varsFiles.flatMap(layerNames), ...play.varsFiles.flatMap((l) => l.choice?.names ?? [])]);
    this.names = { base: new Set<string>([...EXPR_GLOBALS, ...MAGIC_VARS, ...CONNECTION_VAR_NAMES, ...ANSIBLE_FACT_VARS, ...user]), user };
    // Names of a vars_files entry chosen per host: typed unknown, like set_fact names.
    for (const l of play.varsFiles) for (const n of l.choice?.names ?? []) this.setFacts.add(n);
    const layers = [play.vars, ...play.varsFiles, ...play.roles.flatMap((r) => [r.defaults, r.vars, r.params])];
    walk([...play.preTasks, ...play.tasks, ...play.postTasks, ...play.handlers], (t) => {
      if (t.vars) layers.push(t.vars);
      if (t.role) layers.push(t.role.defaults, t.role.vars, t.role.params);
    });
    const add = (k: string, v: unknown) => this.values.set(k, [...(this.values.get(k) ?? []), v]);
    for (const l of layers) for (const [k, v] of Object.entries(l.vars)) add(k, v);
    if (opts.inventory) for (const h of opts.inventory.hosts.keys()) for (const [k, v] of Object.entries(opts.inventory.hostVars(h).vars)) add(k, v);
  }

  /** True when every known value of root.path is a list or a plain string (not a template). */
  private listLike(root: string, path: ReadonlyArray<string | number>): boolean {
    const vs = (this.values.get(root) ?? []).map((v) => path.reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string | number, unknown>)[k] : undefined), v));
    return vs.length > 0 && vs.every((v) => Array.isArray(v) || (typeof v === 'string' && !v.includes('{{')));
  }

  run(): void {
    const { play } = this;
    this.checkHosts();
    // Registered results and set_fact names are known to the whole play (handlers run late).
    const allTasks = [...play.preTasks, ...play.tasks, ...play.postTasks, ...play.handlers];
    walk(allTasks, (t) => {
      if (t.kind !== 'module') return;
      if (t.register) this.registered.add(t.register);
      const set = t.moduleName === 'set_fact' && t.args && typeof t.args === 'object' ? Object.keys(t.args) : t.moduleName === 'include_vars' ? this.includedNames(t) : [];
      for (const k of set) {
        this.registered.add(k);
        this.setFacts.add(k);
      }
    });
    const extra = this.opts.extraVars ?? {};
    for (const [k, v] of Object.entries(extra)) this.values.set(k, [...(this.values.get(k) ?? []), v]);
    // Registered types in document order, so a loop over an earlier result knows its items.
    walk(allTasks, (t) => {
      if (t.kind !== 'module' || !t.register) return;
      this.registeredTypes.set(t.register, [...(this.registeredTypes.get(t.register) ?? []), registeredType(t, this.loopItemType(t.loop))]);
    });
    for (const h of play.handlers) this.addTopics(h);
    walk(allTasks, (t) => {
      if (t.kind === 'include') for (const h of t.handlers) this.addTopics(h);
    });
    this.checkVars(play.vars, new Set());
    for (const l of play.varsFiles) this.checkVars(l, new Set());
    for (const r of play.roles) {
      const rn = this.roleNames(r);
      this.checkVars(r.defaults, rn);
      this.checkVars(r.vars, rn);
      this.checkVars(r.params, rn);
    }
    for (const list of [play.preTasks, play.tasks, play.postTasks, play.handlers]) this.checkTasks(list, new Set());
  }

  /**
   * The names an include_vars task may define: its `name`, else the keys of its file (or of every
   * vars file its templated name may point to: see included-names.ts). A static file that does
   * not exist is an error here.
   */
  private includedNames(t: ModuleTask): string[] {
    const a = (t.args && typeof t.args === 'object' ? t.args : {}) as Record<string, unknown>;
    const where = { role: t.role, playbookDir: this.ctx.playbookDir };
    const argsKey = Object.keys(srcValue(t)).find((k) => k === 'include_vars' || k === 'local_action' || this.ctx.registry.get(k) === t.module) ?? 'include_vars';
    const pos = t.src.file.pos([...t.src.path, argsKey, ...(typeof srcValue(t)[argsKey] === 'object' ? [typeof a.dir === 'string' ? 'dir' : 'file'] : [])]);
    let files: string[] = [];
    if (typeof a.file === 'string' && !a.file.includes('{{')) {
      const found = findLocalFile('vars', a.file, where);
      if (!found) this.ctx.diags.error(`include_vars: vars file "${a.file}" not found`, pos, `looked in ${fileCandidates('vars', a.file, where).join(', ')}`);
      else if (typeof a.name !== 'string') {
        const data = this.ctx.yaml(found).data;
        return data && typeof data === 'object' && !Array.isArray(data) ? Object.keys(data) : [];
      }
    } else if (typeof a.file === 'string') {
      files = templatedCandidates(a.file, where);
    } else if (typeof a.dir === 'string' && !a.dir.includes('{{')) {
      const dir = findLocalDir('vars', a.dir, where);
      if (!dir) this.ctx.diags.error(`include_vars: folder "${a.dir}" not found`, pos, `looked in ${fileCandidates('vars', a.dir, where).join(', ')}`);
      else files = filesUnder(dir, typeof a.depth === 'number' ? a.depth : 0);
    }
    if (typeof a.name === 'string') return [a.name];
    return files.flatMap(quietKeys);
  }

  private addTopics(h: Handler): void {
    if (h.name) this.topics.add(h.name);
    for (const l of h.listen) this.topics.add(l);
  }

  private checkHosts(): void {
    const { play, ctx, opts } = this;
    if (!opts.inventory || play.hosts.includes('{{')) return;
    try {
      opts.inventory.select(play.hosts, play.src.file.pos([...play.src.path, 'hosts']));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      for (const d of e.diagnostics) ctx.diags.add({ ...d, pos: play.src.file.pos([...play.src.path, 'hosts']) });
    }
  }

  private roleNames(role: LoadedRole): Set<string> {
    return new Set([...layerNames(role.defaults), ...layerNames(role.vars), ...layerNames(role.params)]);
  }

  private checkVars(layer: VarsLayer, extra: Set<string>): void {
    for (const [k, v] of Object.entries(layer.vars)) {
      const method = becomeMethodError(k, v);
      if (method) this.ctx.diags.error(method, layer.pos?.(k));
      this.checkValue(v, layer.pos?.(k), extra, `variable "${k}"`);
    }
  }

  private checkTasks(tasks: Task[], scopeNames: Set<string>): void {
    for (const t of tasks) {
      const names = new Set(scopeNames);
      if (t.role) for (const n of this.roleNames(t.role)) names.add(n);
      if (t.vars) for (const n of layerNames(t.vars)) names.add(n);
      const what = t.name ? `task "${t.name}"` : t.kind === 'module' ? `${t.moduleName} task` : 'task';
      if (t.vars) this.checkVars(t.vars, names);
      if (t.loop !== undefined) this.checkValue(t.loop, this.ctx.pos(t.src, 'loop' in srcValue(t) ? 'loop' : undefined), names, what);
      const itemNames = new Set(names);
      if (t.loop !== undefined) itemNames.add(t.loopVar);
      if (t.loop !== undefined && t.kind === 'module' && t.loopIndexVar) itemNames.add(t.loopIndexVar);
      const outer = this.local;
      if (t.loop !== undefined && t.kind === 'module') {
        this.local = new Map(outer);
        this.local.set(t.loopVar, this.loopItemType(t.loop));
        if (t.loopIndexVar) this.local.set(t.loopIndexVar, { t: 'number' });
      }
      if (t.name) this.checkValue(t.name, this.ctx.pos(t.src, 'name'), itemNames, what);
      for (const w of t.when) this.checkExpr(w, this.ctx.pos(t.src, 'when'), itemNames, what, 'when');
      if (typeof t.ignoreErrors === 'string') this.checkExpr(t.ignoreErrors, this.ctx.pos(t.src, 'ignore_errors'), itemNames, what, 'ignore_errors');
      if (typeof t.noLog === 'string') this.checkExpr(t.noLog, this.ctx.pos(t.src, 'no_log'), itemNames, what, 'no_log');
      if (t.delegateTo !== undefined) this.checkDelegate(t, itemNames, what);
      if (t.kind === 'module') {
        this.checkModuleTask(t, itemNames, what);
        this.local = outer;
        continue;
      }
      if (t.kind === 'block') {
        this.checkTasks(t.block, names);
        this.checkTasks(t.rescue, new Set([...names, 'ansible_failed_task', 'ansible_failed_result']));
        this.checkTasks(t.always, names);
      } else if (t.kind === 'include') {
        // An include with a loop gives its tasks the loop variable.
        this.checkTasks(t.tasks, t.loop === undefined ? names : itemNames);
        if (t.what === 'role') this.checkTasks(t.handlers, names);
      }
    }
  }

  /** The static type of a name (see vars/types.ts); undefined when nothing is known. */
  private typeOf(name: string, names: Set<string>): VType | undefined {
    if (this.local.has(name)) return this.local.get(name);
    if (this.setFacts.has(name)) return undefined;
    const reg = this.registeredTypes.get(name);
    const values = this.values.get(name);
    if (reg) return values ? undefined : union(reg);
    if (values) return union(values.map(fromValue));
    if (name === 'facts' && !names.has('facts') && !this.names.user.has('facts')) return HOST_FACTS_TYPE;
    return undefined;
  }

  /** The type of a loop's items: a literal list's elements, or the elements of `{{ expr }}`. */
  private loopItemType(loop: unknown): VType {
    if (Array.isArray(loop)) return loop.length ? union(loop.map(fromValue)) : UNKNOWN;
    if (typeof loop !== 'string') return UNKNOWN;
    const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(loop);
    if (!m || m[1]!.includes('}}')) return UNKNOWN;
    const { type } = checkTypes(m[1]!, (n) => this.typeOf(n, new Set()));
    return type.t === 'array' ? type.of : UNKNOWN;
  }

  /** delegate_to: an expression is checked like any other; a plain name must be a host of the inventory (or localhost). */
  private checkDelegate(t: Task, names: Set<string>, what: string): void {
    const name = t.delegateTo!;
    if (!('delegate_to' in srcValue(t))) return; // local_action: localhost
    const pos = this.ctx.pos(t.src, 'delegate_to');
    if (name.includes('{{')) return this.checkValue(name, t.src.file.pos([...t.src.path, 'delegate_to']), names, what);
    const inv = this.opts.inventory;
    if (!inv || inv.hosts.has(name) || LOCALHOST_NAMES.includes(name)) return;
    const dym = didYouMean(name, [...inv.hosts.keys()]);
    this.ctx.diags.error(`${what}: delegate_to: unknown host "${name}"${dym ? `; did you mean "${dym}"?` : ''}`, pos, dym ? undefined : 'delegate_to takes an inventory host name, localhost, or an expression ("{{ groups.db[0] }}")');
  }

  private checkModuleTask(t: ModuleTask, names: Set<string>, what: string): void {
    const { ctx } = this;
    const selfNames = new Set(names);
    if (t.register) selfNames.add(t.register);
    for (const [key, list] of [['changed_when', t.changedWhen], ['failed_when', t.failedWhen], ['until', t.until]] as const) {
      for (const c of list ?? []) this.checkExpr(c, ctx.pos(t.src, key), selfNames, what, key);
    }
    const keys = Object.keys(srcValue(t));
    const argsKey = keys.includes('local_action') ? 'local_action' : (keys.find((k) => k === t.moduleName || ctx.registry.get(k) === t.module) ?? t.moduleName);
    this.checkValue(t.args, ctx.pos(t.src, argsKey), names, what, t.src, [argsKey]);
    for (const n of t.notify) {
      if (n.includes('{{')) continue;
      if (!this.topics.has(n)) {
        const dym = didYouMean(n, this.topics);
        ctx.error(t.src, `${what} notifies "${n}", but no handler has that name or listens to it${dym ? `; did you mean "${dym}"?` : ''}`, 'notify');
      }
    }
    // Parameters that are bare expressions (assert's `that`, debug's `var`).
    const exprs = t.module.expressions && t.args && typeof t.args === 'object' ? t.module.expressions(t.args as Record<string, unknown>) : [];
    for (const x of exprs) if (typeof x === 'string') this.checkExpr(x, ctx.pos(t.src, argsKey), names, what);
    // Local files (templates, copy sources) must exist; templates must compile.
    const files = t.module.localFiles && t.args && typeof t.args === 'object' ? t.module.localFiles(t.args as Record<string, unknown>) : [];
    for (const f of files) {
      if (typeof f.name !== 'string' || f.name.includes('{{')) continue;
      const found = findLocalFile(f.kind, f.name, { role: t.role, playbookDir: ctx.playbookDir });
      if (!found) {
        ctx.diags.error(`${what}: ${f.kind === 'templates' ? 'template' : 'file'} "${f.name}" not found`, t.src.file.pos([...t.src.path, argsKey, 'src']), `looked in ${fileCandidates(f.kind, f.name, { role: t.role, playbookDir: ctx.playbookDir }).join(', ')}`);
      } else if (isVaultFile(found) && !this.vaultOpens(found, `${what}: ${f.kind === 'templates' ? 'template' : 'file'} "${f.name}"`, t.src.file.pos([...t.src.path, argsKey, 'src']))) {
        continue;
      } else if (f.kind === 'templates') {
        const d = checkTemplate(found);
        if (d) ctx.diags.add(d);
        else if (isJinjaFile(found)) this.checkJinjaNames(found, names, what);
      }
    }
  }

  /**
   * A Jinja template's variables, filters and tests (and those of the templates it includes):
   * a name no variable of the task defines is an error at its line in the template, unless the
   * template only reads it guarded (`is defined`, `| default`).
   */
  private checkJinjaNames(file: string, names: Set<string>, what: string): void {
    let found;
    try {
      found = jinjaNames(file, templatesRoot(file));
    } catch (e) {
      if (!(e instanceof JinjaSyntaxError)) throw e;
      this.ctx.diags.error(`${what}: template syntax error: ${e.reason}`, { file: e.file ?? file, line: e.line, col: e.col });
      return;
    }
    const { used, filters, tests } = found;
    // A Jinja template sees variables, not the JavaScript helpers of expressions.
    const helpers = new Set(EXPR_GLOBALS.filter((n) => n !== 'vars'));
    const known = [...names, ...[...this.names.base].filter((n) => !helpers.has(n)), ...this.registered, ...TEMPLATE_VARS];
    for (const [n, at] of used) {
      if (!known.includes(n)) {
        const dym = didYouMean(n, known);
        this.ctx.diags.error(`${what}: undefined variable '${n}' in template${dym ? `; did you mean '${dym}'?` : ''}`, { file: at.file, line: at.line, col: 1 }, `if it may be missing, write {{ ${n} | default('...') }} or test {% if ${n} is defined %}`);
      }
    }
    const builtins = jinjaBuiltins();
    for (const [kind, list, have] of [['filter', filters, builtins.filters], ['test', tests, builtins.tests]] as const) {
      for (const [n, at] of list) {
        if (have.includes(n)) continue;
        const dym = didYouMean(n, have);
        this.ctx.diags.error(`${what}: template uses unknown Jinja ${kind} '${n}'${dym ? `; did you mean '${dym}'?` : ''}`, { file: at.file, line: at.line, col: 1 }, `tsplay's Jinja ${kind}s are listed in docs/modules/template.md`);
      }
    }
  }

  /**
   * A local file encrypted with Ansible vault (a copy or template src) is decrypted when the
   * task runs: false, after an error at the task, when the run's vault passwords cannot.
   */
  private vaultOpens(file: string, what: string, pos: ReturnType<LoadContext['pos']>): boolean {
    try {
      readLocalFile(file);
      return true;
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const d = e.diagnostics[0]!;
      this.ctx.diags.error(`${what}: ${d.message.replace(`"${file}"`, 'this file')}`, pos, d.hint);
      return false;
    }
  }

  /** Checks every template string inside a value. */
  private checkValue(v: unknown, pos: ReturnType<LoadContext['pos']> | undefined, names: Set<string>, what: string, src?: Src, path: Array<string | number> = []): void {
    if (typeof v === 'string') {
      const at = src ? src.file.pos([...src.path, ...path]) : pos;
      if (!v.includes('{{')) {
        if (src && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && this.names.user.has(v)) {
          this.ctx.diags.warning(`${what}: "${v}" is a plain string, but a variable has that name`, at, `did you mean "{{ ${v} }}"?`);
        }
        return;
      }
      let parts;
      try {
        parts = parseTemplate(v);
      } catch (e) {
        if (e instanceof ExprSyntaxError) {
          this.ctx.diags.error(`${what}: ${e.reason}`, at, e.hint);
          return;
        }
        throw e;
      }
      for (const p of parts) if (p.kind === 'expr') this.checkExpr(p.code, at, names, what);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => this.checkValue(x, pos, names, what, src, [...path, i]));
    } else if (v && typeof v === 'object' && !(v as object).constructor?.name?.startsWith('Secret')) {
      for (const [k, x] of Object.entries(v)) this.checkValue(x, pos, names, what, src, [...path, k]);
    }
  }

  private checkExpr(code: string, pos: ReturnType<LoadContext['pos']> | undefined, names: Set<string>, what: string, key?: string): void {
    let used: string[];
    try {
      used = analyzeExpression(code).names;
    } catch (e) {
      if (e instanceof JinjaHabitError) {
        this.ctx.diags.error(`${what}: ${key ? `${key}: ` : ''}${e.reason}`, pos);
        return;
      }
      if (e instanceof ExprSyntaxError) {
        this.ctx.diags.error(`${what}: ${key ? `${key}: ` : ''}expression syntax error: ${e.reason} in \`${code}\``, pos, e.hint);
        return;
      }
      throw e;
    }
    // `x in allowed` where a variable's value is a list or a string: Jinja's membership test.
    if (/\bin\b/.test(code)) {
      const habit = jinjaHabit(code, (root, path) => this.listLike(root, path));
      if (habit) {
        this.ctx.diags.error(`${what}: ${key ? `${key}: ` : ''}${habit.message}`, pos);
        return;
      }
    }
    if (used.includes('ansible_facts')) {
      for (const k of constantKeys(code, 'ansible_facts')) {
        if (ANSIBLE_FACT_NAMES.includes(k)) continue;
        const dym = didYouMean(k, ANSIBLE_FACT_NAMES);
        this.ctx.diags.error(`${what}: Ansible fact '${k}' is not gathered by tsplay${dym ? `; did you mean '${dym}'?` : ''}`, pos, `tsplay provides ${ANSIBLE_FACT_NAMES.join(', ')} (src/facts/ansible.ts); its own facts are under facts.*`);
      }
    }
    let undefinedNames = false;
    for (const n of used) {
      if (names.has(n) || this.names.base.has(n) || this.registered.has(n)) continue;
      const all = [...names, ...this.names.base, ...this.registered];
      const dym = didYouMean(n, all);
      this.ctx.diags.error(`${what}: undefined variable '${n}'${key ? ` in ${key}` : ''}${dym ? `; did you mean '${dym}'?` : ''}`, pos, jinjaHint(code));
      undefinedNames = true;
    }
    if (undefinedNames) return;
    // Member access against the known types of registered results, facts and literal vars.
    const { issues, type } = checkTypes(code, (n) => this.typeOf(n, names));
    for (const i of issues) this.ctx.diags.error(`${what}: ${key ? `${key}: ` : ''}${i.message}`, pos);
    if (!issues.length && key && CONDITION_KEYS.has(key) && notBoolean(type)) {
      this.ctx.diags.error(`${what}: ${key}: \`${code.trim()}\` is ${describe(type)}, not a boolean`, pos, "compare explicitly (e.g. `x === 'yes'`, `x.length > 0`) or use bool(x)");
    }
  }
}

/** Keys whose expressions must give a boolean at run time (engine/params.ts condition; loop.ts for ignore_errors and no_log). */
const CONDITION_KEYS = new Set(['when', 'changed_when', 'failed_when', 'until', 'ignore_errors', 'no_log']);

function layerNames(l: VarsLayer): string[] {
  return Object.keys(l.vars);
}

function srcValue(t: Task): Record<string, unknown> {
  let v: unknown = t.src.file.data;
  for (const seg of t.src.path) v = (v as Record<string | number, unknown> | undefined)?.[seg];
  return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

/** Visits every task, descending into blocks and includes. */
export function walk(tasks: Task[], fn: (t: Task) => void): void {
  for (const t of tasks) {
    fn(t);
    if (t.kind === 'block') {
      walk(t.block, fn);
      walk(t.rescue, fn);
      walk(t.always, fn);
    } else if (t.kind === 'include') {
      walk(t.tasks, fn);
      walk(t.handlers, fn);
    }
  }
}
