/**
 * The commands that run things (run, lab, test, audit), declared here with their options only:
 * what each does is loaded when it runs, so that `tsplay --help` and the other commands do not
 * load the engine, the lab or the audit.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import chalk from 'chalk';
import { Option, type Command } from 'commander';
import { askVaultPassOption, csv, extraVarsOption, inventoryOption, vaultIdOption, vaultPasswordFileOption } from './options.js';
import type { AuditCliOptions } from './audit.js';
import type { MigrateCliOptions } from './migrate.js';
import type { RunCliOptions } from './run.js';

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run a playbook (validates first; nothing is contacted when validation fails)')
    .argument('<playbook>')
    .addOption(inventoryOption())
    .addOption(extraVarsOption())
    .option('-C, --check', 'dry run: probe and plan, change nothing, report what would change')
    .option('-D, --diff', 'show a unified diff of every file that changes or would change')
    .option('-l, --limit <pattern>', 'further limit the hosts with a pattern')
    .addOption(new Option('-t, --tags <tags>', 'only run tasks with these tags').argParser(csv).default([]))
    .addOption(new Option('--skip-tags <tags>', 'skip tasks with these tags').argParser(csv).default([]))
    .option('--start-at-task <name>', 'start at the first task with this name (wildcards allowed)')
    .option('-f, --forks <n>', 'hosts worked on at once', '20')
    .option('--json', 'one JSON event per line on stdout')
    .option('-v, --verbose', 'line-per-result output with reasons')
    .option('--fail-on-change', 'with --check: exit 3 when any change is pending (drift detection)')
    .option('--roles-path <dirs>', 'extra role folders, separated by :')
    .option('-K, --ask-become-pass', 'ask for the sudo password (kept secret, used for every host)')
    .addOption(vaultPasswordFileOption())
    .addOption(askVaultPassOption())
    .addOption(vaultIdOption())
    .action(async (playbook: string, o: RunCliOptions) => {
      const { runCommand } = await import('./run.js');
      process.exitCode = await runCommand(playbook, o);
    });
}

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('disposable Debian hosts (containers with systemd and sshd) on the local Docker engine');
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
    .option('--name <name>', 'lab name', 'default')
    .action(async (o: { name: string }) => {
      const { labDown } = await import('../lab/lab.js');
      const r = await labDown(o.name);
      process.stdout.write(r.removed.length ? `removed ${r.removed.join(', ')}\n` : `no lab named ${o.name}\n`);
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
    .description('open a shell on a lab host (strict host key checking)')
    .argument('<host>')
    .option('--name <name>', 'lab name', 'default')
    .action(async (host: string, o: { name: string }) => {
      const { labSshArgs } = await import('../lab/lab.js');
      const [cmd, ...args] = await labSshArgs(o.name, host);
      const r = spawnSync(cmd!, args, { stdio: 'inherit' });
      process.exitCode = r.status ?? 1;
    });
  lab
    .command('run')
    .description('bring the lab up, then run a playbook against it (the README demo)')
    .argument('<playbook>')
    .option('--spec <file>', 'lab spec (YAML)', 'lab.yml')
    .option('--check', 'dry run')
    .option('--diff', 'show diffs')
    .action(async (playbook: string, o: { spec: string; check?: boolean; diff?: boolean }) => {
      const { bringUp, labSpecFrom } = await import('./lab.js');
      const up = await bringUp(labSpecFrom({ spec: existsSync(o.spec) ? o.spec : undefined }));
      const { runCommand } = await import('./run.js');
      process.exitCode = await runCommand(playbook, { inventory: [up.inventoryPath], extraVars: [], tags: [], skipTags: [], forks: '20', check: o.check, diff: o.diff });
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
