/**
 * `-e` / `--extra-vars` values, read like ansible-playbook reads them:
 *   -e 'version=1.2 env="prod eu"'   key=value pairs (values stay strings; shell-style quotes)
 *   -e '{"replicas": 3}'              a JSON or YAML object (typed values)
 *   -e 'replicas: 3'                  a YAML block mapping
 *   -e @vars/prod.yml                 a YAML or JSON file (errors point at file:line:col)
 * Several -e merge left to right; a later one replaces a top-level key of an earlier one.
 */
import { resolve } from 'node:path';
import { UserError, type SourcePos } from '../core/errors.js';
import { loadYamlFile, parseYaml, type YamlFile } from '../yaml/source.js';
import { isPlainObject } from './expr.js';
import type { VarsSource } from './precedence.js';

/** Merges all -e values into one object. */
export function parseExtraVars(values: readonly string[], opts: { cwd?: string } = {}): Record<string, unknown> {
  return extraVarsSource(values, opts).vars;
}

/** Same as parseExtraVars, with the position each key came from (for buildScope's extraVars). */
export function extraVarsSource(values: readonly string[], opts: { cwd?: string } = {}): VarsSource {
  const vars: Record<string, unknown> = {};
  const where = new Map<string, () => SourcePos | undefined>();
  values.forEach((value, i) => {
    const one = parseOne(value, i + 1, opts.cwd ?? process.cwd());
    for (const [k, v] of Object.entries(one.vars)) {
      vars[k] = v;
      where.set(k, () => one.file?.keyPos([k]));
    }
  });
  return { vars, label: 'extra vars (-e)', pos: (key) => where.get(key)?.() };
}

function parseOne(value: string, n: number, cwd: string): { vars: Record<string, unknown>; file?: YamlFile } {
  const label = `-e #${n}`;
  const text = value.trim();
  if (text.startsWith('@')) {
    const path = resolve(cwd, text.slice(1));
    const file = loadYamlFile(path);
    return { vars: mappingOf(file, `${path}`), file };
  }
  if (/^\.{0,2}\//.test(text)) {
    throw new UserError({ severity: 'error', message: `${label}: '${value}' looks like a file name`, hint: `write -e @${text} to load variables from a file` });
  }
  if (text === '') return { vars: {} };
  if (text.startsWith('{')) {
    const file = parseYaml(text, label);
    return { vars: mappingOf(file, label), file };
  }
  const words = splitWords(text, label);
  if (words.every((w) => /^[^=\s]+=/.test(w))) {
    const vars: Record<string, unknown> = {};
    for (const w of words) {
      const eq = w.indexOf('=');
      vars[w.slice(0, eq)] = w.slice(eq + 1);
    }
    return { vars };
  }
  // Not key=value: maybe a YAML block mapping ("replicas: 3").
  let file: YamlFile | undefined;
  try {
    file = parseYaml(text, label);
  } catch {
    file = undefined;
  }
  if (file && isPlainObject(file.data)) return { vars: file.data, file };
  const bad = words.find((w) => !/^[^=\s]+=/.test(w)) ?? text;
  throw new UserError({
    severity: 'error',
    message: `${label}: cannot read '${bad}' as a variable`,
    hint: 'use key=value, a JSON/YAML object like \'{"key": 1}\', or @file.yml',
  });
}

function mappingOf(file: YamlFile, what: string): Record<string, unknown> {
  if (file.data === null || file.data === undefined) return {};
  if (!isPlainObject(file.data)) {
    throw new UserError({ severity: 'error', message: `${what}: extra vars must be a mapping of names to values`, pos: file.pos([]) });
  }
  return file.data;
}

/** Splits on whitespace, honouring '...' and "..." quotes and backslash escapes (like shlex). */
function splitWords(text: string, label: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new UserError(`${label}: unterminated ${quote} quote in '${text}'`);
  if (inWord) words.push(cur);
  return words;
}
