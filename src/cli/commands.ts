/**
 * The commands that run things (run, lab, test, audit), declared here with their options only:
 * what each does is loaded when it runs, so that `tsplay --help` and the other commands do not
 * load the engine, the lab or the audit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import chalk from 'chalk';
import { Option, type Command } from 'commander';
import { extraVarsOption, inventoryOption, runOptions } from './options.js';
import type { AuditCliOptions } from './audit.js';
import type { MigrateCliOptions } from './migrate.js';
import type { RunCliOptions } from './run.js';

export function registerRunCommands(program: Command): void {
  const run = program
    .command('run')
    .description('run a playbook (validates first; nothing is contacted when validation fails)')
    .argument('<playbook>');
  for (const opt of runOptions()) run.addOption(opt);
  run.action(async (playbook: string, o: RunCliOptions) => {
    const { runCommand } = await import('./run.js');
    process.exitCode = await runCommand(playbook, o);
  });
}

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('disposable Debian hosts (containers with systemd and sshd) on the local Docker engine').enablePositionalOptions();
  lab
    .command('up')
    .description('start (or reconcile) a lab and write its inventory')
    .option('--hosts <n>', 'number of hosts lab1..labN (default 2)')
    .option('--spec <file>', 'lab spec (YAML): hosts, groups, docker: true')
    .option('--name <name>', 'lab name (default: the spec\'s, or "default")')
    .action(async (o: { hosts?: string; spec?: string; name?: string }) => {
      const { bringUp, labSpecFrom } = await import('./lab.js');
      await bringUp(labSpecFrom(o));
    });
  lab
    .command('down')
    .description('remove a lab: containers, network, keys, inventory')
    .option('--name <name>', 'lab name (not needed when one lab is up)')
    .action(async (o: { name?: string }) => {
      const { labDown, resolveLabName } = await import('../lab/lab.js');
      const name = await resolveLabName(o.name);
      const r = await labDown(name);
      process.stdout.write(r.removed.length ? `removed ${r.removed.join(', ')}\n` : `no lab named ${name}\n`);
    });
  lab
    .command('status')
    .description('labs, hosts, states and addresses')
    .action(async () => {
      const { labStatus } = await import('../lab/lab.js');
      const labs = await labStatus();
      if (!labs.length) process.stdout.write('no labs\n');
      for (const l of labs) {
        process.stdout.write(chalk.bold(`${l.name}\n`));
        for (const h of l.hosts) process.stdout.write(`  ${h.name.padEnd(12)} ${h.state.padEnd(8)} ${(h.ip ?? '').padEnd(15)} ${h.flavor}\n`);
      }
    });
  lab
    .command('ssh')
    .description('a shell on a lab host, or run COMMAND there (exit code passed through; a terminal only when interactive)')
    .argument('<host>')
    .argument('[command...]', 'command and its arguments (options after HOST belong to it)')
    .option('--name <name>', 'lab name (not needed when one lab is up)')
    .passThroughOptions()
    .action(async (host: string, command: string[], o: { name?: string }) => {
      const { labSshArgs, resolveLabName } = await import('../lab/lab.js');
      const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY;
      const [cmd, ...args] = await labSshArgs(await resolveLabName(o.name), host, { command, tty: interactive });
      const r = spawnSync(cmd!, args, { stdio: 'inherit' });
      process.exitCode = r.status ?? 1;
    });
  lab
    .command('prune')
    .description('remove tsplay-lab images the current recipes no longer build (never one a container uses)')
    .option('--dry-run', 'only say what would be removed')
    .action(async (o: { dryRun?: boolean }) => {
      const { labPrune } = await import('../lab/prune.js');
      const r = await labPrune({ dryRun: o.dryRun });
      for (const t of r.removed) process.stdout.write(`${o.dryRun ? 'would remove' : 'removed'} ${t}\n`);
      for (const k of r.kept) process.stdout.write(chalk.dim(`kept ${k.tag} (${k.why})\n`));
      if (!r.removed.length) process.stdout.write('nothing to remove\n');
    });
  const labRun = lab
    .command('run')
    .description('bring the lab up, then run a playbook against it (the README demo); takes every option of `tsplay run`')
    .argument('<playbook>')
    .option('--spec <file>', 'lab spec (YAML)', 'lab.yml');
  for (const opt of runOptions()) labRun.addOption(opt);
  labRun.action(async (playbook: string, o: RunCliOptions & { spec: string }) => {
    const { bringUp, labSpecFrom } = await import('./lab.js');
    const up = await bringUp(labSpecFrom({ spec: existsSync(o.spec) ? o.spec : undefined }));
    const { runCommand } = await import('./run.js');
    // The lab's inventory first; an -i given as well adds to it.
    process.exitCode = await runCommand(playbook, { ...o, inventory: [up.inventoryPath, ...o.inventory] });
  });

  program
    .command('test')
    .description('test a role or playbook on a fresh lab: converge, converge again (changed=0), check mode (no change), verify')
    .argument('<role-or-playbook>')
    .option('--keep', 'keep the lab when a step fails')
    .option('--spec <file>', 'lab spec (default: the role\'s tests/lab.yml, else one host)')
    .option('--name <name>', 'lab name')
    .action(async (target: string, o: { keep?: boolean; spec?: string; name?: string }) => {
      const { testCommand } = await import('./lab.js');
      process.exitCode = await testCommand(target, o);
    });
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'exposure audit, read-only: every listening socket and Docker-published port of each host, its class, whether the firewall admits it from outside ' +
        '(Docker-published ports bypass ufw) and what the playbooks declared (exit 3 on an undeclared exposure, 4 when a host could not be read)',
    )
    .argument('[playbooks...]', 'playbooks whose compose-deploy exposure policies and install-ufw rules are what is declared')
    .addOption(inventoryOption())
    .addOption(extraVarsOption())
    .option('-l, --limit <pattern>', 'only these hosts')
    .option('--probe', "also connect from here to each host's non-loopback TCP ports (on the inventory address) and report what answers")
    .option('--probe-timeout <ms>', 'timeout of one probe connect', '1500')
    .option('--json', 'the report as one JSON document (for CI)')
    .option('-f, --forks <n>', 'hosts read at once', '20')
    .option('--roles-path <dirs>', 'extra role folders, separated by :')
    .action(async (playbooks: string[], o: AuditCliOptions) => {
      const { auditCommand } = await import('./audit.js');
      process.exitCode = await auditCommand(playbooks, o);
    });
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('rewrite an Ansible playbook, role or project into tsplay syntax, in place or into -o DIR (exit 2 when something needs attention)')
    .argument('<path>', 'a playbook or task file, a role or a project folder')
    .option('-o, --out <dir>', 'write a converted copy into this folder instead of rewriting in place')
    .option('--dry-run', 'report what would change, write nothing')
    .option('--json', 'the report as one JSON document')
    .action(async (path: string, o: MigrateCliOptions) => {
      const { migrateCommand } = await import('./migrate.js');
      process.exitCode = migrateCommand(path, o);
    });
}
