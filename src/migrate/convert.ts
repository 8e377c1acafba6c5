/**
 * The conversions of one value that `tsplay migrate` makes, each pure: Jinja in a string
 * (`{{ x | bool }}` -> `{{ bool(x) }}`), a bare expression (`when: x is defined` ->
 * `vars.x !== undefined`), Ansible's `k=v` free form to a mapping, YAML 1.1 scalars
 * (`yes`, `0644`) to what they meant to Ansible, and Ansible fact names tsplay spells otherwise.
 * A conversion that cannot be made returns a reason, which migrate reports with file:line.
 */
import { parseExpressionAt } from 'acorn';
import { ANSIBLE_FACT_VARS } from '../facts/ansible.js';
import { CONNECTION_VAR_NAMES } from '../inventory/connection.js';
import { shellSplit } from '../modules/commands/lib/shlex.js';
import { jinjaToJs } from '../vars/jinja.js';

export type Converted<T = string> = { value: T; notes: string[] };

/** YAML 1.1 booleans that YAML 1.2 (tsplay) reads as strings. */
const BOOL_11 = /^(yes|Yes|YES|on|On|ON|no|No|NO|off|Off|OFF)$/;
export const yaml11Bool = (plain: string): boolean | undefined => (BOOL_11.test(plain) ? /^(yes|on)$/i.test(plain) : undefined);
/** A YAML 1.1 octal integer (Ansible reads `mode: 0644` as 420, i.e. the mode 0644). */
export const yaml11Octal = (plain: string): boolean => /^0[0-7]+$/.test(plain);

const KNOWN_ANSIBLE = new Set<string>([...ANSIBLE_FACT_VARS, ...CONNECTION_VAR_NAMES, 'ansible_facts', 'ansible_check_mode', 'ansible_diff_mode', 'ansible_play_hosts', 'ansible_play_batch', 'ansible_play_hosts_all']);

/**
 * Ansible facts: those tsplay gathers under their Ansible name (src/facts/ansible.ts) are kept;
 * `ansible_lsb.codename` is `ansible_distribution_release`; any other is noted.
 */
function convertFacts(js: string): Converted {
  const notes: string[] = [];
  const out = js
    .replace(/\bansible_lsb(?:\.codename|\[['"]codename['"]\])/g, 'ansible_distribution_release')
    // `ansible_processor_vcpus | default(ansible_processor_count)`: tsplay always has the fact, the fallback is never read.
    .replace(/\bvars\.(ansible_[a-z0-9_]+) \?\? [\w.'"]+/g, (m, name: string) => (ANSIBLE_FACT_VARS.includes(name) ? name : m));
  for (const m of out.matchAll(/(?<![\w$.'"])(ansible_[a-z0-9_]+)/g)) {
    if (!KNOWN_ANSIBLE.has(m[1]!) && !notes.some((n) => n.includes(`'${m[1]}'`))) notes.push(`Ansible fact '${m[1]}' is not gathered by tsplay (src/facts/ansible.ts lists those it is)`);
  }
  for (const m of out.matchAll(/\bansible_facts(?:\.([a-z0-9_]+)|\[['"]([a-z0-9_]+)['"]\])/g)) {
    const name = `ansible_${m[1] ?? m[2]}`;
    if (!KNOWN_ANSIBLE.has(name) && !notes.some((n) => n.includes(`'${name.slice(8)}'`))) notes.push(`Ansible fact '${name.slice(8)}' is not gathered by tsplay (src/facts/ansible.ts lists those it is)`);
  }
  return { value: out, notes };
}

function parsesAsJs(code: string): boolean {
  try {
    const n = parseExpressionAt(code, 0, { ecmaVersion: 'latest' });
    return code.slice(n.end).trim() === '';
  } catch {
    return false;
  }
}

/** A bare expression (`when:`, `changed_when:`, `that:`) from Jinja to JavaScript. */
export function convertExpression(code: string): Converted {
  const t = code.trim();
  // `when: "{{ x }}"`: Ansible accepts the braces (with a warning); the expression is inside.
  const inner = /^\{\{(.*)\}\}$/s.exec(t);
  if (inner && !inner[1]!.includes('{{')) return convertExpression(inner[1]!);
  if (t.includes('{{')) return { value: code, notes: ['a bare expression with `{{ }}` inside it: write the JavaScript expression without braces'] };
  const r = jinjaToJs(t);
  if ('reason' in r) return { value: code, notes: [r.reason] };
  const f = convertFacts(r.js.trim());
  // What tsplay would still refuse: a form left over, or no JavaScript at all.
  const left = jinjaToJs(f.value);
  if ('reason' in left || left.js !== f.value) f.notes.push(`\`${t}\` could not be fully converted: rewrite it in JavaScript (docs/expressions.md, "Coming from Jinja")`);
  else if (!parsesAsJs(f.value)) f.notes.push(`\`${t}\` is not a JavaScript expression after conversion: rewrite it (docs/expressions.md, "Coming from Jinja")`);
  return { value: f.value === t ? code : f.value, notes: f.notes };
}

/** Every `{{ ... }}` of a string converted; `{% %}` and what cannot be converted are noted. */
export function convertTemplate(text: string): Converted {
  if (!text.includes('{{') && !text.includes('{%')) return { value: text, notes: [] };
  const notes: string[] = [];
  if (/\{%/.test(text)) notes.push('`{% ... %}` (a Jinja statement) in a playbook value: write it as a JavaScript expression in `{{ }}` (or move it to a .j2 template)');
  const value = text.replace(/\{\{(-?)(.*?)(-?)\}\}/gs, (whole, _l: string, body: string) => {
    const r = convertExpression(body);
    notes.push(...r.notes);
    if (r.value === body) return whole;
    return `{{ ${r.value.trim()} }}`;
  });
  return { value, notes: [...new Set(notes)] };
}

/**
 * A plain scalar's value as Ansible (YAML 1.1) read it, when tsplay (YAML 1.2) reads it
 * otherwise: `yes` is true, `0644` a mode (kept as the string "0644", which every mode
 * parameter takes; YAML 1.2 would read the decimal 644).
 */
export function convertPlain(source: string): { value: boolean | string } | undefined {
  const b = yaml11Bool(source);
  if (b !== undefined) return { value: b };
  if (yaml11Octal(source)) return { value: source };
  return undefined;
}

/** Modules whose free form is a command line, kept as a string (tsplay reads `creates=` in it). */
export const COMMAND_FREE_FORM = new Set(['command', 'shell', 'raw', 'script', 'include_tasks', 'import_tasks', 'include', 'import_playbook', 'meta', 'win_shell', 'win_command']);

/**
 * Ansible's `k=v` free form (`apt: name=nginx state=present update_cache=yes`) as a mapping;
 * undefined when the text is not `k=v` words. Values are Ansible's strings, with YAML 1.1
 * booleans as booleans and Jinja converted.
 */
export function convertKeyValue(text: string): Converted<Record<string, unknown>> | undefined {
  if (!/^\s*[A-Za-z_][\w]*=/.test(text)) return undefined;
  let words: string[];
  try {
    // `{{ x | default('a b') }}` keeps its spaces: split outside the braces only.
    words = shellSplit(text.replace(/\{\{.*?\}\}/gs, (m) => m.replace(/ /g, '\u0000'))).map((w) => w.replace(/\u0000/g, ' '));
  } catch {
    return undefined;
  }
  const value: Record<string, unknown> = {};
  const notes: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) return undefined;
    const k = w.slice(0, eq);
    const raw = w.slice(eq + 1);
    const b = yaml11Bool(raw) ?? (/^(true|false|True|False)$/.test(raw) ? /^t/i.test(raw) : undefined);
    if (b !== undefined) value[k] = b;
    else {
      const c = convertTemplate(raw);
      notes.push(...c.notes);
      value[k] = c.value;
    }
  }
  return { value, notes };
}
