/**
 * The module registry: built-in modules plus TypeScript/JavaScript modules found in a `modules/`
 * folder of the project or of a role, loaded without a build step (through tsx).
 *
 * A built-in may be registered lazily (addLazy: its name and a loader): its name counts for
 * `has`, `names` and did-you-mean at once, its definition is there once `load` loaded it. `get`
 * of a module not loaded yet returns undefined and remembers the name (`wanted`), so that a
 * playbook loader can load what a first pass asked for and read the playbook again.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, didYouMean } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';

const MODULE_FILE = /\.(ts|mts|js|mjs)$/;

export type ModuleLoader = () => Promise<AnyModule>;

/** The collection prefixes a module name may carry: `ansible.builtin.copy` and `tsplay.copy` are `copy`. */
export const FQCN_PREFIXES = ['ansible.builtin', 'ansible.posix', 'tsplay'] as const;
const FQCN = new RegExp(`^(${FQCN_PREFIXES.map((p) => p.replace(/\./g, '\\.')).join('|')})\\.`);
const shortName = (name: string) => name.replace(FQCN, '');

/** True for an Ansible module tsplay does not have (any collection prefix). */
export const isMissingAnsibleModule = (name: string): boolean => ANSIBLE_MODULES_MISSING.has(name.replace(/^[a-z0-9_]+\.[a-z0-9_]+\./, ''));

/** Ansible modules (short names, any collection) and the tsplay module that does their job. */
export const ANSIBLE_EQUIVALENTS: Readonly<Record<string, string>> = {
  ufw: 'install-ufw',
  docker_compose: 'compose-deploy',
  docker_compose_v2: 'compose-deploy',
  docker_stack: 'compose-deploy',
  docker_swarm: 'docker-swarm-init',
  docker_network: 'docker-swarm-init',
  systemd_service: 'systemd',
  sysvinit: 'service',
  nfs_exports: 'nfs-shares',
  apt_get: 'apt',
  dnf: 'package',
  yum: 'package',
  ansible_facts: 'setup',
  gather_facts: 'setup',
};

/**
 * Ansible modules (short names) tsplay has no module for: an unknown module of these names is
 * said to be Ansible's, with no did-you-mean to a tsplay module that merely looks alike
 * (`pip` is not `ping`, `git` is not `apt`).
 */
export const ANSIBLE_MODULES_MISSING: ReadonlySet<string> = new Set([
  'rpm_key', 'yum_repository', 'zypper', 'zypper_repository',
  'pacman', 'pkgng', 'openbsd_pkg', 'pkg5', 'homebrew', 'snap', 'flatpak', 'seboolean', 'selinux', 'seport', 'sefcontext', 'firewalld', 'iptables',
  'mysql_db', 'mysql_user', 'mysql_query', 'mysql_info', 'mysql_variables', 'postgresql_db', 'postgresql_user', 'postgresql_privs', 'mongodb_user',
  'rabbitmq_plugin', 'rabbitmq_user', 'rabbitmq_vhost', 'getent', 'package_facts', 'service_facts', 'pam_limits', 'pamd', 'openssh_keypair',
  'openssl_dhparam', 'known_hosts', 'modprobe', 'locale_gen', 'alternatives', 'add_host', 'group_by', 'script', 'raw',
  'synchronize', 'fetch', 'slurp', 'xml', 'ec2', 'ec2_vol', 'ec2_elb', 'ec2_elb_lb', 'haproxy', 'nagios', 'zfs', 'jboss', 'netscaler',
  'win_ping', 'win_feature', 'win_get_url', 'win_package', 'win_user', 'win_stat', 'win_service', 'win_copy', 'win_shell', 'win_command',
]);

export class ModuleRegistry {
  private readonly modules = new Map<string, { def: AnyModule; origin: string }>();
  /** Built-ins known by name, not loaded yet. */
  private readonly lazy = new Map<string, ModuleLoader>();
  /** Names `get` was asked for while they were not loaded. */
  private readonly wantedNames = new Set<string>();

  constructor(builtins: AnyModule[] = []) {
    for (const m of builtins) this.add(m, 'built-in');
  }

  add(def: AnyModule, origin: string): void {
    if (!def || typeof def !== 'object' || typeof def.name !== 'string' || typeof def.plan !== 'function' || !def.params) {
      throw new UserError(`${origin}: not a tsplay module (export default defineModule({ name, params, plan, ... }))`);
    }
    const existing = this.modules.get(def.name);
    if (existing && existing.origin !== origin) {
      // A project module may deliberately replace a built-in; two project modules may not collide.
      if (existing.origin !== 'built-in') {
        throw new UserError(`module "${def.name}" is defined twice: ${existing.origin} and ${origin}`);
      }
    }
    this.modules.set(def.name, { def, origin });
    this.lazy.delete(def.name);
  }

  /** A built-in known by its name, loaded by `load` when a playbook uses it. */
  addLazy(name: string, loader: ModuleLoader): void {
    if (!this.modules.has(name)) this.lazy.set(name, loader);
  }

  /**
   * Looks a module up by name; `ansible.builtin.copy` and `tsplay.copy` resolve to `copy`.
   * Undefined for a lazy built-in not loaded yet (its name is then in `wanted()`).
   */
  get(name: string): AnyModule | undefined {
    const def = this.modules.get(name)?.def ?? this.modules.get(shortName(name))?.def;
    if (!def) {
      const lazy = this.lazy.has(name) ? name : this.lazy.has(shortName(name)) ? shortName(name) : undefined;
      if (lazy) this.wantedNames.add(lazy);
    }
    return def;
  }

  has(name: string): boolean {
    return this.modules.has(name) || this.modules.has(shortName(name)) || this.lazy.has(name) || this.lazy.has(shortName(name));
  }

  /** Lazy built-ins `get` was asked for and that are still not loaded. */
  wanted(): string[] {
    return [...this.wantedNames].filter((n) => this.lazy.has(n));
  }

  /** Loads the lazy built-ins among `names` (other names are ignored). */
  async load(names: Iterable<string>): Promise<void> {
    const todo = [...new Set(names)].filter((n) => this.lazy.has(n));
    const defs = await Promise.all(todo.map((n) => this.lazy.get(n)!()));
    todo.forEach((n, i) => {
      const def = defs[i]!;
      if (def?.name !== n) throw new Error(`bundled module "${n}" loaded as "${def?.name}"`);
      if (this.lazy.has(n)) this.add(def, 'built-in');
    });
  }

  /** Loads every lazy built-in (`tsplay doc`, schemas). */
  async loadAll(): Promise<void> {
    await this.load(this.lazy.keys());
  }

  origin(name: string): string | undefined {
    return this.modules.get(name)?.origin ?? (this.lazy.has(name) ? 'built-in' : undefined);
  }

  names(): string[] {
    return [...this.modules.keys(), ...this.lazy.keys()].sort();
  }

  /** Every module; lazy built-ins must be loaded first (loadAll). */
  all(): AnyModule[] {
    if (this.lazy.size) throw new Error(`ModuleRegistry.all(): ${this.lazy.size} built-in module(s) not loaded yet (await registry.loadAll() first)`);
    return this.names().map((n) => this.modules.get(n)!.def);
  }

  suggest(name: string): string | undefined {
    const names = this.names();
    const ansible = ANSIBLE_EQUIVALENTS[name.replace(/^[a-z0-9_]+\.[a-z0-9_]+\./, '')];
    if (ansible && names.includes(ansible)) return ansible;
    if (isMissingAnsibleModule(name)) return undefined;
    return didYouMean(name, names);
  }

  /** Loads every module file in `dir` (a project's or role's `modules/` folder). */
  async loadDir(dir: string): Promise<void> {
    if (!existsSync(dir)) return;
    const files = readdirSync(dir)
      .filter((f) => MODULE_FILE.test(f) && !f.endsWith('.d.ts') && !f.includes('.test.'))
      .sort();
    for (const f of files) await this.loadFile(join(dir, f));
  }

  async loadFile(file: string): Promise<void> {
    const abs = resolve(file);
    let mod: Record<string, unknown>;
    try {
      if (/\.(ts|mts)$/.test(abs)) {
        const { tsImport } = await import('tsx/esm/api');
        mod = (await tsImport(pathToFileURL(abs).href, import.meta.url)) as Record<string, unknown>;
      } else {
        mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
      }
    } catch (e) {
      const msg = (e as Error).message?.split('\n')[0] ?? String(e);
      throw new UserError({ severity: 'error', message: `cannot load module ${basename(abs, extname(abs))}: ${msg}`, pos: { file: abs, line: 1, col: 1 } });
    }
    // A .ts file outside an ESM package is compiled as CommonJS: its default export then
    // arrives as `default.default`.
    let def = (mod.default ?? mod.module) as Record<string, unknown> | undefined;
    if (def && typeof def === 'object' && !('plan' in def) && def.default) def = def.default as Record<string, unknown>;
    this.add(def as unknown as AnyModule, abs);
  }
}
