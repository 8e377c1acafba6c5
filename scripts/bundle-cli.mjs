// The CLI as an ES module bundle (issue 12: start-up): dist/bin/tsplay.js and its lazy chunks,
// made by esbuild from the tsc output in dist/ (run after `tsc -p tsconfig.json`; `npm run build`
// does both). The package's bin is this bundle; dist/ stays the library (exports and types).
//
// Why: Node spends most of tsplay's start-up resolving, reading and compiling ~380 files (zod,
// yaml, the engine); as a few chunks the first SSH connection opens sooner with less CPU
// (bench/RESULTS.md, "Start-up").
//
// - One chunk per bundled module, loaded when a playbook uses it: modules/load-bundled.js loads
//   them by a variable path, which esbuild cannot follow, so it is replaced here by one static
//   import() per entry of BUNDLED_MODULE_FILES.
// - Left out, loaded from node_modules as without the bundle: node-ssh and ssh2 (ssh2 finds its
//   optional native crypto binding and cpu-features beside its own files), tsx (project modules
//   written in TypeScript), and what the sources load with createRequire (nunjucks, ejs, diff).
// - The banner gives the CommonJS packages inside the bundle (commander, yaml) a `require` for
//   Node's built-in modules.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(dist, 'bin');
if (!existsSync(join(dist, 'cli', 'main.js'))) throw new Error('bundle-cli: dist/cli/main.js is missing: run `tsc -p tsconfig.json` first');

const { BUNDLED_MODULE_FILES } = await import(pathToFileURL(join(dist, 'modules', 'catalog.js')).href);
const loaderFile = join(dist, 'modules', 'load-bundled.js');
const staticLoader = [
  'const LOADERS = {',
  ...BUNDLED_MODULE_FILES.map(([, file]) => `  ${JSON.stringify(file)}: () => import(${JSON.stringify(file)}),`),
  '};',
  'export async function loadBundledModule(file) {',
  '  const load = LOADERS[file];',
  '  if (!load) throw new Error(`not a bundled module file: ${file}`);',
  '  return (await load()).default;',
  '}',
  '',
].join('\n');

/** Replaces modules/load-bundled.js with static imports. */
const catalogPlugin = {
  name: 'tsplay-catalog',
  setup(b) {
    b.onLoad({ filter: /[\\/]modules[\\/]load-bundled\.js$/ }, (args) => (args.path === loaderFile ? { contents: staticLoader, loader: 'js', resolveDir: dirname(loaderFile) } : undefined));
  },
};

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { tsplay: join(dist, 'cli', 'main.js') },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['node-ssh', 'ssh2', 'cpu-features', 'tsx', 'tsx/*'],
  plugins: [catalogPlugin],
  banner: { js: "import { createRequire as __tsplayCreateRequire } from 'node:module'; const require = __tsplayCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
process.stdout.write(`bundle-cli: ${relative(root, join(out, 'tsplay.js'))} and ${outputs.length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB\n`);
