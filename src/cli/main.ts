#!/usr/bin/env node
/**
 * The tsplay command line: a thin layer over the library API.
 *
 * Start-up: only commander, chalk and the CLI's own small files load before the command is known;
 * each command loads the files of the library it uses when it runs (dynamic import), not
 * src/index.ts, which would load all of it (a test keeps `--help` and `validate` lean).
 */
import { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import chalk from 'chalk';
import { UserError } from '../core/errors.js';
import { handleError, printDiagnostics } from './output.js';
import { join, resolve } from 'node:path';
import { registerAuditCommand, registerLabCommands, registerMigrateCommand, registerRunCommands } from './commands.js';
import { askVaultPassOption, extraVarsOption, inventoryOption, vaultIdOption, vaultPasswordFileOption } from './options.js';
import type { VaultCliOptions } from './vault.js';


const program = new Command();
program
  .name('tsplay')
  .description('Ansible-style playbooks, TypeScript modules, over SSH.')
  .version('0.1.0')
  .showHelpAfterError()
  // Options after a command belong to it (`lab ssh HOST ls -la`: -la is the remote command's).
  .enablePositionalOptions()
  .configureOutput({ outputError: (s, write) => write(chalk.red(s)) });
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 1);
});

program
  .command('validate')
  .description('load and check a playbook without contacting any host (exit 0 clean, 1 errors)')
  .argument('<playbook>')
  .addOption(inventoryOption())
  .addOption(extraVarsOption())
  .option('--roles-path <dirs>', 'extra role folders, separated by :')
  .addOption(vaultPasswordFileOption())
  .addOption(askVaultPassOption())
  .addOption(vaultIdOption())
  .action(async (playbook: string, o: { inventory: string[]; extraVars: string[]; rolesPath?: string } & VaultCliOptions) => {
    await (await import('./vault.js')).applyVaultOptions(o);
    const [{ parseExtraVars }, { loadRun }] = await Promise.all([import('../vars/extra-vars.js'), import('../engine/run-file.js')]);
    const extraVars = parseExtraVars(o.extraVars);
    // The project config's inventory and roles, as `run` uses them (flags win).
    const config = (await import('./config.js')).loadProjectConfig();
    const inventory = o.inventory.length ? o.inventory : (config?.inventory ?? []);
    const { playbook: pb, warnings } = await loadRun(playbook, { inventory, extraVars, rolesPath: o.rolesPath?.split(':') ?? config?.rolesPath });
    printDiagnostics(warnings);
    const tasks = pb.plays.reduce((n, p) => n + p.preTasks.length + p.tasks.length + p.postTasks.length, 0);
    process.stdout.write(`${chalk.green('ok')}: ${playbook}: ${pb.plays.length} play(s), ${tasks} top-level task(s)${warnings.length ? `, ${warnings.length} warning(s)` : ''}\n`);
  });

program
  .command('inventory')
  .description('show the inventory: --list (JSON), --graph (tree), --host NAME (variables and where they come from)')
  .addOption(inventoryOption())
  .option('--list', 'all hosts and groups with their variables, as JSON')
  .option('--graph', 'the group tree')
  .option('--host <name>', 'one host: each variable, its value and the file it came from')
  .option('--playbook-dir <dir>', 'also read group_vars/ and host_vars/ beside this folder')
  .addOption(vaultPasswordFileOption())
  .addOption(askVaultPassOption())
  .addOption(vaultIdOption())
  .action(async (o: { inventory: string[]; list?: boolean; graph?: boolean; host?: string; playbookDir?: string } & VaultCliOptions) => {
    await (await import('./vault.js')).applyVaultOptions(o);
    const [{ loadInventory }, { explainHost, graphInventory, listInventory }] = await Promise.all([import('../inventory/model.js'), import('../inventory/show.js')]);
    const inv = loadInventory(o.inventory, { playbookDir: o.playbookDir });
    printDiagnostics(inv.diagnostics.filter((d) => d.severity === 'warning'));
    if (o.host) process.stdout.write(explainHost(inv, o.host) + '\n');
    else if (o.graph) process.stdout.write(graphInventory(inv) + '\n');
    else process.stdout.write(JSON.stringify(listInventory(inv), null, 2) + '\n');
  });

program
  .command('schema')
  .description('write JSON Schemas (playbook, tasks, inventory, role defaults) for editors')
  .option('-o, --out <dir>', 'folder to write the schemas to (default: print the playbook schema)')
  .option('--project <dir>', 'also include modules from this project\'s modules/ and roles', '.')
  .action(async (o: { out?: string; project: string }) => {
    const [{ loadProjectModules }, { editorSchemas, playbookSchema }] = await Promise.all([import('../playbook/load.js'), import('../docs/schema.js')]);
    const registry = await loadProjectModules(resolve(o.project));
    const mods = registry.all();
    if (!o.out) {
      process.stdout.write(JSON.stringify(playbookSchema(mods), null, 2) + '\n');
      return;
    }
    mkdirSync(o.out, { recursive: true });
    const files = editorSchemas(mods);
    for (const [name, s] of Object.entries(files)) writeFileSync(join(o.out, name), JSON.stringify(s, null, 2) + '\n');
    process.stdout.write(`wrote ${Object.keys(files).map((f) => join(o.out!, f)).join(', ')}\n`);
  });

program
  .command('init')
  .description('start a new project: config, inventory, site playbook, one role, editor schemas')
  .argument('[dir]', 'folder of the new project', '.')
  .action(async (dir: string) => {
    const { initProject } = await import('./init.js');
    const r = initProject(dir);
    process.stdout.write(`created in ${dir}: ${r.written.join(', ')}, and editor schemas in .tsplay/schema\n`);
    process.stdout.write(`next: put your hosts in ${join(dir, 'inventory/hosts.yml')}, then ${dir === '.' ? '' : `cd ${dir} && `}tsplay validate playbooks/site.yml && tsplay run playbooks/site.yml --check --diff\n`);
  });

program
  .command('doc')
  .description('module documentation (no name: list modules)')
  .argument('[module]')
  .option('--markdown', 'print the README module table')
  .option('--readme <file>', "rewrite the module table in this README (between its <!-- module-table --> markers)")
  .option('--pages <dir>', 'write a Markdown page per module into this folder (and remove generated pages of modules that are gone)')
  .option('--project <dir>', "include modules from this project's modules/ and roles", '.')
  .action(async (name: string | undefined, o: { markdown?: boolean; readme?: string; pages?: string; project: string }) => {
    const [{ loadProjectModules }, { moduleDoc, moduleTable, withModuleTable }, { writeModulePages }] = await Promise.all([
      import('../playbook/load.js'),
      import('../docs/module-doc.js'),
      import('../docs/module-pages.js'),
    ]);
    const registry = await loadProjectModules(resolve(o.project));
    if (o.pages) {
      const { written, removed } = writeModulePages(o.pages, registry.all());
      process.stdout.write(`wrote ${written} module pages in ${o.pages}${removed.length ? `, removed ${removed.join(', ')}` : ''}\n`);
    }
    if (o.readme) {
      writeFileSync(o.readme, withModuleTable(readFileSync(o.readme, 'utf8'), registry.all()));
      return void process.stdout.write(`updated the module table in ${o.readme}\n`);
    }
    if (o.pages) return;
    if (o.markdown) return void process.stdout.write(moduleTable(registry.all()));
    if (!name) {
      const width = Math.max(...registry.names().map((n) => n.length));
      for (const m of registry.all()) process.stdout.write(`${m.name.padEnd(width)}  ${m.summary}\n`);
      return;
    }
    const m = registry.get(name);
    if (!m) {
      const dym = registry.suggest(name);
      throw new UserError(`unknown module "${name}"${dym ? `; did you mean "${dym}"?` : ''}`);
    }
    process.stdout.write(moduleDoc(m));
  });

registerRunCommands(program);
registerLabCommands(program);
registerAuditCommand(program);
registerMigrateCommand(program);


// A reader that went away (`tsplay doc | head -1`) is not an error: stop quietly with the code a
// shell gives a command killed by SIGPIPE. `run` also stops its run then (run.ts).
process.stdout.on('error', () => {
  process.exitCode = 141;
});
process.stderr.on('error', () => undefined);

program.parseAsync(process.argv).catch(handleError);
