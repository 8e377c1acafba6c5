/**
 * `tsplay migrate PATH`: rewrites Ansible playbooks, roles and task files into tsplay's syntax,
 * in place or into another folder. Each file is parsed with the `yaml` Document API and edited
 * as text at the ranges of the nodes that change, so comments, order, quoting and layout of
 * everything else stay byte for byte. What it converts (one function each below):
 *
 * | Ansible | tsplay |
 * | --- | --- |
 * | `apt: name=nginx state=present` | `apt: { name: nginx, state: present }` |
 * | `become: yes`, `enabled: no` (YAML 1.1) | `become: true`, `enabled: false` |
 * | `mode: 0644` (YAML 1.1 octal) | `mode: "0644"` |
 * | `ansible.builtin.copy`, `community.general.ufw` | `copy`, `install-ufw` (noted) |
 * | `include: x.yml` | `include_tasks: x.yml` |
 * | `{{ x \| default('a') }}`, `when: x is defined and y \| bool` | `{{ vars.x ?? 'a' }}`, `when: vars.x !== undefined && bool(y)` |
 * | `with_indexed_items`, `with_together`, `with_nested`, `with_subelements`, `with_sequence` | `loop:` with the JavaScript that builds the same items |
 * | `ansible_lsb.codename` | `ansible_distribution_release` |
 *
 * Everything else that tsplay would refuse is reported as a note with file:line and why.
 */
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parse as parseYaml, type Node, type Pair, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { BUNDLED_MODULE_FILES } from '../modules/catalog.js';
import { ANSIBLE_EQUIVALENTS } from '../modules/registry.js';
import { BLOCK_KEYS, TASK_KEYWORDS } from '../playbook/keywords.js';
import { COMMAND_FREE_FORM, convertExpression, convertKeyValue, convertPlain, convertTemplate, type Converted } from './convert.js';

export interface MigrateNote {
  file: string;
  line: number;
  message: string;
}

export interface MigrateFile {
  file: string;
  kind: FileKind;
  changed: boolean;
  tasks: number;
  tasksChanged: number;
  tasksNeedingAttention: number;
}

export interface MigrateResult {
  files: MigrateFile[];
  notes: MigrateNote[];
  summary: { files: number; filesChanged: number; tasks: number; tasksChanged: number; tasksNeedingAttention: number };
}

export interface MigrateOptions {
  /** Write into this folder (a copy of PATH) instead of in place. */
  out?: string;
  /** Compute and report, write nothing. */
  dryRun?: boolean;
}

type FileKind = 'playbook' | 'tasks' | 'vars' | 'skipped';

const MODULE_NAMES = new Set(BUNDLED_MODULE_FILES.map(([n]) => n));
/** Ansible modules tsplay has under another name, doing the same job with the same parameters. */
const SAME_JOB = new Set(['systemd_service', 'sysvinit', 'apt_get', 'dnf', 'yum']);
/** Keywords of a task that are not its module, beyond those tsplay accepts. */
const OTHER_TASK_KEYS = new Set([
  'action', 'local_action', 'delegate_to', 'delegate_facts', 'async', 'poll', 'throttle', 'any_errors_fatal', 'remote_user', 'connection',
  'become_method', 'become_flags', 'become_exe', 'module_defaults', 'collections', 'timeout', 'debugger', 'ignore_unreachable', 'port',
  'loop_control', 'vars', 'environment', 'no_log', 'check_mode', 'diff',
]);
/** Task keywords (include_tasks and friends are the task's "module" here). */
const TASK_KEYWORD_SET = new Set<string>([...TASK_KEYWORDS, ...BLOCK_KEYS]);
/** Ansible's parameter aliases that tsplay's module of the same name does not take: alias -> parameter. */
const PATH_ALIASES = { dest: 'path', destfile: 'path', name: 'path' };
export const PARAM_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  lineinfile: PATH_ALIASES,
  blockinfile: PATH_ALIASES,
  replace: PATH_ALIASES,
  file: { dest: 'path', name: 'path' },
  ini_file: { dest: 'path' },
  stat: { dest: 'path', name: 'path' },
  apt: { pkg: 'name', package: 'name', 'update-cache': 'update_cache', 'install-recommends': 'install_recommends' },
  package: { pkg: 'name' },
  user: { createhome: 'create_home' },
  systemd: { service: 'name', unit: 'name', 'daemon-reload': 'daemon_reload' },
  service: { 'daemon-reload': 'daemon_reload' },
  sysctl: { key: 'name', val: 'value' },
  find: { path: 'paths', name: 'paths', pattern: 'patterns' },
  cron: { value: 'job' },
  assert: { msg: 'fail_msg' },
};

/** Values Ansible (or its older releases) takes for a parameter, as tsplay's module spells them: module -> param -> value -> value. */
export const VALUE_ALIASES: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, string>>>>>> = {
  apt: { state: { installed: 'present', removed: 'absent' } },
  package: { state: { installed: 'present', removed: 'absent' } },
  service: { state: { running: 'started' } },
  systemd: { state: { running: 'started' } },
};

/** Parameters of Ansible's modules that only tune how Ansible does the job, dropped (tsplay's module does it its way). */
export const DROPPED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  apt: ['force_apt_get'],
  setup: ['gather_subset', 'gather_timeout'],
};

/** `params` with Ansible's aliases renamed to the parameter tsplay knows (not when both are there). */
export function renameAliases(module: string, keys: string[]): Map<string, string> {
  const aliases = PARAM_ALIASES[module] ?? {};
  const out = new Map<string, string>();
  for (const k of keys) {
    const to = aliases[k];
    if (to && !keys.includes(to) && ![...out.values()].includes(to)) out.set(k, to);
  }
  return out;
}

const isLoopKey = (k: string) => k.startsWith('with_');
const EXPRESSION_KEYS = new Set(['when', 'changed_when', 'failed_when', 'until']);
const SKIP_DIRS = new Set(['.git', '.github', 'node_modules', 'files', 'templates', '.tox', '.venv', 'venv', '__pycache__']);

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Converts every Ansible file under `path` (a file or a folder). */
export function migratePath(path: string, o: MigrateOptions = {}): MigrateResult {
  const root = resolve(path);
  const isDir = statSync(root).isDirectory();
  const base = isDir ? root : resolve(root, '..');
  const files = isDir ? yamlFiles(root) : [root];
  let target = base;
  if (o.out && !o.dryRun) {
    target = resolve(o.out);
    if (isDir) cpSync(root, target, { recursive: true, filter: (src) => !src.split(sep).includes('.git') });
    else cpSync(root, join(target, basename(root)));
  }
  const result: MigrateResult = { files: [], notes: [], summary: { files: 0, filesChanged: 0, tasks: 0, tasksChanged: 0, tasksNeedingAttention: 0 } };
  for (const file of files) {
    const rel = relative(base, file);
    const text = readFileSync(file, 'utf8');
    const r = migrateText(text, rel);
    result.files.push(r.file);
    result.notes.push(...r.notes);
    if (r.file.kind === 'skipped') continue;
    const s = result.summary;
    s.files++;
    s.tasks += r.file.tasks;
    s.tasksChanged += r.file.tasksChanged;
    s.tasksNeedingAttention += r.file.tasksNeedingAttention;
    if (r.file.changed) {
      s.filesChanged++;
      if (!o.dryRun) writeFileSync(o.out ? join(target, rel) : file, r.text);
    }
  }
  return result;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...yamlFiles(join(dir, e.name)));
    } else if (/\.ya?ml$/.test(e.name)) out.push(join(dir, e.name));
  }
  return out;
}

/** What a file is, from its folder and its shape. */
function kindOf(rel: string, docs: unknown[]): FileKind {
  const parts = rel.split(/[\\/]/);
  const dirs = parts.slice(0, -1);
  const name = parts[parts.length - 1]!;
  if (dirs.includes('meta') || /^(galaxy|requirements|molecule|docker-compose.*|compose|\.?ansible-lint|\.yamllint|\.travis|mkdocs|codecov)\.ya?ml$/.test(name) || name.startsWith('.')) return 'skipped';
  if (dirs.some((d) => ['defaults', 'vars', 'group_vars', 'host_vars'].includes(d))) return docs.every((d) => d === null || (typeof d === 'object' && !Array.isArray(d))) ? 'vars' : 'skipped';
  const lists = docs.filter((d) => d !== null);
  if (!lists.length || !lists.every((d) => Array.isArray(d) && d.every((x) => x && typeof x === 'object' && !Array.isArray(x)))) return 'skipped';
  const items = lists.flat() as Array<Record<string, unknown>>;
  if (items.some((i) => 'hosts' in i || 'import_playbook' in i || 'ansible.builtin.import_playbook' in i)) return 'playbook';
  if (dirs.some((d) => d === 'tasks' || d === 'handlers')) return 'tasks';
  // A list of tasks elsewhere (an included file): every item has a module or a block.
  if (items.length && items.every((i) => Object.keys(i).some((k) => k === 'block' || moduleLike(k)))) return 'tasks';
  return 'skipped';
}

const moduleLike = (k: string) => MODULE_NAMES.has(k) || /^[a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+$/.test(k) || k in ANSIBLE_EQUIVALENTS || k === 'include';

/** Converts the text of one file (`rel` is its name in notes). */
export function migrateText(text: string, rel: string): { text: string; file: MigrateFile; notes: MigrateNote[] } {
  const docs = parseAllDocuments(text);
  const file: MigrateFile = { file: rel, kind: 'skipped', changed: false, tasks: 0, tasksChanged: 0, tasksNeedingAttention: 0 };
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) return { text, file, notes: [] };
  let values: unknown[];
  try {
    values = docs.map((d) => d.toJS());
  } catch {
    return { text, file, notes: [] };
  }
  file.kind = kindOf(rel, values);
  if (file.kind === 'skipped') return { text, file, notes: [] };
  const m = new FileMigration(text, rel);
  for (const d of docs) {
    if (!d.contents) continue;
    if (file.kind === 'vars') m.value(d.contents as Node, undefined);
    else if (file.kind === 'tasks') m.taskList(d.contents as Node);
    else m.plays(d.contents as Node);
  }
  const out = m.apply();
  Object.assign(file, { changed: out !== text, tasks: m.tasks.length, tasksChanged: m.tasks.filter((t) => t.changed).length, tasksNeedingAttention: m.tasks.filter((t) => t.notes).length });
  return { text: out, file, notes: m.notes };
}

class FileMigration {
  readonly edits: Edit[] = [];
  /** Notes at offsets of the input; apply() gives them the lines of the output. */
  private readonly pending: Array<{ offset: number; message: string }> = [];
  readonly notes: MigrateNote[] = [];
  readonly tasks: Array<{ changed: boolean; notes: boolean }> = [];

  constructor(
    private readonly text: string,
    private readonly rel: string,
  ) {}

  apply(): string {
    let out = this.text;
    // An edit inside another one (a value inside a pair that is removed) gives way to it.
    const inside = (e: Edit, f: Edit) => f !== e && f.end - f.start > e.end - e.start && f.start <= e.start && e.end <= f.end && (e.start < f.end || e.end > f.start);
    const sorted = this.edits.filter((e) => !this.edits.some((f) => inside(e, f))).sort((a, b) => b.start - a.start || b.end - a.end);
    const applied: Edit[] = [];
    let floor = Infinity;
    for (const e of sorted) {
      if (e.end > floor) continue; // overlaps an edit already made
      out = out.slice(0, e.start) + e.text + out.slice(e.end);
      floor = e.start;
      applied.push(e);
    }
    // Where each note's offset is in the output.
    const moved = (o: number) => applied.reduce((x, e) => (e.end <= o ? x + e.text.length - (e.end - e.start) : e.start < o ? x - (o - e.start) : x), o);
    const lc = new LineCounter();
    parseAllDocuments(out, { lineCounter: lc });
    for (const p of this.pending) {
      const line = lc.linePos(Math.min(moved(p.offset), out.length)).line;
      if (!this.notes.some((n) => n.line === line && n.message === p.message)) this.notes.push({ file: this.rel, line, message: p.message });
    }
    return out;
  }

  note(node: Node | undefined, message: string): void {
    this.pending.push({ offset: node?.range?.[0] ?? 0, message });
  }

  edit(node: Node, text: string): void {
    const [start, end] = node.range!;
    this.edits.push({ start, end, text });
  }

  plays(node: Node): void {
    if (!isSeq(node)) return;
    for (const play of node.items) {
      if (!isMap(play)) continue;
      for (const pair of play.items) {
        const k = keyOf(pair);
        const v = pair.value as Node | null;
        if (!v) continue;
        if (['tasks', 'pre_tasks', 'post_tasks', 'handlers'].includes(k)) this.taskList(v);
        else this.value(v, k);
        if (k === 'vars_prompt') this.note(pair.key as Node, 'vars_prompt is not supported by tsplay: pass the values with -e or a vars file');
      }
    }
  }

  taskList(node: Node): void {
    if (!isSeq(node)) return;
    for (const t of node.items) if (isMap(t)) this.task(t);
  }

  task(t: YAMLMap): void {
    const editsBefore = this.edits.length;
    const notesBefore = this.pending.length;
    const isBlock = t.items.some((p) => ['block', 'rescue', 'always'].includes(keyOf(p)));
    const moduleName = isBlock ? undefined : t.items.map(keyOf).find((k) => !TASK_KEYWORD_SET.has(k) && !OTHER_TASK_KEYS.has(k) && !isLoopKey(k));
    if (isBlock && t.has('notify')) this.blockNotify(t);
    for (const pair of t.items) {
      const k = keyOf(pair);
      const v = pair.value as Node | null;
      if (isBlock && k === 'notify') continue;
      if (['block', 'rescue', 'always'].includes(k)) {
        if (v) this.taskList(v);
        continue;
      }
      if (k === moduleName) {
        this.module(pair, k);
        continue;
      }
      if (!v) continue;
      if (EXPRESSION_KEYS.has(k)) this.expression(v);
      else if (isLoopKey(k)) this.loop(pair, k, t);
      else if (k === 'include') {
        this.edit(pair.key as Node, 'include_tasks');
        this.value(v, k);
      } else if (k === 'action') this.note(pair.key as Node, '`action:` is not supported by tsplay: write the module as the task\'s key');
      else if (!TASK_KEYWORD_SET.has(k) && !isLoopKey(k)) {
        if (k !== 'loop_control' && OTHER_TASK_KEYS.has(k) && !['vars', 'environment', 'no_log', 'check_mode', 'diff'].includes(k)) this.note(pair.key as Node, `task keyword '${k}' is not supported by tsplay`);
        this.value(v, k);
      } else this.value(v, k);
    }
    if (isBlock) return;
    if (!moduleName && !t.has('local_action') && !t.has('action')) this.note(t, 'a task without a module');
    this.tasks.push({ changed: this.edits.length > editsBefore, notes: this.pending.length > notesBefore });
  }

  /** Deletes a pair that has its lines to itself; false when it shares a line (a flow mapping). */
  removePair(pair: Pair): boolean {
    const keyStart = (pair.key as Node).range![0];
    const valueEnd = (pair.value as Node | null)?.range?.[1] ?? (pair.key as Node).range![1];
    const start = this.text.lastIndexOf('\n', keyStart - 1) + 1;
    const nl = this.text.indexOf('\n', Math.max(keyStart, valueEnd - 1));
    const end = nl < 0 ? this.text.length : nl + 1;
    if (!/^\s*$/.test(this.text.slice(start, keyStart)) || !/^\s*(#.*)?$/.test(this.text.slice(valueEnd, end))) return false;
    this.edits.push({ start, end, text: '' });
    return true;
  }

  /** `notify` on a block: Ansible gives it to every task in the block; tsplay wants it on each task. */
  blockNotify(block: YAMLMap): void {
    const pair = block.items.find((p) => keyOf(p) === 'notify')!;
    const topics = (x: unknown): string[] => (typeof x === 'string' ? [x] : Array.isArray(x) ? x.map(String) : []);
    const wanted = topics((pair.value as Node | null)?.toJSON());
    if (!wanted.length) return;
    const lineStart = (off: number) => this.text.lastIndexOf('\n', off - 1) + 1;
    const lineEnd = (off: number) => {
      const e = this.text.indexOf('\n', off);
      return e < 0 ? this.text.length : e + 1;
    };
    const keyStart = (pair.key as Node).range![0];
    const valueEnd = (pair.value as Node).range![1];
    // The block's first key shares its line with `- `: keep the dash, drop the pair.
    if (/^\s*-\s*$/.test(this.text.slice(lineStart(keyStart), keyStart))) this.note(pair.key as Node, 'notify on a block: move it onto the tasks of the block');
    else this.edits.push({ start: lineStart(keyStart), end: lineEnd(Math.max(keyStart, valueEnd - 1)), text: '' });
    const visit = (list: Node | null | undefined) => {
      if (!isSeq(list)) return;
      for (const t of list.items) {
        if (!isMap(t)) continue;
        if (t.items.some((p) => ['block', 'rescue', 'always'].includes(keyOf(p)))) {
          for (const p of t.items) if (['block', 'rescue', 'always'].includes(keyOf(p))) visit(p.value as Node);
          continue;
        }
        const own = t.items.find((p) => keyOf(p) === 'notify');
        if (own) {
          const merged = [...new Set([...topics((own.value as Node | null)?.toJSON()), ...wanted])];
          this.edit(own.value as Node, `[${merged.map((x) => JSON.stringify(x)).join(', ')}]`);
          continue;
        }
        const first = t.items[0]!;
        const col = (first.key as Node).range![0] - lineStart((first.key as Node).range![0]);
        const at = lineEnd((first.value as Node | null)?.range?.[1] ?? (first.key as Node).range![1]) - 1;
        const firstLineOnly = !this.text.slice((first.key as Node).range![0], at).includes('\n');
        if (!firstLineOnly || at < 0) {
          this.note(t, 'notify of the enclosing block: add it to this task');
          continue;
        }
        this.edits.push({ start: at, end: at, text: `\n${' '.repeat(col)}notify: ${wanted.length === 1 ? JSON.stringify(wanted[0]) : `[${wanted.map((x) => JSON.stringify(x)).join(', ')}]`}` });
      }
    };
    for (const p of block.items) if (['block', 'rescue', 'always'].includes(keyOf(p))) visit(p.value as Node);
  }

  /** The module's name (FQCN, Ansible's equivalents) and its arguments (free form `k=v`). */
  module(pair: Pair, name: string): void {
    const keyNode = pair.key as Node;
    const short = name.replace(/^[a-z0-9_]+\.[a-z0-9_]+\./, '');
    let target = name;
    if (MODULE_NAMES.has(short)) target = short;
    else if (ANSIBLE_EQUIVALENTS[short] && MODULE_NAMES.has(ANSIBLE_EQUIVALENTS[short]!)) {
      target = ANSIBLE_EQUIVALENTS[short]!;
      if (!SAME_JOB.has(short)) this.note(keyNode, `${name} became ${target}, which differs: ${target === 'install-ufw' ? 'install-ufw declares the whole firewall (policies and a rules: list); merge the rules of these tasks into one install-ufw task' : `see tsplay doc ${target} and rewrite the parameters`}`);
    } else if (['include_tasks', 'import_tasks', 'include_role', 'import_role', 'include_vars', 'import_playbook'].includes(short)) target = short;
    else if (name === 'include') target = 'include_tasks';
    else this.note(keyNode, `module ${name} does not exist in tsplay (tsplay doc lists the modules; a project may add its own in modules/)`);
    if (target !== name) this.edit(keyNode, target);
    if (target === 'meta' && String((pair.value as Node | null)?.toJSON?.()).trim() === 'refresh_inventory') this.note(keyNode, 'meta: refresh_inventory is not supported by tsplay (it reads the inventory once, before the run)');
    const file = (pair.value as Node | null)?.toJSON?.() as unknown;
    if (['include_tasks', 'import_tasks'].includes(target) && typeof file === 'string' && file.includes('{{')) this.note(keyNode, `${target}: a templated file name is not supported by tsplay: include each file under a when:`);
    const v = pair.value as Node | null;
    if (!v) return;
    if (isScalar(v) && typeof v.value === 'string' && !COMMAND_FREE_FORM.has(target)) {
      const kv = convertKeyValue(v.value);
      if (kv) {
        const renames = renameAliases(target, Object.keys(kv.value));
        const args = Object.fromEntries(Object.entries(kv.value).map(([k, x]) => [renames.get(k) ?? k, x]));
        for (const [k, x] of Object.entries(args)) if (typeof x === 'string' && VALUE_ALIASES[target]?.[k]?.[x]) args[k] = VALUE_ALIASES[target][k][x];
        // `groups=docker,adm` is a list to Ansible's user module.
        if (target === 'user' && typeof args.groups === 'string' && !args.groups.includes('{{')) args.groups = args.groups.split(',').map((g) => g.trim()).filter(Boolean);
        this.edit(v, flowMap(args));
        for (const n of kv.notes) this.note(v, n);
        return;
      }
      if (!['include_role', 'import_role'].includes(target) && !MODULE_NAMES.has(target)) return;
    }
    if (isMap(v)) {
      const renames = renameAliases(target, v.items.map(keyOf));
      for (const p of v.items) if (renames.has(keyOf(p))) this.edit(p.key as Node, renames.get(keyOf(p))!);
      for (const p of v.items) if (DROPPED_PARAMS[target]?.includes(keyOf(p)) && !this.removePair(p)) this.note(p.key as Node, `${target}: drop ${keyOf(p)} (tsplay's ${target} does not take it)`);
      for (const p of v.items) {
        const alias = isScalar(p.value) && typeof p.value.value === 'string' ? VALUE_ALIASES[target]?.[renames.get(keyOf(p)) ?? keyOf(p)]?.[p.value.value] : undefined;
        if (alias) this.edit(p.value as Node, alias);
      }
      const groups = v.items.find((p) => keyOf(p) === 'groups');
      // `groups: docker,adm` is a list to Ansible's user module.
      if (target === 'user' && groups && isScalar(groups.value) && typeof groups.value.value === 'string' && !groups.value.value.includes('{{')) {
        this.edit(groups.value as Node, flowSeq(groups.value.value.split(',').map((g) => g.trim()).filter(Boolean)));
      }
    }
    if (isMap(v) && (short === 'assert')) {
      for (const p of v.items) {
        const k = keyOf(p);
        const pv = p.value as Node | null;
        if (!pv) continue;
        if (k === 'that') {
          if (isSeq(pv)) for (const i of pv.items) this.expression(i as Node);
          else this.expression(pv);
        } else this.value(pv, k);
      }
      return;
    }
    this.value(v, target);
  }

  /** A loop keyword: `with_items`/`with_list`/`with_dict` stay; the others become `loop:`. */
  loop(pair: Pair, k: string, task: YAMLMap): void {
    const v = pair.value as Node;
    if (['with_items', 'with_list', 'with_dict'].includes(k)) {
      this.value(v, k);
      return;
    }
    const kind = k.slice(5);
    const src = (n: Node | undefined): string | undefined => {
      if (!n) return undefined;
      if (isScalar(n) && typeof n.value === 'string') {
        const m = /^\s*\{\{(.*)\}\}\s*$/s.exec(n.value);
        const inner = m ? m[1]! : /^[A-Za-z_][\w.]*$/.test(n.value) ? n.value : undefined;
        if (inner === undefined) return JSON.stringify(n.value);
        const c = convertExpression(inner);
        return c.notes.length ? undefined : c.value.trim();
      }
      if (isSeq(n)) {
        const items = n.items.map((i) => src(i as Node));
        return items.every((i) => i !== undefined) ? `[${items.join(', ')}]` : undefined;
      }
      if (isScalar(n)) return JSON.stringify(n.value);
      return undefined;
    };
    const parts = isSeq(v) ? v.items.map((i) => src(i as Node)) : [];
    let js: string | undefined;
    if (kind === 'indexed_items') {
      const s = src(v);
      js = s && `${paren(s)}.flat().map((x, i) => [i, x])`;
    } else if (kind === 'together' && parts.length >= 2 && parts.every(Boolean)) {
      js = `${paren(parts[0]!)}.map((x, i) => [x, ${parts.slice(1).map((p) => `${paren(p!)}[i] ?? null`).join(', ')}])`;
    } else if (kind === 'nested' && parts.length === 2 && parts.every(Boolean)) {
      js = `${paren(parts[0]!)}.flatMap((x) => ${paren(parts[1]!)}.map((y) => [x, y]))`;
    } else if (kind === 'subelements' && isSeq(v) && v.items.length >= 2 && parts[0]) {
      const field = v.items[1];
      const f = isScalar(field) && typeof field.value === 'string' && /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(field.value) ? field.value : undefined;
      js = f && `${paren(parts[0])}.flatMap((x) => x.${f}.map((y) => [x, y]))`;
    } else if (kind === 'sequence' && isScalar(v) && typeof v.value === 'string') {
      js = sequenceJs(v.value);
    }
    if (js === undefined) {
      this.note(pair.key as Node, `${k} has no tsplay equivalent${['fileglob', 'first_found', 'file', 'lines', 'env', 'url', 'password', 'template', 'inventory_hostnames'].includes(kind) ? ` (it reads the controller: ${kind === 'fileglob' ? 'list the files in vars' : 'pass the values with vars or -e'})` : ''}: write loop: with the list`);
      return;
    }
    if (task.items.some((p) => keyOf(p) === 'loop')) {
      this.note(pair.key as Node, `${k} and loop in one task`);
      return;
    }
    const start = (pair.key as Node).range![0];
    const end = start + this.text.slice(start, v.range![1]).trimEnd().length;
    this.edits.push({ start, end, text: js.startsWith('[') ? `loop: ${js}` : `loop: ${JSON.stringify(`{{ ${js} }}`)}` });
  }

  /** A bare expression (`when:`): a string or a list of strings. */
  expression(v: Node): void {
    if (isSeq(v)) {
      for (const i of v.items) this.expression(i as Node);
      return;
    }
    if (!isScalar(v) || typeof v.value !== 'string') {
      if (isScalar(v) && v.type === 'PLAIN' && typeof v.value === 'string') this.plainScalar(v, undefined);
      return;
    }
    if (v.type === 'PLAIN' && convertPlain(String(v.source ?? v.value))) {
      this.plainScalar(v, undefined);
      return;
    }
    this.applyString(v, convertExpression(v.value), true);
  }

  /** Any value: scalars converted, maps and lists walked. */
  value(v: Node | null, key: string | undefined): void {
    if (!v) return;
    if (isMap(v)) {
      for (const p of v.items) this.value(p.value as Node | null, keyOf(p));
      return;
    }
    if (isSeq(v)) {
      for (const i of v.items) this.value(i as Node, key);
      return;
    }
    if (!isScalar(v)) return;
    if (v.type === 'PLAIN' && this.plainScalar(v, key)) return;
    if (typeof v.value === 'string') this.applyString(v, convertTemplate(v.value), false);
    if (isScalar(v) && typeof v.value === 'string' && /^\$ANSIBLE_VAULT/.test(v.value) === false && v.tag === '!vault') this.note(v, 'an inline !vault value: run tsplay with --vault-password-file');
  }

  /** `yes`/`no` and `0644` as Ansible read them; true when the scalar was rewritten. */
  private plainScalar(v: Scalar, _key: string | undefined): boolean {
    const source = this.text.slice(v.range![0], v.range![1]);
    const c = convertPlain(source);
    if (!c) return false;
    this.edit(v, typeof c.value === 'boolean' ? String(c.value) : JSON.stringify(c.value));
    return true;
  }

  private applyString(v: Scalar, c: Converted, expression: boolean): void {
    for (const n of c.notes) this.note(v, n);
    if (c.value === v.value) return;
    const source = this.text.slice(v.range![0], v.range![1]);
    if ((v.type === 'BLOCK_LITERAL' || v.type === 'BLOCK_FOLDED') && !expression) {
      // Edit inside the block, segment by segment: its layout stays.
      const edited = source.replace(/\{\{(-?)(.*?)(-?)\}\}/gs, (whole) => convertTemplate(whole).value);
      if (edited !== source) this.edit(v, edited);
      return;
    }
    this.edit(v, renderScalar(c.value, v.type, source));
  }
}

const keyOf = (p: Pair): string => (isScalar(p.key) ? String(p.key.value) : String(p.key));

const paren = (js: string) => (/^[\w$.[\]'"?]+$/.test(js) || /^\[.*\]$/.test(js) ? js : `(${js})`);

/** `with_sequence: start=1 end=5 stride=1 format=x%d` or `count=3` as JavaScript (Ansible yields strings). */
function sequenceJs(text: string): string | undefined {
  const kv = convertKeyValue(text.trim());
  const args = kv?.value ?? (/^\d+-\d+$/.test(text.trim()) ? { start: text.split('-')[0], end: text.split('-')[1] } : undefined);
  if (!args) return undefined;
  const num = (x: unknown) => (typeof x === 'string' && /^-?\d+$/.test(x) ? x : typeof x === 'string' && /^\{\{.*\}\}$/.test(x) ? `parseInt(${x.slice(2, -2).trim()}, 10)` : undefined);
  const start = args.start === undefined ? '1' : num(args.start);
  const stride = args.stride === undefined ? '1' : num(args.stride);
  const end = args.end !== undefined ? num(args.end) : args.count !== undefined && start ? `${start} + ${num(args.count)} - 1` : undefined;
  if (!start || !end || !stride || args.format !== undefined) return undefined;
  if ([start, end, stride].every((x) => /^-?\d+$/.test(x)) && Number(stride) > 0) {
    const items: string[] = [];
    for (let i = Number(start); i <= Number(end) && items.length <= 100; i += Number(stride)) items.push(JSON.stringify(String(i)));
    if (items.length <= 100) return `[${items.join(', ')}]`;
  }
  return `Array.from({ length: Math.floor((${end} - ${start}) / ${stride}) + 1 }, (_, i) => String(${start} + i * ${stride}))`;
}

/** A string as a YAML scalar, in the style it had when that is safe. */
export function renderScalar(value: string, type: Scalar['type'], _source: string): string {
  const oneLine = !value.includes('\n');
  if (type === 'PLAIN' && oneLine && value === value.trim() && value !== '' && plainSafe(value)) return value;
  if (type === 'QUOTE_SINGLE' && oneLine) return `'${value.replaceAll("'", "''")}'`;
  if (type === 'PLAIN' && oneLine && !value.includes("'") && !value.startsWith(' ')) return `'${value}'`;
  return JSON.stringify(value);
}

function plainSafe(value: string): boolean {
  if (/^[\s\-?:,[\]{}#&*!|>'"%@`]/.test(value) || /: |\s#|:$/.test(value)) return false;
  try {
    return parseYaml(`k: ${value}`)?.k === value;
  } catch {
    return false;
  }
}

/** A list of strings as a flow sequence (`[docker, adm]`). */
const flowSeq = (items: string[]) => `[${items.map((x) => (plainSafe(x) && !/[,{}[\]]/.test(x) ? x : JSON.stringify(x))).join(', ')}]`;

/** A mapping as a one-line flow mapping (`{ name: nginx, state: present }`). */
export function flowMap(m: Record<string, unknown>): string {
  const scalar = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(scalar).join(', ')}]`;
    if (typeof v === 'boolean' || typeof v === 'number') return String(v);
    const s = String(v);
    if (/^\d+$/.test(s) && !/^0\d/.test(s)) return s;
    return s !== '' && plainSafe(s) && !/[,{}[\]]/.test(s) && !/^(true|false|null|~|-?\d[\d.e+-]*)$/i.test(s) ? s : JSON.stringify(s);
  };
  return `{ ${Object.entries(m).map(([k, v]) => `${k}: ${scalar(v)}`).join(', ')} }`;
}

