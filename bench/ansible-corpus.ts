/**
 * How much public Ansible content tsplay reads (issue 13). Usage:
 *
 *   npx tsx bench/ansible-corpus.ts CORPUS_DIR [--json] [--markdown] [--extra-vars=FILE]
 *
 * FILE (default bench/ansible-corpus.extra-vars.yml) maps a project to the variables its users
 * pass with `-e` (a deployer's generated playbooks read a path it passes): `project: {name: value}`.
 * CORPUS_FAILURES=1 prints every task failing after migrate with its diagnostics (stderr).
 *
 * CORPUS_DIR holds one folder per project (a role, a collection, a repository of playbooks),
 * read locally and never committed. For each project it reports:
 * - inventories found and parsed (files named hosts*, inventory*, *.ini in inventory folders);
 * - tasks (and handlers) validating as they are, and after `tsplay migrate` on a temporary copy;
 * - silently wrong: tasks that validate while they still hold a Jinja/Python construct that
 *   JavaScript reads otherwise (`x | bool`, `x is defined`, `x in [..]`, `~`, True/None,
 *   lookup(), `and`/`or`/`not`, `//`) -- found by text patterns of its own, independent of the
 *   validator's parser (must be 0);
 * - for failures, the most common reasons and the modules they ask for.
 *
 * How tasks are validated: every playbook (with an inventory made of the groups it names), every
 * role (in a playbook of its own), then every task file no unit reached (through the role's
 * `import_role: tasks_from:`). Validation reports errors in rounds, so a failing task is replaced
 * by a `debug` task (keeping its name and register) and the unit validated again until it is
 * clean; each diagnostic counts against the task whose lines hold it.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parse, parseAllDocuments, type Node, type YAMLMap } from 'yaml';
import { UserError, type Diagnostic } from '../src/core/errors.js';
import { loadInventory } from '../src/inventory/model.js';
import { migratePath } from '../src/migrate/migrate.js';
import { BLOCK_KEYS } from '../src/playbook/keywords.js';
import { loadPlaybook } from '../src/playbook/load.js';
import type { Task } from '../src/playbook/model.js';
import { ANSIBLE_FILTERS } from '../src/vars/jinja.js';

interface TaskRef {
  file: string; // absolute, in the copy being validated
  index: number; // leaf task index in the file
  start: number; // 1-based lines
  end: number;
  text: string;
  register?: string;
  name?: string;
  listen?: string;
  indent: string;
}

interface TaskResult {
  ok: boolean;
  reasons: string[];
  modules: string[];
  silentlyWrong: string[];
  /** The diagnostics' own messages (for CORPUS_FAILURES). */
  raw: string[];
}

// ---------------------------------------------------------------------------------------------
// Finding things

const SKIP = new Set(['.git', '.github', 'node_modules', 'files', 'templates', 'molecule', 'tests', 'test', 'docs', '.tox', 'venv']);

function walkFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) walkFiles(p, out);
    } else out.push(p);
  }
  return out.sort();
}

function readDocs(file: string): unknown[] | undefined {
  try {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    if (!Array.isArray(docs) || docs.some((d) => d.errors.length)) return undefined;
    return docs.map((d) => d.toJS());
  } catch {
    return undefined;
  }
}

const isPlaybook = (docs: unknown[] | undefined) => !!docs?.length && docs.every((d) => Array.isArray(d) && d.length > 0 && d.every((p) => p && typeof p === 'object' && ('hosts' in p || 'import_playbook' in p)));

function findProject(dir: string): { playbooks: string[]; roles: string[]; inventories: string[]; taskFiles: string[] } {
  const files = walkFiles(dir);
  const roles = [...new Set(files.filter((f) => /\/tasks\/main\.ya?ml$/.test(f)).map((f) => dirname(dirname(f))))];
  const playbooks = files.filter((f) => /\.ya?ml$/.test(f) && !/\/(tasks|handlers|defaults|vars|meta|group_vars|host_vars)\//.test(f) && isPlaybook(readDocs(f)));
  const inventories = files.filter((f) => {
    const b = basename(f);
    if (/\/(group_vars|host_vars)\//.test(f)) return false;
    return /^(hosts|inventory)(\.(ini|ya?ml|cfg))?$/.test(b) || (/\/inventor(y|ies)\//.test(f) && /\.(ini|ya?ml)$/.test(b) && !/\.tera$/.test(b));
  });
  const taskFiles = files.filter((f) => /\.ya?ml$/.test(f) && roles.some((r) => f.startsWith(join(r, 'tasks') + '/') || f.startsWith(join(r, 'handlers') + '/')));
  for (const pb of playbooks) for (const t of playbookTaskFiles(pb)) if (!taskFiles.includes(t)) taskFiles.push(t);
  return { playbooks, roles, inventories, taskFiles };
}

/** A playbook, the task files it includes and the playbooks it imports (constant names), recursively. */
function reachOf(pb: string, seen = new Set<string>()): Set<string> {
  if (seen.has(pb)) return seen;
  for (const f of playbookTaskFiles(pb)) seen.add(f);
  for (const m of readFileSync(pb, 'utf8').matchAll(/(?:import_playbook|^\s*-?\s*include):\s*["']?([\w./-]+\.ya?ml)/gm)) {
    const f = resolve(dirname(pb), m[1]!);
    if (existsSync(f) && !seen.has(f)) reachOf(f, seen);
  }
  return seen;
}

/** Task files beside a playbook that it includes by a constant name (`include_tasks: x.yml`). */
function playbookTaskFiles(pb: string): string[] {
  const text = readFileSync(pb, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:include_tasks|import_tasks|include):\s*["']?([\w./-]+\.ya?ml)/g)) {
    const f = resolve(dirname(pb), m[1]!);
    if (existsSync(f)) out.push(f);
  }
  return [pb, ...out];
}

/** The blocks of a file: their lines and the lines of their own keywords (when:, become:, ...). */
function blocksOf(file: string): Array<{ start: number; end: number; keywordLines: Array<[number, number]> }> {
  const text = readFileSync(file, 'utf8');
  const lc = new LineCounter();
  const out: Array<{ start: number; end: number; keywordLines: Array<[number, number]> }> = [];
  const line = (off: number) => lc.linePos(off).line;
  const visit = (n: unknown): void => {
    if (isSeq(n)) for (const i of n.items) visit(i);
    else if (isMap(n)) {
      const keys = n.items.map((p) => String((p.key as { value?: unknown })?.value ?? p.key));
      if (keys.some((k) => (BLOCK_KEYS as readonly string[]).includes(k))) {
        const keywordLines = n.items
          .filter((p) => !['block', 'rescue', 'always', 'name'].includes(String((p.key as { value?: unknown }).value)))
          .map((p) => [line((p.key as Node).range![0]), line(Math.max((p.key as Node).range![0], ((p.value as Node | null)?.range?.[1] ?? (p.key as Node).range![1]) - 1))] as [number, number]);
        out.push({ start: line(n.range![0]), end: line(Math.max(n.range![0], n.range![1] - 1)), keywordLines });
      }
      for (const p of n.items) visit(p.value);
    }
  };
  for (const d of parseAllDocuments(text, { lineCounter: lc }) as Array<{ contents: unknown }>) visit(d.contents);
  return out;
}

/** Blanks lines of a file (the copy only), keeping every other line where it was. */
function blankLines(file: string, ranges: Array<[number, number]>): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [s, e] of ranges) for (let i = s; i <= e; i++) lines[i - 1] = '';
  writeFileSync(file, lines.join('\n'));
}

/** Leaf tasks (blocks opened) of a task file or a playbook's task lists, with their lines. */
function leafTasks(file: string): TaskRef[] {
  const text = readFileSync(file, 'utf8');
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  const out: TaskRef[] = [];
  if (!Array.isArray(docs)) return out;
  const line = (off: number) => lc.linePos(off).line;
  const visitList = (n: Node | null | undefined) => {
    if (!isSeq(n)) return;
    for (const t of n.items) if (isMap(t)) visitTask(t);
  };
  const visitTask = (t: YAMLMap) => {
    const keys = t.items.map((p) => String((p.key as { value?: unknown })?.value ?? p.key));
    if (keys.some((k) => (BLOCK_KEYS as readonly string[]).includes(k))) {
      for (const p of t.items) if ((BLOCK_KEYS as readonly string[]).includes(String((p.key as { value?: unknown }).value))) visitList(p.value as Node);
      return;
    }
    const get = (k: string) => {
      const v = t.get(k);
      return typeof v === 'string' ? v : undefined;
    };
    const start = line(t.range![0]);
    const end = line(Math.max(t.range![0], t.range![1] - 1));
    const lineStart = text.lastIndexOf('\n', t.range![0] - 1) + 1;
    out.push({ file, index: out.length, start, end, text: text.slice(t.range![0], t.range![1]), register: get('register'), name: get('name'), listen: get('listen'), indent: text.slice(lineStart, t.range![0]) });
  };
  for (const d of docs) {
    const c = d.contents as Node | null;
    if (!isSeq(c)) continue;
    const plays = c.items.filter(isMap) as YAMLMap[];
    if (plays.some((p) => p.has('hosts'))) {
      for (const p of plays) for (const k of ['pre_tasks', 'tasks', 'post_tasks', 'handlers']) visitList(p.get(k, true) as Node);
    } else visitList(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validating

interface Unit {
  /** The playbook to load (maybe written into the copy). */
  playbook: string;
  inventory?: string;
  rolesPath: string[];
  /** What a user passes with `-e` for this project (--extra-vars). */
  extraVars?: Record<string, unknown>;
}

/** Loads a unit; diagnostics (errors) with absolute positions, and the task files it reached when it loaded. */
async function validate(u: Unit): Promise<{ diags: Diagnostic[]; reached: Set<string> }> {
  try {
    const inventory = loadInventory(u.inventory ? [u.inventory] : [], { playbookDir: dirname(u.playbook) });
    const { playbook } = await loadPlaybook(u.playbook, { inventory, rolesPath: u.rolesPath, extraVars: u.extraVars });
    const reached = new Set<string>();
    const walk = (ts: Task[]) => {
      for (const t of ts) {
        reached.add(t.src.file.file);
        if (t.kind === 'block') walk([...t.block, ...t.rescue, ...t.always]);
        if (t.kind === 'include') walk([...t.tasks, ...t.handlers]);
      }
    };
    for (const p of playbook.plays) {
      walk([...p.preTasks, ...p.tasks, ...p.postTasks, ...p.handlers]);
      for (const r of p.roles) walk([...r.tasks, ...r.handlers]);
    }
    return { diags: [], reached };
  } catch (e) {
    if (e instanceof UserError) return { diags: e.diagnostics.filter((d) => d.severity === 'error'), reached: new Set() };
    return { diags: [{ severity: 'error', message: `crash: ${(e as Error).message.split('\n')[0]}` }], reached: new Set() };
  }
}

/** Replaces a task by a debug task with its name, register and listen (the copy only). */
function neutralize(t: TaskRef): void {
  const lines = readFileSync(t.file, 'utf8').split('\n');
  const pad = ' '.repeat(t.indent.length);
  const body = [`name: ${JSON.stringify(t.name ?? 'neutralized')}`, 'debug: { msg: neutralized }'];
  if (t.register) body.push(`register: ${t.register}`);
  if (t.listen) body.push(`listen: ${JSON.stringify(t.listen)}`);
  const first = lines[t.start - 1]!;
  const dash = first.slice(0, first.length - first.trimStart().length);
  const startsWithDash = first.trimStart().startsWith('- ');
  const repl = body.map((b, i) => (i === 0 ? (startsWithDash ? `${dash}- ${b}` : `${first.slice(0, t.indent.length)}${b}`) : `${pad}${b}`));
  lines.splice(t.start - 1, t.end - t.start + 1, ...repl, ...Array(Math.max(0, t.end - t.start + 1 - repl.length)).fill(''));
  writeFileSync(t.file, lines.join('\n'));
}

/** The reason of a diagnostic without its particulars (names, values), for counting. */
function reasonOf(d: Diagnostic): { reason: string; module?: string } {
  const m = /unknown module "([^"]+)"/.exec(d.message);
  if (m) return { reason: 'unknown module', module: m[1]!.replace(/^(ansible\.(builtin|posix)|community\.general)\./, '') };
  let r = d.message.replace(/^task "[^"]*": /, '').replace(/^[\w.]+: (?=`)/, '');
  r = r.split(/; (write|did you mean|use|tsplay has)/)[0]!;
  r = r.replace(/`[^`]*`/g, '`…`').replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
  return { reason: r.slice(0, 110) };
}

/** Validates units until no new task fails; returns each task's result by "file#index". */
async function validateProject(dir: string, files: ReturnType<typeof findProject>, tmp: string, extraVars?: Record<string, unknown>): Promise<Map<string, TaskResult>> {
  const results = new Map<string, TaskResult>();
  const tasksOf = new Map<string, TaskRef[]>();
  for (const f of files.taskFiles) tasksOf.set(f, leafTasks(f));
  for (const [f, ts] of tasksOf) for (const t of ts) results.set(`${f}#${t.index}`, { ok: true, reasons: [], modules: [], silentlyWrong: [], raw: [] });
  const done = new Set<string>();

  const runUnit = async (u: Unit, scope: (f: string) => boolean) => {
    const failed = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const { diags, reached } = await validate(u);
      if (!diags.length) {
        for (const f of reached) if (tasksOf.has(f)) done.add(f);
        return;
      }
      let progress = false;
      const unattributed: Diagnostic[] = [];
      for (const d of diags) {
        if (process.env.CORPUS_DEBUG === '2') process.stderr.write(`  ${d.pos ? `${d.pos.file}:${d.pos.line}: ` : ''}${d.message}\n`);
        const file = d.pos?.file;
        const ts = file ? tasksOf.get(file) : undefined;
        const hit = ts?.filter((t) => d.pos!.line >= t.start && d.pos!.line <= t.end);
        let targets = hit?.length ? hit.slice(-1) : [];
        // A block's own keyword (its when:): every task of the block fails, and the keywords go.
        if (!targets.length && file && ts) {
          const block = blocksOf(file).filter((b) => d.pos!.line >= b.start && d.pos!.line <= b.end).at(-1);
          if (block) {
            targets = ts.filter((t) => t.start >= block.start && t.end <= block.end);
            blankLines(file, block.keywordLines);
          }
        }
        if (!targets.length && file && /\.(j2|ejs)$/.test(file)) targets = [...tasksOf.values()].flat().filter((t) => scope(t.file) && t.text.includes(basename(file)));
        if (!targets.length) {
          unattributed.push(d);
          continue;
        }
        for (const t of targets) {
          const key = `${t.file}#${t.index}`;
          const r = results.get(key)!;
          const { reason, module } = reasonOf(d);
          r.ok = false;
          if (!r.reasons.includes(reason)) r.reasons.push(reason);
          if (!r.raw.includes(d.message)) r.raw.push(d.message);
          if (module && !r.modules.includes(module)) r.modules.push(module);
          if (!failed.has(key)) {
            failed.add(key);
            progress = true;
          }
        }
      }
      if (process.env.CORPUS_DEBUG === '2') for (const d of unattributed) process.stderr.write(`  unattributed: ${d.pos ? `${d.pos.file}:${d.pos.line}: ` : ''}${d.message}\n`);
      if (!progress) {
        // Errors outside any task (a role's defaults, the play): every task in scope not yet judged fails with them.
        for (const [f, ts] of tasksOf) {
          if (!scope(f) || done.has(f)) continue;
          for (const t of ts) {
            const r = results.get(`${f}#${t.index}`)!;
            if (failed.has(`${f}#${t.index}`)) continue;
            r.ok = false;
            for (const d of unattributed.slice(0, 2)) {
              r.reasons.push(`(outside the task) ${reasonOf(d).reason}`);
              r.raw.push(`(outside the task) ${d.pos ? `${basename(d.pos.file)}:${d.pos.line}: ` : ''}${d.message}`);
            }
          }
          done.add(f);
        }
        return;
      }
      // Replace the failing tasks (bottom up per file) and go again.
      const byFile = new Map<string, TaskRef[]>();
      for (const key of failed) {
        const [f, i] = [key.slice(0, key.lastIndexOf('#')), Number(key.slice(key.lastIndexOf('#') + 1))];
        const t = leafTasks(f)[i];
        if (t && !t.text.includes('neutralized')) byFile.set(f, [...(byFile.get(f) ?? []), t]);
      }
      for (const ts of byFile.values()) for (const t of ts.sort((a, b) => b.start - a.start)) neutralize(t);
      for (const f of byFile.keys()) tasksOf.set(f, leafTasks(f));
    }
  };

  // A playbook's error outside its tasks blocks what it reaches: its own task files and the
  // playbooks it imports, and the roles beside it -- not the other playbooks of its folder.
  const reach = new Map(files.playbooks.map((pb) => [pb, reachOf(pb)]));
  const playbookFiles = new Set([...reach.values()].flatMap((r) => [...r]));
  for (const pb of files.playbooks) {
    const inv = join(tmp, `inventory-${basename(pb)}.yml`);
    writeFileSync(inv, inventoryFor(pb));
    const mine = reach.get(pb)!;
    await runUnit({ playbook: pb, inventory: inv, rolesPath: [join(dir, 'roles')], extraVars }, (f) => !done.has(f) && (mine.has(f) || (f.startsWith(dirname(pb) + '/') && !playbookFiles.has(f))));
  }
  for (const role of files.roles) {
    if (files.taskFiles.filter((f) => f.startsWith(role + '/')).every((f) => done.has(f))) continue;
    const pb = join(tmp, `role-${basename(role)}.yml`);
    writeFileSync(pb, `- hosts: all\n  roles:\n    - ${basename(role)}\n`);
    await runUnit({ playbook: pb, rolesPath: [dirname(role)], extraVars }, (f) => f.startsWith(role + '/') && !done.has(f));
  }
  // Task files no unit reached: each through its role's tasks_from.
  for (const f of files.taskFiles) {
    if (done.has(f)) continue;
    const role = files.roles.find((r) => f.startsWith(join(r, 'tasks') + '/'));
    if (!role) continue;
    const pb = join(tmp, `file-${basename(role)}-${basename(f)}.yml`);
    writeFileSync(pb, `- hosts: all\n  tasks:\n    - import_role: { name: ${basename(role)}, tasks_from: ${JSON.stringify(relative(join(role, 'tasks'), f))} }\n`);
    await runUnit({ playbook: pb, rolesPath: [dirname(role)], extraVars }, (x) => x === f);
    done.add(f);
  }
  // Files never reached (a handler file of a role that failed early is judged with its role).
  return results;
}

/** An inventory with one host in every group a playbook's plays name. */
function inventoryFor(pb: string): string {
  const groups = new Set<string>();
  for (const d of readDocs(pb) ?? []) {
    for (const p of (d as Array<Record<string, unknown>>) ?? []) {
      const h = typeof p.hosts === 'string' ? p.hosts : Array.isArray(p.hosts) ? p.hosts.join(':') : '';
      for (const g of h.split(/[:,&!\s]+/)) if (/^[A-Za-z_][\w-]*$/.test(g) && g !== 'all' && g !== 'localhost') groups.add(g);
    }
  }
  const children = Object.fromEntries([...groups].map((g, i) => [g, { hosts: { [`h${i}`]: {} } }]));
  return JSON.stringify({ all: { hosts: { h: {} }, children } });
}

// ---------------------------------------------------------------------------------------------
// Silently wrong: Jinja/Python constructs left in a task that validates

const FILTER_RE = new RegExp(String.raw`(?<!\|)\|(?!\|)\s*(?:ansible\.builtin\.)?(${[...ANSIBLE_FILTERS].join('|')})\b`);
const CONSTRUCTS: Array<[string, RegExp]> = [
  ['Jinja filter', FILTER_RE],
  ['Jinja test (is ...)', /\bis\s+(not\s+)?[a-z_]+\b/],
  ['Python in (list/string)', /\bin\s+(\[|'|"|group_names\b|groups\[)/],
  ['Jinja ~', /[\w)\]'"]\s*~\s*[\w('"]/],
  ['Python True/False/None', /(?<![\w.$'"])(True|False|None)(?![\w$])/],
  ['lookup()', /\b(lookup|query)\s*\(/],
  ['Python and/or/not', /(?<![\w.$])(and|or|not)\s/],
  ['Jinja //', /\w\s*\/\/\s*\w/],
];
const EXPR_KEYS = new Set(['when', 'changed_when', 'failed_when', 'until', 'that']);

/** The expressions of a task: bare ones (when:, that:) and every `{{ }}` of its strings. */
function expressionsOf(value: unknown, key?: string, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (key && EXPR_KEYS.has(key) && !value.includes('{{')) out.push(value);
    for (const m of value.matchAll(/\{\{(.*?)\}\}/gs)) out.push(m[1]!);
  } else if (Array.isArray(value)) for (const v of value) expressionsOf(v, key, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) expressionsOf(v, EXPR_KEYS.has(key ?? '') ? key : k, out);
  return out;
}

const maskStrings = (s: string) => s.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, (q) => q[0] + 'x'.repeat(Math.max(0, q.length - 2)) + q[0]);

export function constructsIn(taskText: string): string[] {
  let value: unknown;
  try {
    value = parseAllDocuments(taskText.replace(/^\s*-\s/, '  '))[0]?.toJS();
  } catch {
    return [];
  }
  const found = new Set<string>();
  for (const e of expressionsOf(value)) {
    const masked = maskStrings(e);
    for (const [name, re] of CONSTRUCTS) if (re.test(name === 'Python in (list/string)' ? e : masked)) found.add(name);
  }
  return [...found];
}

// ---------------------------------------------------------------------------------------------

interface Row {
  project: string;
  inventories: string;
  tasks: number;
  /** Tasks holding a Jinja/Python construct before migrate (what validation must refuse). */
  withConstructs: number;
  asIs: number;
  migrated: number;
  wrongAsIs: number;
  wrongMigrated: number;
  /** Tasks failing after migrate with no migrate note inside them (migrate's promise: 0). */
  unannounced: number;
  reasons: Array<[string, number]>;
  modules: Array<[string, number]>;
}

async function measure(project: string, root: string, extraVars: Record<string, Record<string, unknown>>): Promise<Row> {
  const row: Row = { project, inventories: '', tasks: 0, withConstructs: 0, asIs: 0, migrated: 0, wrongAsIs: 0, wrongMigrated: 0, unannounced: 0, reasons: [], modules: [] };
  const reasons = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const pass of ['as-is', 'migrated'] as const) {
    const tmp = mkdtempSync(join(tmpdir(), 'tsplay-corpus-'));
    if (process.env.CORPUS_DEBUG) process.stderr.write(`=== ${project} ${pass}\n`);
    try {
      const copy = join(tmp, project);
      cpSync(realpathSync(root), copy, { recursive: true, dereference: true, filter: (s) => !s.includes('/.git') });
      const notes = new Map<string, number[]>();
      if (pass === 'migrated') for (const n of migratePath(copy).notes) notes.set(join(copy, n.file), [...(notes.get(join(copy, n.file)) ?? []), n.line]);
      const ranges = new Map<string, [number, number]>();
      const files = findProject(copy);
      if (pass === 'as-is') {
        let parsed = 0;
        for (const inv of files.inventories) {
          try {
            const i = loadInventory([inv], {});
            if (!i.diagnostics.some((d) => d.severity === 'error')) parsed++;
          } catch {
            /* counted as not parsed */
          }
        }
        row.inventories = `${parsed}/${files.inventories.length}`;
      }
      const texts = new Map<string, string>();
      for (const f of files.taskFiles) {
        for (const t of leafTasks(f)) {
          texts.set(`${f}#${t.index}`, t.text);
          ranges.set(`${f}#${t.index}`, [t.start, t.end]);
        }
      }
      if (pass === 'as-is') row.withConstructs = [...texts.values()].filter((t) => constructsIn(t).length).length;
      const results = await validateProject(copy, files, tmp, extraVars[project]);
      let ok = 0;
      let wrong = 0;
      for (const [key, r] of results) {
        if (!r.ok) {
          if (pass === 'migrated') {
            const [file, [a, b]] = [key.slice(0, key.lastIndexOf('#')), ranges.get(key)!];
            if (!(notes.get(file) ?? []).some((l) => l >= a && l <= b) && !r.reasons.some((x) => x.startsWith('(outside the task)'))) {
              row.unannounced++;
              if (process.env.CORPUS_DEBUG) process.stderr.write(`unannounced ${relative(tmp, key)}: ${r.reasons.join(' | ')}\n`);
            }
            if (process.env.CORPUS_FAILURES) process.stderr.write(`failing ${relative(tmp, key)}: ${r.raw.map((x) => x.split('\n')[0]).join(' | ')}\n`);
            for (const x of r.reasons) reasons.set(x, (reasons.get(x) ?? 0) + 1);
            for (const m of r.modules) modules.set(m, (modules.get(m) ?? 0) + 1);
          }
          continue;
        }
        ok++;
        const c = constructsIn(texts.get(key) ?? '');
        if (c.length) {
          wrong++;
          if (process.env.CORPUS_DEBUG) process.stderr.write(`silently wrong (${pass}) ${relative(tmp, key)}: ${c.join(', ')}\n`);
        }
      }
      row.tasks = results.size;
      if (pass === 'as-is') [row.asIs, row.wrongAsIs] = [ok, wrong];
      else [row.migrated, row.wrongMigrated] = [ok, wrong];
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  row.reasons = top(reasons, 4);
  row.modules = top(modules, 5);
  return row;
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(0)}%` : '-');

function markdown(rows: Row[]): string {
  const total = rows.reduce((t, r) => ({ ...t, tasks: t.tasks + r.tasks, withConstructs: t.withConstructs + r.withConstructs, asIs: t.asIs + r.asIs, migrated: t.migrated + r.migrated, wrongAsIs: t.wrongAsIs + r.wrongAsIs, wrongMigrated: t.wrongMigrated + r.wrongMigrated, unannounced: t.unannounced + r.unannounced }), { tasks: 0, withConstructs: 0, asIs: 0, migrated: 0, wrongAsIs: 0, wrongMigrated: 0, unannounced: 0 });
  const lines = [
    '| project | inventories parsed | tasks | with Jinja/Python constructs | validate as-is | after migrate | silently wrong (as-is / after) | failing after migrate, not announced |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.project} | ${r.inventories} | ${r.tasks} | ${r.withConstructs} | ${pct(r.asIs, r.tasks)} | ${pct(r.migrated, r.tasks)} | ${r.wrongAsIs} / ${r.wrongMigrated} | ${r.unannounced} |`),
    `| **total** | | ${total.tasks} | ${total.withConstructs} | ${pct(total.asIs, total.tasks)} | ${pct(total.migrated, total.tasks)} | ${total.wrongAsIs} / ${total.wrongMigrated} | ${total.unannounced} |`,
    '',
    '| project | top failure reasons after migrate (tasks) | top missing modules (tasks) |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.project} | ${r.reasons.map(([k, n]) => `${k.replaceAll('|', '\\|')} (${n})`).join('; ')} | ${r.modules.map(([k, n]) => `${k} (${n})`).join(', ')} |`),
  ];
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  if (!dir) {
    process.stderr.write('usage: tsx bench/ansible-corpus.ts CORPUS_DIR [--json]\n');
    process.exit(1);
  }
  const evFile = args.find((a) => a.startsWith('--extra-vars='))?.slice('--extra-vars='.length) ?? join(import.meta.dirname, 'ansible-corpus.extra-vars.yml');
  const extraVars = (existsSync(evFile) ? parse(readFileSync(evFile, 'utf8')) : {}) as Record<string, Record<string, unknown>>;
  const projects = readdirSync(dir).filter((p) => statSync(join(dir, p)).isDirectory()).sort();
  const rows: Row[] = [];
  for (const p of projects) {
    rows.push(await measure(p, resolve(dir, p), extraVars));
    process.stderr.write(`${p}: done\n`);
  }
  if (args.includes('--json')) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else process.stdout.write(markdown(rows));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
