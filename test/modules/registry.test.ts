/** The module registry's lazy built-ins: known by name at once, loaded when a playbook uses them. */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyModule } from '../../src/core/module.js';
import { BUNDLED_MODULE_FILES, bundledRegistry, loadBundledModule } from '../../src/modules/catalog.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { ANSIBLE_EQUIVALENTS, ANSIBLE_MODULES_MISSING, ModuleRegistry } from '../../src/modules/registry.js';
import { loadPlaybook } from '../../src/playbook/load.js';

/** A registry of the bundled modules, lazy, counting which ones were loaded. */
function countingRegistry(): { registry: ModuleRegistry; loaded: string[] } {
  const registry = new ModuleRegistry();
  const loaded: string[] = [];
  for (const [name, file] of BUNDLED_MODULE_FILES) {
    registry.addLazy(name, () => {
      loaded.push(name);
      return loadBundledModule(file);
    });
  }
  return { registry, loaded };
}

describe('module registry: lazy built-ins', () => {
  it('catalog.ts lists the modules of BUNDLED_MODULES, in the same order, each file loading that module', async () => {
    expect(BUNDLED_MODULE_FILES.map(([n]) => n)).to.deep.equal(BUNDLED_MODULES.map((m) => m.name));
    for (const [i, [, file]] of BUNDLED_MODULE_FILES.entries()) expect(await loadBundledModule(file)).to.equal(BUNDLED_MODULES[i]);
  });

  it('the list of Ansible modules tsplay lacks names none it has (bundled, or an equivalent it points to)', () => {
    const have = new Set(BUNDLED_MODULE_FILES.map(([n]) => n));
    expect([...ANSIBLE_MODULES_MISSING].filter((n) => have.has(n) || n in ANSIBLE_EQUIVALENTS)).to.deep.equal([]);
  });

  it('knows every name before loading any: has, names, origin, did-you-mean', () => {
    const { registry, loaded } = countingRegistry();
    expect(registry.names()).to.deep.equal(BUNDLED_MODULES.map((m) => m.name).sort());
    expect(registry.has('copy')).to.equal(true);
    expect(registry.has('ansible.builtin.copy')).to.equal(true);
    expect(registry.has('coppy')).to.equal(false);
    expect(registry.origin('copy')).to.equal('built-in');
    expect(registry.suggest('install-ufww')).to.equal('install-ufw');
    expect(loaded).to.deep.equal([]);
  });

  it('get of a module not loaded is undefined and remembered; load makes it available, once', async () => {
    const { registry, loaded } = countingRegistry();
    expect(registry.get('tsplay.copy')).to.equal(undefined);
    expect(registry.get('nope')).to.equal(undefined);
    expect(registry.wanted()).to.deep.equal(['copy']);
    await registry.load(registry.wanted());
    await registry.load(['copy', 'nope']);
    expect(registry.get('ansible.builtin.copy')?.name).to.equal('copy');
    expect(registry.wanted()).to.deep.equal([]);
    expect(loaded).to.deep.equal(['copy']);
  });

  it('all() needs every module loaded (loadAll)', async () => {
    const registry = bundledRegistry();
    expect(() => registry.all()).to.throw(/loadAll/);
    await registry.loadAll();
    expect(registry.all().map((m) => m.name)).to.deep.equal(BUNDLED_MODULES.map((m) => m.name).sort());
  });

  it('a project module replaces a lazy built-in of its name, which is then never loaded', async () => {
    const { registry, loaded } = countingRegistry();
    const mine = { ...BUNDLED_MODULES.find((m) => m.name === 'debug')!, summary: 'mine' } as AnyModule;
    registry.add(mine, '/project/modules/debug.ts');
    await registry.loadAll();
    expect(registry.get('debug')).to.equal(mine);
    expect(loaded).to.not.include('debug');
  });

  it('loadPlaybook loads the modules its tasks use, in roles and blocks too, and setup; errors are as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-lazy-'));
    try {
      const pb = join(dir, 'site.yml');
      writeFileSync(pb, '- hosts: all\n  tasks:\n    - block:\n        - file: { path: /tmp/x, state: directory }\n      rescue:\n        - debug: { msg: hi }\n');
      const { registry, loaded } = countingRegistry();
      const r = await loadPlaybook(pb, { registry });
      expect(loaded.sort()).to.deep.equal(['debug', 'file', 'setup']);
      expect(r.playbook.plays[0]!.tasks).to.have.length(1);

      writeFileSync(pb, '- hosts: all\n  tasks:\n    - file: { path: /tmp/x, mode: 0755 }\n    - copyy: {}\n');
      const err = await loadPlaybook(pb, { registry: countingRegistry().registry }).catch((e: { diagnostics: Array<{ message: string }> }) => e.diagnostics.map((d) => d.message));
      expect(err).to.deep.equal([
        'file: mode: mode must be a quoted string: write mode: "0755" — an unquoted number is read as decimal/octal by YAML and would set the wrong permissions',
        'unknown module "copyy"; did you mean "copy"?',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
