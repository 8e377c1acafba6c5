/** Options several commands share. */
import { Option } from 'commander';

export const collect = (v: string, prev: string[]) => [...prev, v];
export const csv = (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export const inventoryOption = () => new Option('-i, --inventory <path>', 'inventory file or folder (repeatable)').argParser(collect).default([] as string[]);
export const extraVarsOption = () => new Option('-e, --extra-vars <vars>', 'k=v pairs, JSON/YAML, or @file (repeatable)').argParser(collect).default([] as string[]);
export const vaultPasswordFileOption = () => new Option('--vault-password-file <file>', 'Ansible vault password file (an executable one is run; its output is the password; repeatable)').argParser(collect).default([] as string[]);
export const askVaultPassOption = () => new Option('--ask-vault-pass', 'ask for the Ansible vault password');
export const vaultIdOption = () => new Option('--vault-id <[label@]file|prompt>', "Ansible vault id: a password file or 'prompt' (the label is accepted; every password is tried; repeatable)").argParser(collect).default([] as string[]);
