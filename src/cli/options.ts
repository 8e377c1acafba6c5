/** Options several commands share. */
import { Option } from 'commander';

export const collect = (v: string, prev: string[]) => [...prev, v];
export const csv = (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export const inventoryOption = () => new Option('-i, --inventory <path>', 'inventory file or folder (repeatable)').argParser(collect).default([] as string[]);
export const extraVarsOption = () => new Option('-e, --extra-vars <vars>', 'k=v pairs, JSON/YAML, or @file (repeatable)').argParser(collect).default([] as string[]);
export const vaultPasswordFileOption = () => new Option('--vault-password-file <file>', 'Ansible vault password file (an executable one is run; its output is the password; repeatable)').argParser(collect).default([] as string[]);
export const askVaultPassOption = () => new Option('--ask-vault-pass', 'ask for the Ansible vault password');
export const vaultIdOption = () => new Option('--vault-id <[label@]file|prompt>', "Ansible vault id: a password file or 'prompt' (the label is accepted; every password is tried; repeatable)").argParser(collect).default([] as string[]);

/** -v, -vv, -vvv: each v adds one level. */
export const increase = (_: string, prev: number) => prev + 1;

/**
 * Every option of `tsplay run`, shared with `tsplay lab run` (which runs the same way against its
 * lab): one list, so that a flag added to `run` works there too.
 */
export const runOptions = (): Option[] => [
  inventoryOption(),
  extraVarsOption(),
  new Option('-C, --check', 'dry run: probe and plan, change nothing, report what would change'),
  new Option('-D, --diff', 'show a unified diff of every file that changes or would change'),
  new Option('-l, --limit <pattern>', 'further limit the hosts with a pattern'),
  new Option('-t, --tags <tags>', 'only run tasks with these tags').argParser(csv).default([]),
  new Option('--skip-tags <tags>', 'skip tasks with these tags').argParser(csv).default([]),
  new Option('--start-at-task <name>', 'start at the first task with this name (wildcards allowed)'),
  new Option('-f, --forks <n>', 'hosts worked on at once (default 20, or the project config\'s forks)'),
  new Option('--json', 'one JSON event per line on stdout (docs/events.md)'),
  new Option('--junit <file>', 'also write a JUnit XML report (a test case per task and host) to this file'),
  new Option('-v, --verbose', 'line-per-result output with reasons; -vv also each command run, -vvv also command output and connection settings').argParser(increase).default(0),
  new Option('--fail-on-change', 'with --check: exit 3 when any change is pending (drift detection)'),
  new Option('--roles-path <dirs>', 'extra role folders, separated by :'),
  new Option('--list-hosts', 'list the hosts of each play and exit (nothing is contacted)'),
  new Option('--list-tasks', 'list the tasks of each play, with their tags, and exit (nothing is contacted)'),
  new Option('--list-tags', 'list the tags of each play and exit (nothing is contacted)'),
  new Option('-u, --user <name>', 'connect as this user (where the inventory does not set ansible_user)'),
  new Option('--private-key <file>', 'SSH private key file (where the inventory does not set one)'),
  new Option('--ssh-config <file>', 'read this ssh config file instead of ~/.ssh/config and /etc/ssh/ssh_config (as ssh -F)'),
  new Option('-b, --become', 'run tasks with sudo (where neither the play nor the inventory says otherwise)'),
  new Option('--become-user <user>', 'the user to become (default root)'),
  new Option('-K, --ask-become-pass', 'ask for the sudo password (kept secret, used for every host)'),
  vaultPasswordFileOption(),
  askVaultPassOption(),
  vaultIdOption(),
];
