/**
 * The project config, so that a project does not repeat flags: `tsplay.config.yml` in the
 * current folder or the nearest parent that has one, else the same settings from the
 * `[defaults]` section of an `ansible.cfg` ($ANSIBLE_CONFIG, else the current folder or a parent).
 * Paths in it are relative to its folder. Flags given on the command line win over it.
 *
 *   inventory: inventory/prod.yml      # or a list
 *   roles_path: [roles, ../shared]     # or "a:b"
 *   forks: 10
 *   remote_user: deploy
 *   private_key_file: ~/.ssh/deploy
 *   host_key_checking: true            # or strict / accept-new / off
 *   ssh_config_file: ssh_config        # instead of ~/.ssh/config (like --ssh-config)
 *   vault_password_file: .vault-pass
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { Diagnostics, didYouMean, type SourcePos } from '../core/errors.js';
import type { ConnectionDefaults } from '../inventory/connection.js';
import { loadYamlFile } from '../yaml/source.js';

export const CONFIG_FILE = 'tsplay.config.yml';

const paths = z.union([z.string().min(1), z.array(z.string().min(1))]);

export const projectConfigSchema = z.strictObject({
  inventory: paths.optional().describe('Inventory files or folders used when no -i is given'),
  roles_path: paths.optional().describe('Extra role folders (a list, or separated by ":")'),
  forks: z.number().int().min(1).optional().describe('Hosts worked on at once (default 20)'),
  remote_user: z.string().min(1).optional().describe('User to connect as where the inventory does not set ansible_user'),
  private_key_file: z.string().min(1).optional().describe('SSH private key where the inventory does not set one'),
  host_key_checking: z.union([z.boolean(), z.enum(['strict', 'accept-new', 'off'])]).optional().describe('Host key checking where the inventory does not set it'),
  ssh_config_file: z.string().min(1).optional().describe('ssh config file read instead of ~/.ssh/config and /etc/ssh/ssh_config (like --ssh-config)'),
  vault_password_file: z.string().min(1).optional().describe('Vault password file used when none is given'),
});

/** The settings, paths resolved against the config's folder. */
export interface ProjectConfig {
  /** The file they came from. */
  file: string;
  inventory?: string[];
  rolesPath?: string[];
  forks?: number;
  vaultPasswordFile?: string;
  connection: ConnectionDefaults;
}

/** The nearest tsplay.config.yml, else ansible.cfg (undefined when there is neither). */
export function findProjectConfig(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  const up = (name: string): string | undefined => {
    for (let dir = resolve(cwd); ; dir = dirname(dir)) {
      if (existsSync(join(dir, name))) return join(dir, name);
      if (dirname(dir) === dir) return undefined;
    }
  };
  const own = up(CONFIG_FILE);
  if (own) return own;
  if (env.ANSIBLE_CONFIG && existsSync(env.ANSIBLE_CONFIG)) return resolve(env.ANSIBLE_CONFIG);
  return up('ansible.cfg');
}

export function loadProjectConfig(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ProjectConfig | undefined {
  const file = findProjectConfig(cwd, env);
  if (!file) return undefined;
  return file.endsWith('.cfg') ? readAnsibleCfg(file) : readConfigYaml(file);
}

function readConfigYaml(file: string): ProjectConfig {
  const diags = new Diagnostics();
  const yaml = loadYamlFile(file, diags);
  diags.throwIfErrors();
  const data = yaml.data ?? {};
  const r = projectConfigSchema.safeParse(data);
  if (!r.success) {
    for (const iss of r.error.issues) {
      const path = iss.path as Array<string | number>;
      if (iss.code === 'unrecognized_keys') {
        const known = Object.keys(projectConfigSchema.shape);
        for (const k of iss.keys) {
          const dym = didYouMean(k, known);
          diags.error(`${CONFIG_FILE}: unknown key "${k}"${dym ? `; did you mean "${dym}"?` : ''}`, yaml.keyPos([...path, k]), dym ? undefined : `known keys: ${known.join(', ')}`);
        }
      } else diags.error(`${CONFIG_FILE}: ${path.length ? `${path.join('.')}: ` : ''}${iss.message}`, yaml.pos(path));
    }
    diags.throwIfErrors();
  }
  return settings(file, r.data!);
}

/** `[defaults]` of an ansible.cfg: the keys above, with Ansible's spelling of values. */
function readAnsibleCfg(file: string): ProjectConfig {
  const diags = new Diagnostics();
  const values: Record<string, { value: string; pos: SourcePos }> = {};
  let section = '';
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#') || line.startsWith(';')) return;
      const sec = /^\[([^\]]+)\]$/.exec(line);
      if (sec) return void (section = sec[1]!.trim());
      if (section !== 'defaults') return;
      const kv = /^([A-Za-z_][\w.-]*)\s*[=:]\s*(.*)$/.exec(line);
      if (!kv) return void diags.error(`ansible.cfg: expected "key = value"`, { file, line: i + 1, col: raw.indexOf(line) + 1 });
      // An inline comment starts with " ;" or " #" (Ansible's INI reader).
      const value = kv[2]!.replace(/\s+[;#].*$/, '').trim();
      values[kv[1]!] = { value, pos: { file, line: i + 1, col: raw.indexOf(kv[2]!) + 1 } };
    });
  diags.throwIfErrors();
  const data: Record<string, unknown> = {};
  const str = (k: string) => values[k]?.value || undefined;
  if (str('inventory')) data.inventory = str('inventory')!.split(',').map((s) => s.trim()).filter(Boolean);
  if (str('roles_path')) data.roles_path = str('roles_path');
  if (str('forks')) {
    const n = Number(str('forks'));
    if (!Number.isInteger(n) || n < 1) diags.error(`ansible.cfg: forks: expected a positive whole number, got "${str('forks')}"`, values.forks!.pos);
    data.forks = n;
  }
  if (str('remote_user')) data.remote_user = str('remote_user');
  if (str('private_key_file')) data.private_key_file = str('private_key_file');
  if (str('vault_password_file')) data.vault_password_file = str('vault_password_file');
  if (str('host_key_checking')) {
    const b = BOOL[str('host_key_checking')!.toLowerCase()];
    if (b === undefined) diags.error(`ansible.cfg: host_key_checking: expected true or false, got "${str('host_key_checking')}"`, values.host_key_checking!.pos);
    data.host_key_checking = b;
  }
  diags.throwIfErrors();
  return settings(file, projectConfigSchema.parse(data));
}

const BOOL: Record<string, boolean> = { yes: true, on: true, true: true, '1': true, y: true, no: false, off: false, false: false, '0': false, n: false };

function settings(file: string, c: z.output<typeof projectConfigSchema>): ProjectConfig {
  const dir = dirname(file);
  const path = (p: string) => {
    const home = p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
    return isAbsolute(home) ? home : resolve(dir, home);
  };
  const list = (v: string | string[] | undefined, sep: RegExp) => (v === undefined ? undefined : (Array.isArray(v) ? v : v.split(sep)).map((s) => s.trim()).filter(Boolean).map(path));
  const hkc = c.host_key_checking;
  return {
    file,
    inventory: list(c.inventory, /,/),
    rolesPath: list(c.roles_path, /:/),
    forks: c.forks,
    vaultPasswordFile: c.vault_password_file === undefined ? undefined : path(c.vault_password_file),
    connection: {
      user: c.remote_user,
      privateKeyFile: c.private_key_file === undefined ? undefined : path(c.private_key_file),
      hostKeyChecking: hkc === undefined ? undefined : typeof hkc === 'boolean' ? (hkc ? 'strict' : 'off') : hkc,
      sshConfigFile: c.ssh_config_file === undefined ? undefined : path(c.ssh_config_file),
    },
  };
}
