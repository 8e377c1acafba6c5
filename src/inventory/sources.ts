/**
 * Inventory sources: what each `-i` argument is and how to read it.
 *   - a file: YAML when named .yml/.yaml/.json, INI when named .ini, otherwise sniffed
 *   - a folder: every inventory file in it, recursively, in name order, skipping group_vars/,
 *     host_vars/, hidden files and files that are not inventories (.md, .cfg, .retry, ~ ...)
 *   - `web1,web2` (contains a comma, is not a path): a list of hosts, like Ansible's host_list
 * The folder that holds group_vars/ and host_vars/ for a source is the folder itself for a
 * folder, the file's folder for a file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { parseYaml } from '../yaml/source.js';
import { isVaultText, openVaultFile } from '../yaml/vault.js';
import type { InventoryBuilder } from './builder.js';
import { HostPatternError, parseHostPattern } from './hostpattern.js';
import { parseIniInventory } from './ini.js';
import { parseYamlInventory } from './yaml.js';

export type InventoryFormat = 'yaml' | 'ini';

/** Extensions never read as inventories inside an inventory folder. */
const IGNORED_EXTENSIONS = ['.md', '.txt', '.cfg', '.retry', '.orig', '.bak', '.swp', '.pyc', '.py', '.sh', '.j2', '.rst'];

/** Reads one `-i` argument into the builder; returns the folder whose group_vars/host_vars apply, if any. */
export function readSource(path: string, b: InventoryBuilder): string | undefined {
  const stat = statOrUndefined(path);
  if (!stat) {
    if (path.includes(',')) {
      readHostList(path, b);
      return undefined;
    }
    b.diags.error(`inventory not found: ${path}`);
    return undefined;
  }
  if (stat.isDirectory()) {
    const files = inventoryFiles(path);
    if (files.length === 0) b.diags.warning(`inventory folder ${path} holds no inventory file`);
    for (const f of files) readFile(f, b);
    return path;
  }
  readFile(path, b);
  return dirname(path);
}

export function detectFormat(file: string, text: string): InventoryFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.yml' || ext === '.yaml' || ext === '.json') return 'yaml';
  if (ext === '.ini') return 'ini';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) return 'ini';
    if (line === '---' || line.startsWith('{')) return 'yaml';
    // `all:` / `web: {...}` is YAML; `web1`, `web1:2222`, `web1 key=value` are INI host lines.
    return /^[^\s=]+:(\s|$)/.test(line) ? 'yaml' : 'ini';
  }
  return 'ini';
}

function readFile(file: string, b: InventoryBuilder): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    b.diags.error(`cannot read inventory ${file}: ${(e as Error).message}`);
    return;
  }
  // Encrypted whole with Ansible vault: the format is the plaintext's (parseYaml decrypts a YAML one itself).
  const plain = isVaultText(text) ? openVaultFile(text, file, b.diags) : text;
  if (plain === undefined) return;
  if (detectFormat(file, plain) === 'ini') {
    parseIniInventory(plain, file, b);
    return;
  }
  const before = b.diags.errors.length;
  const yf = parseYaml(text, file, b.diags);
  if (b.diags.errors.length === before) parseYamlInventory(yf, b);
}

/** `-i 'web1,web2:2222,'`: hosts, ungrouped. */
function readHostList(list: string, b: InventoryBuilder): void {
  for (const item of list.split(',')) {
    const name = item.trim();
    if (!name) continue;
    try {
      const { names, port } = parseHostPattern(name);
      for (const h of names) {
        b.addHost('ungrouped', h);
        if (port !== undefined) b.setHostVar(h, 'ansible_port', port);
      }
    } catch (e) {
      if (!(e instanceof HostPatternError)) throw e;
      b.diags.error(`in host list '${list}': ${e.message}`);
    }
  }
}

/** Inventory files in a folder, recursively, in name order. */
function inventoryFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~') || entry === 'group_vars' || entry === 'host_vars') continue;
    const full = join(dir, entry);
    const stat = statOrUndefined(full);
    if (stat?.isDirectory()) out.push(...inventoryFiles(full));
    else if (stat?.isFile() && !IGNORED_EXTENSIONS.includes(extname(entry).toLowerCase())) out.push(full);
  }
  return out;
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
