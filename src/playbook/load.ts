/**
 * loadPlaybook: YAML -> the validated model (plays, roles, tasks, handlers). Collects every
 * error it can find, then throws one UserError listing them all. No host is contacted.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Diagnostics, UserError, didYouMean, type Diagnostic } from '../core/errors.js';
import { bundledRegistry } from '../modules/catalog.js';
import { ModuleRegistry } from '../modules/registry.js';
import type { Inventory } from '../inventory/model.js';
import type { YamlFile } from '../yaml/source.js';
import { LoadContext } from './context.js';
import { validatePlaybook } from './validate.js';
import { IGNORED_PLAY_KEYWORDS, PLAY_KEYWORDS } from './keywords.js';
import type { Handler, IncludeTask, LoadedRole, Play, Playbook, Src, Task, VarsLayer } from './model.js';
import { RoleLoader, visibleRoles } from './roles.js';
import { quietKeys, templatedVarsFiles } from './included-names.js';
import { TaskParser, describe, type IncludeResolver, type TaskListOptions } from './tasks.js';

export interface LoadOptions {
  /** Used to check host patterns and to know inventory variable names. */
  inventory?: Inventory;
  extraVars?: Record<string, unknown>;
  /** Extra folders to look for roles in. */
  rolesPath?: string[];
  /** Start from this registry instead of the built-in modules only. */
  registry?: ModuleRegistry;
}

export interface LoadResult {
  playbook: Playbook;
  registry: ModuleRegistry;
  /** Warnings (errors are thrown). */
  warnings: Diagnostic[];
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Loads project and role `modules/` folders into a registry (by default: the bundled modules, all loaded). */
export async function loadProjectModules(playbookDir: string, rolesPath: string[] = [], registry?: ModuleRegistry): Promise<ModuleRegistry> {
  const r = await projectModules(playbookDir, rolesPath, registry ?? bundledRegistry());
  if (!registry) await r.loadAll();
  return r;
}

/** The same, the bundled modules left to load when a playbook uses them. */
async function projectModules(playbookDir: string, rolesPath: string[], registry: ModuleRegistry): Promise<ModuleRegistry> {
  const dirs = [join(playbookDir, 'modules'), join(playbookDir, '..', 'modules')];
  for (const roleDir of visibleRoles(playbookDir, rolesPath).values()) dirs.push(join(roleDir, 'modules'));
  const seen = new Set<string>();
  const diags = new Diagnostics();
  for (const d of dirs.map((x) => resolve(x))) {
    if (seen.has(d) || !existsSync(d)) continue;
    seen.add(d);
    await diags.captureAsync(() => registry.loadDir(d));
  }
  diags.throwIfErrors();
  return registry;
}

export async function loadPlaybook(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const abs = resolve(file);
  const playbookDir = dirname(abs);
  if (!existsSync(abs)) throw new UserError(`playbook not found: ${file}`);
  const registry = opts.registry ?? (await projectModules(playbookDir, opts.rolesPath ?? [], bundledRegistry()));
  // The bundled modules load when used: a reading asks for them (registry.wanted()); when it asked
  // for any not loaded yet, they are loaded and the playbook is read again (each round loads at
  // least one, so this ends). `setup` too: the engine gathers facts with it.
  await registry.load(['setup']);
  let read = readPlaybook(abs, registry, opts);
  for (let wanted = registry.wanted(); wanted.length; wanted = registry.wanted()) {
    await registry.load(wanted);
    read = readPlaybook(abs, registry, opts);
  }
  const { playbook, diags } = read;
  diags.throwIfErrors();
  return { playbook, registry, warnings: diags.warnings };
}

function readPlaybook(abs: string, registry: ModuleRegistry, opts: LoadOptions): { playbook: Playbook; diags: Diagnostics } {
  const playbookDir = dirname(abs);
  const diags = new Diagnostics();
  const ctx = new LoadContext(diags, registry, playbookDir, opts.rolesPath ?? []);
  const loader = new PlaybookLoader(ctx);
  const plays = loader.loadPlays(abs, []);
  const playbook: Playbook = { file: abs, dir: playbookDir, plays };
  if (!diags.hasErrors) validatePlaybook(playbook, ctx, opts);
  return { playbook, diags };
}

class PlaybookLoader implements IncludeResolver {
  readonly parser: TaskParser;
  readonly roles: RoleLoader;

  constructor(private readonly ctx: LoadContext) {
    this.parser = new TaskParser(ctx, this);
    this.roles = new RoleLoader(ctx, () => this.parser);
  }

  loadPlays(file: string, stack: string[]): Play[] {
    if (stack.includes(file)) {
      this.ctx.diags.error(`import_playbook cycle: ${[...stack, file].join(' -> ')}`);
      return [];
    }
    const yf = this.ctx.yaml(file);
    if (yf.data === undefined) return []; // syntax errors already reported
    if (!Array.isArray(yf.data)) {
      this.ctx.diags.error(`a playbook is a list of plays (got ${describe(yf.data)})`, yf.pos(), 'start each play with "- hosts: PATTERN"');
      return [];
    }
    const plays: Play[] = [];
    yf.data.forEach((p, i) => {
      const src: Src = { file: yf, path: [i] };
      if (isMap(p) && 'import_playbook' in p) {
        const target = p.import_playbook;
        if (typeof target !== 'string') return this.ctx.error(src, 'import_playbook needs a file name', 'import_playbook');
        const path = isAbsolute(target) ? target : join(dirname(file), target);
        if (!existsSync(path)) return this.ctx.error(src, `imported playbook not found: ${target}`, 'import_playbook');
        plays.push(...this.loadPlays(path, [...stack, file]));
        return;
      }
      const play = this.loadPlay(yf, src, p);
      if (play) plays.push(play);
    });
    return plays;
  }

  /**
   * One vars_files entry: a file name, or a list of them (Ansible: the first that exists). Names
   * with templates are chosen per host when the play runs (engine/vars-files.ts); otherwise the
   * file is chosen and read here.
   */
  private varsFilesEntry(fsrc: Src, f: unknown): VarsLayer | undefined {
    const { ctx } = this;
    const list = Array.isArray(f) ? f : [f];
    if (!list.length || !list.every((x) => typeof x === 'string' && x)) {
      ctx.error(fsrc, 'vars_files entries are file names, or lists of file names (the first one found is read)');
      return undefined;
    }
    const candidates = list as string[];
    const pathOf = (c: string) => (isAbsolute(c) ? c : join(ctx.playbookDir, c));
    if (candidates.some((c) => c.includes('{{'))) {
      const names = candidates.flatMap((c) => (c.includes('{{') ? templatedVarsFiles(c, ctx.playbookDir) : existsSync(pathOf(c)) ? [pathOf(c)] : []).flatMap(quietKeys));
      return { label: `vars file ${candidates.join(' | ')}`, vars: {}, choice: { candidates, pos: ctx.pos(fsrc), names: [...new Set(names)] } };
    }
    const found = candidates.find((c) => existsSync(pathOf(c)));
    if (found === undefined) {
      ctx.error(fsrc, candidates.length === 1 ? `vars file not found: ${candidates[0]}` : `vars_files: none of these files exists: ${candidates.join(', ')}`);
      return undefined;
    }
    return ctx.varsFile(`vars file ${found}`, pathOf(found));
  }

  private loadPlay(yf: YamlFile, src: Src, value: unknown): Play | undefined {
    const { ctx, parser } = this;
    if (!isMap(value)) {
      ctx.error(src, `a play must be a mapping (got ${describe(value)})`);
      return undefined;
    }
    for (const k of Object.keys(value)) {
      if (!(PLAY_KEYWORDS as readonly string[]).includes(k)) {
        const dym = didYouMean(k, PLAY_KEYWORDS);
        const isModule = ctx.registry.has(k);
        ctx.error(src, `unknown play keyword "${k}"${dym ? `; did you mean "${dym}"?` : ''}`, k, isModule ? `"${k}" is a module: put it in a task under "tasks:"` : undefined);
      } else if (IGNORED_PLAY_KEYWORDS[k]) {
        ctx.warning(src, `"${k}" is ignored: ${IGNORED_PLAY_KEYWORDS[k]}`, k);
      }
    }
    let hosts = value.hosts;
    if (Array.isArray(hosts) && hosts.every((h) => typeof h === 'string')) hosts = hosts.join(':');
    if (typeof hosts !== 'string' || !hosts.trim()) {
      ctx.error(src, hosts === undefined ? 'play needs "hosts:" (a host pattern such as all, web, web:&prod)' : `hosts must be a host pattern string (got ${describe(hosts)})`, hosts === undefined ? undefined : 'hosts');
      hosts = 'all';
    }
    const name = typeof value.name === 'string' ? value.name : String(hosts);
    const vars = ctx.varsLayer(`play "${name}" vars`, yf, [...src.path, 'vars'], value.vars, { list: true });
    const varsFiles: VarsLayer[] = [];
    if (value.vars_files !== undefined) {
      const list = Array.isArray(value.vars_files) ? value.vars_files : [value.vars_files];
      list.forEach((f, i) => {
        const fsrc: Src = { file: yf, path: [...src.path, 'vars_files', ...(Array.isArray(value.vars_files) ? [i] : [])] };
        const layer = this.varsFilesEntry(fsrc, f);
        if (layer) varsFiles.push(layer);
      });
    }

    const opts: TaskListOptions = { dir: ctx.playbookDir, stack: [] };
    const roleRefs = value.roles === undefined || value.roles === null ? [] : value.roles;
    const roles: LoadedRole[] = [];
    const roleTasks: Task[] = [];
    if (!Array.isArray(roleRefs)) ctx.error(src, 'roles must be a list', 'roles');
    else
      roleRefs.forEach((r, i) => {
        const ref = this.roles.parseRef(yf, [...src.path, 'roles', i], r);
        if (!ref) return;
        for (const role of this.roles.load(ref)) {
          // Like Ansible, a role with the same parameters runs once per play.
          if (roles.some((x) => x.name === role.name && JSON.stringify(x.params.vars) === JSON.stringify(role.params.vars))) continue;
          roles.push(role);
          const node: IncludeTask = {
            kind: 'include', what: 'role', target: role.name, tasks: role.tasks, handlers: role.handlers, role, src: ref.src,
            when: role.name === ref.name ? ref.when : [], tags: ref.tags, ignoreErrors: false, noLog: false, runOnce: false, loopVar: 'item',
          };
          roleTasks.push(node);
        }
      });

    const handlers = [
      ...roles.flatMap((r) => r.handlers),
      ...(parser.parseList(yf, [...src.path, 'handlers'], value.handlers, { ...opts, handlers: true }) as Handler[]),
    ];
    const play: Play = {
      name,
      hosts: String(hosts),
      src,
      vars,
      varsFiles,
      become: parser.bool(src, value, 'become'),
      becomeUser: parser.str(src, value, 'become_user'),
      becomeMethod: parser.becomeMethod(src, value),
      gatherFacts: parser.bool(src, value, 'gather_facts') ?? true,
      roles,
      preTasks: parser.parseList(yf, [...src.path, 'pre_tasks'], value.pre_tasks, opts),
      tasks: [...roleTasks, ...parser.parseList(yf, [...src.path, 'tasks'], value.tasks, opts)],
      postTasks: parser.parseList(yf, [...src.path, 'post_tasks'], value.post_tasks, opts),
      handlers,
      anyErrorsFatal: parser.bool(src, value, 'any_errors_fatal') ?? false,
      strategy: 'free',
      tags: parser.stringList(src, value, 'tags'),
      checkMode: parser.bool(src, value, 'check_mode'),
      noLog: parser.bool(src, value, 'no_log') ?? false,
    };
    const serial = value.serial;
    if (serial !== undefined) {
      const list = Array.isArray(serial) ? serial : [serial];
      if (list.every((s) => (typeof s === 'number' && Number.isInteger(s) && s > 0) || (typeof s === 'string' && /^\d+%$/.test(s)))) play.serial = list as Array<number | string>;
      else ctx.error(src, 'serial must be a positive number, a percentage like "30%", or a list of them', 'serial');
    }
    const strategy = value.strategy;
    if (strategy === 'linear' || strategy === 'free') play.strategy = strategy;
    else if (strategy !== undefined) ctx.error(src, `strategy must be linear or free (got ${describe(strategy)})`, 'strategy');
    const mfp = value.max_fail_percentage;
    if (mfp !== undefined) {
      if (typeof mfp === 'number' && mfp >= 0 && mfp <= 100) play.maxFailPercentage = mfp;
      else ctx.error(src, 'max_fail_percentage must be a number from 0 to 100', 'max_fail_percentage');
    }
    return play;
  }

  includeTasks(target: string, src: Src, opts: TaskListOptions): Task[] {
    const candidates = isAbsolute(target)
      ? [target]
      : [join(opts.dir, target), ...(opts.role ? [join(opts.role.dir, 'tasks', target)] : []), join(this.ctx.playbookDir, target), join(this.ctx.playbookDir, 'tasks', target)];
    const file = candidates.find((c) => existsSync(c));
    if (!file) {
      this.ctx.error(src, `included tasks file not found: ${target}`, undefined, `looked in ${[...new Set(candidates.map((c) => dirname(c)))].join(', ')}`);
      return [];
    }
    const abs = resolve(file);
    if (opts.stack.includes(abs)) {
      this.ctx.error(src, `include cycle: ${[...opts.stack, abs].map((s) => s.replace(this.ctx.playbookDir + '/', '')).join(' -> ')}`);
      return [];
    }
    const yf = this.ctx.yaml(abs);
    return this.parser.parseList(yf, [], yf.data, { ...opts, dir: dirname(abs), stack: [...opts.stack, abs] });
  }

  includeRole(spec: Record<string, unknown>, src: Src, opts: TaskListOptions): { tasks: Task[]; handlers: Handler[]; role?: LoadedRole } | undefined {
    const { name, tasks_from: _tasksFrom, ...rest } = spec;
    const ref = this.roles.parseRef(src.file, src.path as Array<string | number>, { ...rest, role: name });
    if (!ref) return undefined;
    const tasksFrom = typeof spec.tasks_from === 'string' ? spec.tasks_from : 'main';
    const chain = opts.role ? [opts.role.name] : [];
    const loaded = this.roles.load(ref, chain, tasksFrom);
    if (!loaded.length) return undefined;
    const tasks: Task[] = loaded.map((role) => ({
      kind: 'include', what: 'role', target: role.name, tasks: role.tasks, handlers: role.handlers, role, src,
      when: [], tags: [], ignoreErrors: false, noLog: false, runOnce: false, loopVar: 'item',
    }));
    return { tasks, handlers: loaded.flatMap((r) => r.handlers), role: loaded[loaded.length - 1] };
  }
}
