/**
 * The module contract. A module is one file, no I/O of its own:
 *
 *   probe  (read-only facts: a shell command + a pure parser each; the engine batches them)
 *   plan   (pure: desired params vs facts -> steps, or "already in state" with a reason)
 *   apply  (the engine runs the planned steps: exec commands, atomic file writes)
 *
 * Check mode runs probe + plan and reports the plan. Diff mode prints `plan.diffs`.
 */
import { z } from 'zod';
import type { SourcePos } from './errors.js';

/** What an exec returned. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** A fact: one shell command and a pure parser of its output. */
export interface Fact<T = unknown> {
  /** Unique key, e.g. `stat:/etc/hosts` or `pkg:squid`. Used for batching and for check-mode assumptions. */
  key: string;
  /** A POSIX shell snippet; read-only. Its exit code is passed to parse (non-zero is not an error). */
  command: string;
  parse(out: ExecResult): T;
  /**
   * The same fact read in bulk: the engine reads these paths for every fact of a batch at once
   * (one `stat` for all paths, one `sha256sum` for all contents: facts/bulk.ts) and `render`
   * rebuilds from what was read exactly the output `command` would have printed, for `parse`.
   */
  bulk?: BulkForm;
}

/**
 * What a bulk fact needs read of a path (each is read with the same system calls as the fact's
 * own command):
 * - `lstat`: stat without following links (`stat -c`), `stat`: following them (`stat -L -c`);
 * - `target`: a link's target (`readlink`), `source`: its resolved path (`readlink -f`);
 * - `access`: whether the reading user may read, write, execute it (`[ -r ]`, `[ -w ]`, `[ -x ]`);
 * - `content`: a regular file's sha256 and, below `BULK_CONTENT_LIMIT`, its bytes (follows links).
 */
export type BulkOp = 'lstat' | 'stat' | 'target' | 'source' | 'access' | 'content';

/** Files at least this large are hashed but not fetched by the `content` bulk read. */
export const BULK_CONTENT_LIMIT = 1024 * 1024;

/** `stat --printf` fields of a path, as text: %F %a %u %g %U %G %s %X %Y %Z %i %h %d. */
export interface BulkStat {
  type: string;
  mode: string;
  uid: string;
  gid: string;
  user: string;
  group: string;
  size: string;
  atime: string;
  mtime: string;
  ctime: string;
  inode: string;
  nlink: string;
  dev: string;
}

/** What a bulk read found for one path (only the fields its ops asked for are set). */
export interface BulkPath {
  /** null: the stat failed (absent, or a directory on the way cannot be searched). */
  lstat?: BulkStat | null;
  stat?: BulkStat | null;
  target?: string;
  source?: string;
  /** Some of "rwx". */
  access?: string;
  /** Set for a regular file (after links): its sha256, and its bytes below the limit; or why not. */
  content?: { sha256: string; bytes?: Buffer } | { error: string };
}

export interface BulkForm {
  reads: Array<{ path: string; ops: BulkOp[] }>;
  /** The output the fact's own command would have printed, from what was read. */
  render(get: (path: string) => BulkPath): ExecResult;
}

export function fact<T>(key: string, command: string, parse: (out: ExecResult) => T, bulk?: BulkForm): Fact<T> {
  return bulk ? { key, command, parse, bulk } : { key, command, parse };
}

/** Run a command on the host. Non-zero exit (outside okCodes) fails the task. */
export interface ExecStep {
  kind: 'exec';
  cmd: string;
  /** Shown in check mode, progress and errors instead of the raw command. */
  description?: string;
  stdin?: string;
  okCodes?: number[];
  timeoutMs?: number;
  /**
   * What the command can change, in the words of fact keys (see src/engine/touches.ts):
   * `file:/etc/app.conf`, `pkg:nginx`, `unit:nginx.service`, `user:deploy`, `[]` for nothing.
   * Facts read before that it cannot have changed are reused. Absent: it may change anything.
   */
  touches?: string[];
}

/**
 * Write a file atomically: temp file in the target folder, optional validate, then rename.
 * With `expect`, the rename only happens if the target is still what the plan was made from.
 */
export interface PutStep {
  kind: 'put';
  path: string;
  content: string | Buffer;
  /** The target's state the plan was made from: its sha256, or absent. Checked just before the rename. */
  expect?: { sha256: string } | 'absent';
  mode?: string;
  owner?: string;
  group?: string;
  /** Command run on the temp file before it replaces the old one; `%s` is the temp path. */
  validate?: string;
  /** Keep a timestamped copy of the previous file. */
  backup?: boolean;
  description?: string;
}

export type Step = ExecStep | PutStep;

/** A file change shown by --diff. `null` content means the file does not exist (before) or is removed (after). */
export interface FileDiff {
  path: string;
  before: string | null;
  after: string | null;
  beforeMode?: string;
  afterMode?: string;
  beforeOwner?: string;
  afterOwner?: string;
}

export interface PlanNoop {
  changed: false;
  /** Why nothing needs to be done: "squid is already installed (5.7-2)". */
  reason: string;
  /** What `register` receives. */
  output?: Record<string, unknown>;
  /** Variables to set on the host (set_fact). */
  setFacts?: Record<string, unknown>;
  /** Variables read from files to add to the host (include_vars): templates, rendered when used. */
  includeVars?: IncludedVars[];
  /** Steps that run even in a noop plan but change nothing (e.g. command's read-only runs). Rare. */
  steps?: Step[];
  /**
   * Findings the user should see though they do not fail the task (a hardening finding, an
   * orphaned container). The engine emits each as a `warning` event with the host and the task.
   */
  warnings?: string[];
}

/** Variables include_vars read from one file (a layer of the host's variables). */
export interface IncludedVars {
  file: string;
  vars: Record<string, unknown>;
  pos?: (key: string) => SourcePos | undefined;
}

export interface PlanChange {
  changed: true;
  steps: Step[];
  /** One line per change, shown in check mode: "install squid", "add rule 80/tcp". */
  changes: string[];
  diffs?: FileDiff[];
  /** Facts that hold after apply; in check mode later tasks see these instead of probing. */
  assume?: Record<string, unknown>;
  output?: Record<string, unknown>;
  /** True when the steps must run in check mode too (never for state-changing modules). */
  runInCheckMode?: boolean;
  /** Like PlanNoop.warnings. */
  warnings?: string[];
}

export interface PlanFail {
  failed: true;
  msg: string;
}

export type Plan = PlanNoop | PlanChange | PlanFail;

export const noop = (reason: string, extra: Omit<PlanNoop, 'changed' | 'reason'> = {}): PlanNoop => ({ changed: false, reason, ...extra });
export const change = (changes: string | string[], steps: Step[], extra: Omit<PlanChange, 'changed' | 'steps' | 'changes'> = {}): PlanChange => ({
  changed: true,
  changes: Array.isArray(changes) ? changes : [changes],
  steps,
  ...extra,
});
export const failPlan = (msg: string): PlanFail => ({ failed: true, msg });

/** Host facts gathered by `setup` (see src/facts/gather.ts). */
export type HostFacts = Record<string, unknown>;

export interface PlanContext {
  host: string;
  check: boolean;
  diff: boolean;
  /** Facts gathered for the host (empty when gather_facts is off). */
  hostFacts: HostFacts;
  /** In check mode: changes that earlier tasks on this host would have made (for "pending" reasons). */
  pending: string[];
  /** Connection info, e.g. for install-ufw's "never lock out". */
  connection: { port: number; controllerAddress?: string; user?: string; local: boolean };
  /**
   * Evaluates a bare expression (like a `when:` condition) with the host's variables. Used by
   * `assert` (that:) and `debug` (var:), whose parameters are expressions, not templates.
   * Throws a UserError for a bad expression or an undefined variable.
   */
  evaluate?: (expr: string) => unknown;
}

export interface PrepareContext {
  host: string;
  /** Host variables (already resolved) for controller-side rendering. */
  vars: Record<string, unknown>;
  /** Finds a file in the role's and project's `templates/`, `files/` or `vars/` folder. */
  findFile(kind: 'templates' | 'files' | 'vars', name: string): string;
  /** Finds a folder like findFile (include_vars dir:). */
  findDir?(kind: 'vars', name: string): string;
  /** The files under a folder, sorted, `depth` levels down (0: all). */
  listFiles?(dir: string, depth: number): string[];
  /**
   * Reads a vars file (YAML or JSON; vault-encrypted whole or by value: its strings become
   * secrets). A UserError with file:line for a syntax error or a file that is not a mapping.
   */
  loadVars?(file: string): IncludedVars;
  /** Renders a template file (Jinja or EJS) with the host's variables. */
  renderTemplate(file: string, extraVars?: Record<string, unknown>): Promise<string>;
  /**
   * Reads a file found with findFile. A file encrypted with Ansible vault is decrypted, and its
   * text becomes a secret of the run (masked in output). Absent: read it as is.
   */
  readFile?(file: string): Promise<Buffer>;
  /** Aborts when the run is stopped (Ctrl-C): a long controller-side wait (pause) ends early. */
  signal?: AbortSignal;
}

export interface ModuleExample {
  title: string;
  /** The task as it appears in a playbook, e.g. `{ name: 'x', copy: {...} }`. */
  task: Record<string, unknown>;
}

export interface ModuleDef<S extends z.ZodType = z.ZodType, F extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  summary: string;
  description?: string;
  examples: ModuleExample[];
  params: S;
  /** Shape of what `register` receives. */
  output?: z.ZodType;
  /**
   * Some modules accept a bare string, like `command: ls -l`. Returns params for it.
   * Called only when the task's value is a string.
   */
  freeForm?: (text: string) => unknown;
  /**
   * Controller files the task needs (e.g. template's `src`): checked to exist (and templates to
   * compile) at validation time. Raw params: names may be templates, which are skipped.
   */
  localFiles?: (params: Record<string, unknown>) => Array<{ kind: 'templates' | 'files'; name: unknown }>;
  /**
   * Parameters that are bare expressions (like `when:`), e.g. assert's `that`: checked for
   * syntax and undefined names at validation time. Raw params; return [] when unsure.
   */
  expressions?: (params: Record<string, unknown>) => unknown[];
  /** Runs on the controller before probing (render a template, read a local file). */
  prepare?: (params: z.output<S>, ctx: PrepareContext) => Promise<z.output<S>> | z.output<S>;
  probe?: (params: z.output<S>) => { [K in keyof F]: Fact<F[K]> };
  plan: (params: z.output<S>, facts: F, ctx: PlanContext) => Plan;
  /** Builds the registered result from the exec results of the steps. */
  result?: (params: z.output<S>, facts: F, results: ExecResult[]) => Record<string, unknown>;
  /** Never contacts the host (debug, set_fact, assert, fail). */
  local?: boolean;
  /** Parameters whose values are secret by nature (passwords): masked in output. */
  secretParams?: string[];
}

/** Identity with types: `export default defineModule({...})`. */
export function defineModule<S extends z.ZodType, F extends Record<string, unknown> = Record<string, unknown>>(def: ModuleDef<S, F>): ModuleDef<S, F> {
  return def;
}

export type AnyModule = ModuleDef<z.ZodType, any>;

/** File mode as a string: "0644", "644", "u=rw,g=r,o=r". Numbers are rejected with a fix-it. */
export const octalMode = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? `mode must be a quoted string: write mode: "0${String(iss.input).padStart(3, '0')}" — an unquoted number is read as decimal/octal by YAML and would set the wrong permissions`
        : `mode must be an octal string like "0644" or symbolic like "u=rw,g=r,o=r" (got ${JSON.stringify(iss.input)})`,
  })
  .regex(/^(0?[0-7]{3,4}|([ugoa]*[-+=][rwxXst]*,?)+)$/, { error: (iss) => `mode must be an octal string like "0644" or symbolic like "u=rw,g=r,o=r" (got ${JSON.stringify(iss.input)})` });
