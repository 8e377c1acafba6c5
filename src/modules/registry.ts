/**
 * The module registry: built-in modules plus TypeScript/JavaScript modules found in a `modules/`
 * folder of the project or of a role, loaded without a build step (through tsx).
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, didYouMean } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';

const MODULE_FILE = /\.(ts|mts|js|mjs)$/;

export class ModuleRegistry {
  private readonly modules = new Map<string, { def: AnyModule; origin: string }>();

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
  }

  /** Looks a module up by name; `ansible.builtin.copy` and `tsplay.copy` resolve to `copy`. */
  get(name: string): AnyModule | undefined {
    return this.modules.get(name)?.def ?? this.modules.get(name.replace(/^(ansible\.(builtin|posix)|tsplay)\./, ''))?.def;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  origin(name: string): string | undefined {
    return this.modules.get(name)?.origin;
  }

  names(): string[] {
    return [...this.modules.keys()].sort();
  }

  all(): AnyModule[] {
    return this.names().map((n) => this.modules.get(n)!.def);
  }

  suggest(name: string): string | undefined {
    return didYouMean(name, this.names());
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
