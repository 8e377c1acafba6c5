/**
 * Loads a bundled module's file (a path of catalog.ts's BUNDLED_MODULE_FILES, relative to this
 * folder) by a variable path. The CLI bundle (scripts/bundle-cli.mjs) replaces this file with one
 * static import() per module, so that esbuild puts each module in a chunk of its own, loaded when
 * a playbook uses it; keep this file to this one function.
 *
 * Where this file was compiled to CommonJS (tsx in the tests), an `import()` would load a second
 * copy of the project's files next to the required ones (another zod, another octalMode), so it
 * is required like its importer; in the ESM build it is imported.
 */
import type { AnyModule } from '../core/module.js';

export async function loadBundledModule(file: string): Promise<AnyModule> {
  const mod = (typeof require === 'function' ? require(file) : await import(file)) as { default: AnyModule };
  return mod.default;
}
