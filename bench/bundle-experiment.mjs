// Experiment (issue 12), not part of the build: the CLI as one ESM bundle with lazy chunks,
// made by esbuild from the tsc output. esbuild is not a dependency of tsplay; install it aside:
//   npm install --prefix /tmp/esb esbuild@0.28
//   NODE_PATH=/tmp/esb/node_modules node bench/bundle-experiment.mjs dist /tmp/tsplay-bundle
//   echo '{"type":"module"}' > /tmp/tsplay-bundle/package.json
//   node bench/first-connect.mjs dist/cli/main.js /tmp/tsplay-bundle/main.js
// modules/catalog.js loads module files by a variable path; the plugin gives esbuild one static
// import() per module instead. ssh2's native extras stay external (it falls back without them).
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const require = createRequire(join(process.env.NODE_PATH ?? '/tmp/esb/node_modules', 'x.js'));
const { build } = require('esbuild');
const dist = process.argv[2];
const out = process.argv[3];
const catalogPlugin = {
  name: 'catalog',
  setup(b) {
    // The catalog loads module files by a variable path: give esbuild one static import() each.
    b.onLoad({ filter: /modules\/catalog\.js$/ }, (args) => {
      let src = readFileSync(args.path, 'utf8');
      const files = [...src.matchAll(/\['[^']+', '(\.\/[^']+)'\]/g)].map((m) => m[1]);
      src = src.replace(/export async function loadBundledModule\(file\) \{[\s\S]*?\n\}/, `const LOADERS = {${files.map((f) => `${JSON.stringify(f)}: () => import(${JSON.stringify(f)})`).join(',\n')}};\nexport async function loadBundledModule(file) { return (await LOADERS[file]()).default; }`);
      return { contents: src, loader: 'js' };
    });
  },
};
await build({
  entryPoints: { main: `${dist}/cli/main.js` },
  bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', outdir: out,
  external: ['cpu-features', '*.node', 'tsx', 'tsx/*'],
  plugins: [catalogPlugin],
  banner: { js: "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __fu(new URL('.', import.meta.url));" },
  minify: false, logLevel: 'warning', metafile: true,
}).then((r) => console.log(`${Object.keys(r.metafile.outputs).length} files in ${out}`));
