/**
 * Ansible's YAML inventory format:
 *
 *   all:
 *     vars: { ntp: pool.ntp.org }
 *     hosts:
 *       bastion:                     # null: a host without variables
 *     children:
 *       web:
 *         hosts:
 *           web[01:03]:              # ranges expand like in INI
 *           web9: { ansible_host: 10.0.0.9 }
 *   db:                              # a top-level key other than `all` is a group under all
 *     hosts: { db1: }
 *
 * A group is a mapping with only `hosts`, `children` and `vars` (each a mapping or empty).
 * Every mistake is reported with the file:line:col of the offending key or value.
 */
import type { SourcePos } from '../core/errors.js';
import { didYouMean } from '../core/errors.js';
import type { YamlFile, YamlPath } from '../yaml/source.js';
import type { InventoryBuilder } from './builder.js';
import { HostPatternError, parseHostPattern } from './hostpattern.js';

const GROUP_KEYS = ['hosts', 'children', 'vars'];

export function parseYamlInventory(yf: YamlFile, b: InventoryBuilder): void {
  const data = yf.data;
  if (data === null || data === undefined) {
    b.diags.warning('inventory file is empty', yf.pos());
    return;
  }
  if (!isMapping(data)) {
    b.diags.error(`a YAML inventory must be a mapping of group names (e.g. 'all:'), found ${describe(data)}`, yf.pos());
    return;
  }
  const parser = new YamlInventoryParser(yf, b);
  for (const [name, body] of Object.entries(data)) parser.group(name, body, [name], []);
}

class YamlInventoryParser {
  constructor(
    private readonly yf: YamlFile,
    private readonly b: InventoryBuilder,
  ) {}

  private error(message: string, pos: SourcePos, hint?: string): void {
    this.b.diags.error(message, pos, hint);
  }

  /** `stack` holds the group bodies being parsed above this one (guards against recursive YAML aliases). */
  group(name: string, body: unknown, path: YamlPath, stack: unknown[]): void {
    this.b.declareGroup(name, this.yf.keyPos(path));
    if (body === null || body === undefined) return;
    if (!isMapping(body)) {
      this.error(`group '${name}' must be a mapping with hosts, children or vars; found ${describe(body)}`, this.yf.pos(path));
      return;
    }
    if (stack.includes(body)) {
      this.error(`group '${name}' contains itself (recursive YAML alias)`, this.yf.pos(path));
      return;
    }
    for (const [key, value] of Object.entries(body)) {
      const at = [...path, key];
      if (key === 'vars') this.vars(name, value, at);
      else if (key === 'hosts') this.hosts(name, value, at);
      else if (key === 'children') this.children(name, value, at, [...stack, body]);
      else {
        const guess = didYouMean(key, GROUP_KEYS);
        this.error(
          `unknown key '${key}' in group '${name}' (expected hosts, children or vars)${guess ? ` — did you mean '${guess}'?` : ''}`,
          this.yf.keyPos(at),
          guess ? undefined : `hosts go under '${name}: hosts:', child groups under '${name}: children:'`,
        );
      }
    }
  }

  private vars(group: string, value: unknown, path: YamlPath): void {
    if (value === null || value === undefined) return;
    if (!isMapping(value)) {
      this.error(`vars of group '${group}' must be a mapping of names to values, found ${describe(value)}`, this.yf.pos(path));
      return;
    }
    for (const [k, v] of Object.entries(value)) this.b.setGroupVar(group, k, v, this.yf.pos([...path, k]));
  }

  private hosts(group: string, value: unknown, path: YamlPath): void {
    if (value === null || value === undefined) return;
    if (!isMapping(value)) {
      const hint = Array.isArray(value) ? `write each host as a key: 'hosts:' then '  ${String(value[0] ?? 'web1')}:' on its own line` : undefined;
      this.error(`hosts of group '${group}' must be a mapping of host names, found ${describe(value)}`, this.yf.pos(path), hint);
      return;
    }
    for (const [pattern, hostVars] of Object.entries(value)) {
      const at = [...path, pattern];
      const pos = this.yf.keyPos(at);
      if (hostVars !== null && hostVars !== undefined && !isMapping(hostVars)) {
        this.error(`variables of host '${pattern}' must be a mapping (or empty), found ${describe(hostVars)}`, this.yf.pos(at));
        continue;
      }
      let parsed;
      try {
        parsed = parseHostPattern(pattern);
      } catch (e) {
        if (!(e instanceof HostPatternError)) throw e;
        this.error(e.message, pos);
        continue;
      }
      for (const host of parsed.names) {
        this.b.addHost(group, host, pos);
        if (parsed.port !== undefined) this.b.setHostVar(host, 'ansible_port', parsed.port, pos);
        for (const [k, v] of Object.entries(hostVars ?? {})) this.b.setHostVar(host, k, v, this.yf.pos([...at, k]));
      }
    }
  }

  private children(group: string, value: unknown, path: YamlPath, stack: unknown[]): void {
    if (value === null || value === undefined) return;
    if (!isMapping(value)) {
      const hint = Array.isArray(value) ? `write each child group as a key: 'children:' then '  ${String(value[0] ?? 'web')}:'` : undefined;
      this.error(`children of group '${group}' must be a mapping of group names, found ${describe(value)}`, this.yf.pos(path), hint);
      return;
    }
    for (const [child, body] of Object.entries(value)) {
      const at = [...path, child];
      this.group(child, body, at, stack);
      this.b.addChild(group, child, this.yf.keyPos(at));
    }
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'object') return 'a value of another kind';
  return `${typeof v === 'string' ? 'a string' : `a ${typeof v}`} (${JSON.stringify(v)})`;
}
