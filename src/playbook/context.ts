/** Shared state of one load: diagnostics, registry, search paths, caches. */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Diagnostics, SourcePos } from '../core/errors.js';
import type { ModuleRegistry } from '../modules/registry.js';
import { loadYamlFile, type YamlFile, type YamlPath } from '../yaml/source.js';
import type { Src, VarsLayer } from './model.js';

export class LoadContext {
  private readonly yamlCache = new Map<string, YamlFile>();

  constructor(
    readonly diags: Diagnostics,
    readonly registry: ModuleRegistry,
    readonly playbookDir: string,
    readonly rolesPath: string[],
  ) {}

  /** Loads a YAML file once per load (errors are collected, data is undefined on syntax errors). */
  yaml(file: string): YamlFile {
    const abs = resolve(file);
    let yf = this.yamlCache.get(abs);
    if (!yf) {
      yf = loadYamlFile(abs, this.diags);
      this.yamlCache.set(abs, yf);
    }
    return yf;
  }

  error(src: Src, message: string, key?: string, hint?: string): void {
    this.diags.error(message, this.pos(src, key), hint);
  }

  /** An error about the value of `key` (points at the value, not the key). */
  valueError(src: Src, key: string, message: string, hint?: string): void {
    this.diags.error(message, src.file.pos([...src.path, key]), hint);
  }

  warning(src: Src, message: string, key?: string, hint?: string): void {
    this.diags.warning(message, this.pos(src, key), hint);
  }

  pos(src: Src, key?: string): SourcePos {
    return key === undefined ? src.file.pos(src.path) : src.file.keyPos([...src.path, key]);
  }

  /** A vars mapping at `path` of a file, as a layer; reports a non-mapping. A play's or task's
   * `vars:` may also be a list of mappings (`list`), as Ansible takes it. */
  varsLayer(label: string, file: YamlFile, path: YamlPath, value: unknown, o: { list?: boolean } = {}): VarsLayer {
    if (value === undefined || value === null) return { label, vars: {}, file: file.file };
    // Ansible also takes a list of mappings (`vars: [{a: 1}, {b: 2}]`), merged in order.
    if (o.list && Array.isArray(value) && value.length && value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const vars: Record<string, unknown> = {};
      const at: Record<string, number> = {};
      value.forEach((item: Record<string, unknown>, i) => {
        for (const [k, v] of Object.entries(this.varsLayer(label, file, [...path, i], item).vars)) [vars[k], at[k]] = [v, i];
      });
      return { label, vars, file: file.file, pos: (k) => file.keyPos([...path, at[k] ?? 0, k]) };
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.diags.error(`${label} must be a mapping of variable names to values${o.list ? ' (or a list of such mappings)' : ''}`, file.pos(path));
      return { label, vars: {}, file: file.file };
    }
    const vars = value as Record<string, unknown>;
    for (const k of Object.keys(vars)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        this.diags.error(`invalid variable name "${k}": use letters, digits and _ (not starting with a digit)`, file.keyPos([...path, k]));
      }
    }
    return { label, vars, file: file.file, pos: (k) => file.keyPos([...path, k]) };
  }

  /** Loads a vars file (vars_files, role defaults/vars) as a layer. */
  varsFile(label: string, file: string): VarsLayer {
    const yf = this.yaml(file);
    return this.varsLayer(label, yf, [], yf.data);
  }

  /** Finds `<dir>/<name>.yml|.yaml|<name>` */
  static yamlIn(dir: string, name = 'main'): string | undefined {
    for (const c of [`${name}.yml`, `${name}.yaml`, name]) {
      const p = join(dir, c);
      if (existsSync(p) && statSync(p).isFile()) return p;
    }
    return undefined;
  }
}

export const dirOf = (file: string): string => dirname(resolve(file));
