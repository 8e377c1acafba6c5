/**
 * The layout rules, kept true by a test:
 * - Layers: every relative import under src/ points down. Bottom to top: core -> facts, yaml ->
 *   vars, connection -> modules -> inventory -> playbook -> engine, audit, migrate -> render -> docs, lab ->
 *   index.ts (the public surface) -> cli, which runs through the public surface like any user. Folders on one level do not import each other.
 *   core imports nothing of the project (only zod and node built-ins).
 * - Module families: every file directly in a folder of src/modules/<family>/ is one module,
 *   named as the file, and registered in BUNDLED_MODULES; helpers live in a lib/ folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { BUNDLED_MODULES } from '../src/modules/index.js';

const SRC = resolve(import.meta.dirname, '../src');

/** Level of each top-level folder (or file) of src/. */
const LAYERS: Record<string, number> = {
  core: 0,
  facts: 1,
  yaml: 1,
  vars: 2,
  connection: 2,
  modules: 3,
  inventory: 4,
  playbook: 5,
  engine: 6,
  audit: 6,
  migrate: 6,
  render: 7,
  docs: 8,
  lab: 8,
  'index.ts': 9,
  cli: 10,
};

const CORE_PACKAGES = ['zod'];

/** Every import specifier of a TypeScript file: static `import`/`export ... from`, side-effect `import '...'`, and `import('...')`. */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** The top-level entry of src/ a path is in ('core', 'modules', 'index.ts', ...). */
const topOf = (abs: string) => relative(SRC, abs).split('/')[0]!.replace(/\.js$/, '.ts');

/** Imports that break the rules, as "from -> spec: why". */
function violations(files: Array<{ file: string; text: string }>): string[] {
  const bad: string[] = [];
  for (const { file, text } of files) {
    const from = topOf(file);
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) {
        if (from === 'core' && !spec.startsWith('node:') && !CORE_PACKAGES.includes(spec)) bad.push(`${relative(SRC, file)} -> ${spec}: core imports only ${CORE_PACKAGES.join(', ')} and node built-ins`);
        continue;
      }
      const to = topOf(resolve(dirname(file), spec));
      if (to === from) continue;
      const [a, b] = [LAYERS[from], LAYERS[to]];
      if (a === undefined || b === undefined) bad.push(`${relative(SRC, file)} -> ${spec}: ${a === undefined ? from : to} has no layer (add it to LAYERS)`);
      else if (b >= a) bad.push(`${relative(SRC, file)} -> ${spec}: ${from} (level ${a}) may not import ${to} (level ${b})`);
    }
  }
  return bad;
}

describe('layout', () => {
  describe('layers', () => {
    it('reads every kind of import', () => {
      const text = [
        "import { a } from './a.js';",
        "import type { B } from '../b.js';",
        "export { c } from './c.js';",
        "export * from './d.js';",
        "import './e.js';",
        "const f = await import('./f.js');",
        "// import { g } from './g.js';",
        "/** import { h } from './h.js'; */",
        'import {\n  i,\n  type I,\n} from "./i.js";',
      ].join('\n');
      expect(importsOf(text)).to.deep.equal(['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js', './i.js']);
    });

    it('finds an upward import, an import between folders on one level and core importing the project', () => {
      const at = (f: string) => join(SRC, f);
      expect(
        violations([
          { file: at('facts/x.ts'), text: "import { defineModule } from '../modules/define.js';" },
          { file: at('vars/x.ts'), text: "import { ssh } from '../connection/ssh.js';" },
          { file: at('core/x.ts'), text: "import chalk from 'chalk';\nimport { z } from 'zod';\nimport { readFileSync } from 'node:fs';" },
          { file: at('engine/x.ts'), text: "import { quote } from '../core/quote.js';\nimport { y } from './y.js';" },
        ]),
      ).to.deep.equal([
        'facts/x.ts -> ../modules/define.js: facts (level 1) may not import modules (level 3)',
        'vars/x.ts -> ../connection/ssh.js: vars (level 2) may not import connection (level 2)',
        'core/x.ts -> chalk: core imports only zod and node built-ins',
      ]);
    });

    it('every import under src/ points down', () => {
      const files = tsFiles(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
      expect(files.length).to.be.above(100);
      expect(violations(files)).to.deep.equal([]);
    });
  });

  describe('module families', () => {
    const MODULES = join(SRC, 'modules');
    const families = readdirSync(MODULES, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name !== 'lib')
      .map((d) => d.name);

    it('every file directly in a family folder is a registered module named as the file', async () => {
      expect(families.length).to.be.above(5);
      const problems: string[] = [];
      const seen: string[] = [];
      for (const family of families) {
        for (const f of readdirSync(join(MODULES, family)).filter((n) => n.endsWith('.ts'))) {
          const name = basename(f, '.ts');
          const mod = (await import(pathToFileURL(join(MODULES, family, f)).href)) as { default?: { name?: unknown } };
          if (mod.default?.name !== name) problems.push(`modules/${family}/${f}: default export is not the module "${name}" (helpers go in ${family}/lib/)`);
          else if (!BUNDLED_MODULES.some((m) => m.name === name)) problems.push(`modules/${family}/${f}: not in BUNDLED_MODULES (src/modules/index.ts)`);
          seen.push(name);
        }
      }
      expect(problems).to.deep.equal([]);
      expect(BUNDLED_MODULES.map((m) => m.name).filter((n) => !seen.includes(n)), 'registered modules outside a family folder').to.deep.equal([]);
    });
  });
});
