/**
 * Ansible's INI inventory format:
 *
 *   bastion.example.com            # hosts before any section are ungrouped
 *   [web]
 *   web[01:03] http_port=8080      # host pattern, then key=value host variables
 *   db1:2222 ansible_user=admin    # host:port sets ansible_port
 *   [web:vars]
 *   ntp = 'pool.ntp.org'           # one key = value per line
 *   [prod:children]
 *   web                            # a group defined elsewhere in the inventory
 *
 * Comments start with `#` or `;` at the beginning of a line; on host lines `#` also ends the
 * line (outside quotes). Host lines are split like a shell command (quotes removed), then each
 * value is parsed by ini-values.ts, as Ansible does: `port="8080"` is the number 8080 and
 * `list="['a', 'b']"` a list; `name="'8080'"` is the string "8080". Errors carry file:line:col.
 */
import type { SourcePos } from '../core/errors.js';
import type { InventoryBuilder } from './builder.js';
import { HostPatternError, parseHostPattern } from './hostpattern.js';
import { parseIniValue } from './ini-values.js';

type SectionKind = 'hosts' | 'vars' | 'children';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:[#;].*)?$/;

export function parseIniInventory(text: string, file: string, b: InventoryBuilder): void {
  const diags = b.diags;
  let group = 'ungrouped';
  let kind: SectionKind | 'skip' = 'hosts';
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    const indent = raw.length - raw.trimStart().length;
    const at = (offset: number): SourcePos => ({ file, line: lineNo, col: indent + offset + 1 });
    if (!line || line.startsWith('#') || line.startsWith(';')) return;

    if (line.startsWith('[')) {
      const m = SECTION.exec(line);
      if (!m) {
        diags.error(`malformed section header '${line}' (expected [group], [group:vars] or [group:children])`, at(0));
        kind = 'skip';
        return;
      }
      group = m[1]!;
      const type = m[2] ?? 'hosts';
      if (type !== 'hosts' && type !== 'vars' && type !== 'children') {
        diags.error(`section [${group}:${type}] has unknown type '${type}' (expected vars or children)`, at(group.length + 2));
        kind = 'skip';
        return;
      }
      kind = type;
      if (kind === 'vars') b.requireGroup(group, at(1), `section [${group}:vars] is for a group that is never defined`);
      else b.declareGroup(group, at(1));
      return;
    }

    if (kind === 'skip') return;
    if (kind === 'hosts') parseHostLine(line, at, group, b);
    else if (kind === 'vars') parseVarLine(line, at, group, b);
    else {
      const m = GROUP_NAME.exec(line);
      if (!m) diags.error(`expected a group name in [${group}:children], got '${line}'`, at(0));
      else b.addChild(group, m[1]!, at(0));
    }
  });
}

/** `web[01:03]:2222 key=value key2="quoted value"` */
function parseHostLine(line: string, at: (offset: number) => SourcePos, group: string, b: InventoryBuilder): void {
  let tokens: Token[];
  try {
    tokens = tokenize(line);
  } catch (e) {
    if (!(e instanceof TokenError)) throw e;
    b.diags.error(e.message, at(e.offset));
    return;
  }
  const [first, ...rest] = tokens;
  if (!first) return;
  let pattern;
  try {
    pattern = parseHostPattern(first.text);
  } catch (e) {
    if (!(e instanceof HostPatternError)) throw e;
    b.diags.error(e.message, at(first.offset));
    return;
  }
  const vars: Array<{ key: string; value: unknown; pos: SourcePos }> = [];
  for (const t of rest) {
    const eq = t.text.indexOf('=');
    if (eq <= 0) {
      b.diags.error(`expected key=value host variable after host '${first.text}', got '${t.text}'`, at(t.offset));
      continue;
    }
    const value = t.text.slice(eq + 1);
    vars.push({ key: t.text.slice(0, eq), value: parseIniValue(value), pos: at(t.offset + eq + 1) });
  }
  const hostPos = at(first.offset);
  for (const name of pattern.names) {
    b.addHost(group, name, hostPos);
    if (pattern.port !== undefined) b.setHostVar(name, 'ansible_port', pattern.port, hostPos);
    for (const v of vars) b.setHostVar(name, v.key, v.value, v.pos);
  }
}

/** `key = value` in a [group:vars] section (the whole rest of the line is the value, as in Ansible). */
function parseVarLine(line: string, at: (offset: number) => SourcePos, group: string, b: InventoryBuilder): void {
  const eq = line.indexOf('=');
  const key = eq < 0 ? '' : line.slice(0, eq).trim();
  if (eq < 0 || !key) {
    b.diags.error(`expected key=value in [${group}:vars], got '${line}'`, at(0));
    return;
  }
  const rawValue = line.slice(eq + 1);
  const valueOffset = eq + 1 + (rawValue.length - rawValue.trimStart().length);
  b.setGroupVar(group, key, parseIniValue(rawValue.trim()), at(valueOffset));
}

interface Token {
  text: string;
  /** Offset of the token's first character in the (trimmed) line. */
  offset: number;
}

class TokenError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Shell-like splitting (Python's shlex in POSIX mode with comments, as Ansible uses). */
function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let cur: Token | undefined;
  let i = 0;
  const start = () => (cur ??= { text: '', offset: i });
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      if (cur) out.push(cur);
      cur = undefined;
      i++;
    } else if (c === '#') {
      break;
    } else if (c === "'" || c === '"') {
      const tok = start();
      const close = findClosingQuote(line, i);
      if (close < 0) throw new TokenError(`unterminated ${c === '"' ? 'double' : 'single'} quote`, i);
      const inner = line.slice(i + 1, close);
      tok.text += c === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
      i = close + 1;
    } else if (c === '\\' && i + 1 < line.length) {
      start().text += line[i + 1];
      i += 2;
    } else {
      start().text += c;
      i++;
    }
  }
  if (cur) out.push(cur);
  return out;
}

function findClosingQuote(line: string, open: number): number {
  const q = line[open];
  for (let i = open + 1; i < line.length; i++) {
    if (q === '"' && line[i] === '\\') i++;
    else if (line[i] === q) return i;
  }
  return -1;
}
