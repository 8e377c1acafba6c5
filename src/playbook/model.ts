/**
 * The loaded model: what `loadPlaybook` returns once everything is parsed and validated, and
 * what the engine executes. A run is "load + validate everything, then execute": nothing here
 * talks to a host.
 */
import type { z } from 'zod';
import type { BecomeMethod } from '../connection/types.js';
import type { SourcePos } from '../core/errors.js';
import type { AnyModule } from '../core/module.js';
import type { YamlFile, YamlPath } from '../yaml/source.js';

/** Where a piece of the model came from: a YAML file and a path inside it. */
export interface Src {
  file: YamlFile;
  path: YamlPath;
}

export function posOf(src: Src, key?: string): SourcePos {
  return key === undefined ? src.file.pos(src.path) : src.file.keyPos([...src.path, key]);
}

/** A map of variables together with where they came from (for explanations and positions). */
export interface VarsLayer {
  label: string;
  vars: Record<string, unknown>;
  file?: string;
  pos?: (key: string) => SourcePos | undefined;
  /** A vars_files entry chosen per host (its `vars` are empty here: see engine/vars-files.ts). */
  choice?: VarsFileChoice;
}

/**
 * A vars_files entry that is a list (Ansible: the first file found) or a templated name: for
 * each host, the candidates are rendered and the first that exists is read.
 */
export interface VarsFileChoice {
  /** As written, relative to the playbook's folder; may be templates. */
  candidates: string[];
  /** Where the entry is written. */
  pos: SourcePos;
  /** Every name a candidate may define (for validation; their type is unknown). */
  names: string[];
}

export interface TaskBase {
  /** Task name as written (may contain templates). */
  name?: string;
  src: Src;
  /** Expressions, all must be true (a list is an AND). */
  when: string[];
  tags: string[];
  become?: boolean;
  becomeUser?: string;
  /** How to become: sudo (the default) or su. */
  becomeMethod?: BecomeMethod;
  /** true/false, or an expression (`ignore_errors: "{{ expr }}"`, without the braces) evaluated per host. */
  ignoreErrors: boolean | string;
  /** Task (or block) vars. */
  vars?: VarsLayer;
  /** true/false, or an expression (`no_log: "{{ expr }}"`) evaluated per host; output is hidden until it is known. */
  noLog: boolean | string;
  /** Force check mode on (true) or off (false) for this task. */
  checkMode?: boolean;
  diff?: boolean;
  runOnce: boolean;
  /**
   * delegate_to (local_action gives `localhost`): the host the task runs on, for each host of
   * the play; an inventory host name or an expression rendered per host.
   */
  delegateTo?: string;
  /** delegate_facts: facts gathered or set by a delegated task go to the delegate. */
  delegateFacts?: boolean;
  /** Role the task belongs to (for role vars and file lookup). */
  role?: LoadedRole;
  loop?: unknown;
  loopVar: string;
  loopLabel?: string;
  /** loop_control.index_var: the name the item's index (0-based) is given. */
  loopIndexVar?: string;
  /** loop_control.pause: seconds to wait between items. */
  loopPause?: number;
  environment?: Record<string, unknown>;
}

export interface ModuleTask extends TaskBase {
  kind: 'module';
  moduleName: string;
  module: AnyModule;
  /** Raw parameters (may contain templates; rendered per host at run time). */
  args: unknown;
  register?: string;
  notify: string[];
  changedWhen?: string[];
  failedWhen?: string[];
  until?: string[];
  retries: number;
  delaySeconds: number;
}

export interface BlockTask extends TaskBase {
  kind: 'block';
  block: Task[];
  rescue: Task[];
  always: Task[];
}

/** include_tasks / include_role (and imports, which are the same here: resolved at load time). */
export interface IncludeTask extends TaskBase {
  kind: 'include';
  what: 'tasks' | 'role';
  target: string;
  tasks: Task[];
  /** Role-level handlers brought in by include_role. */
  handlers: Handler[];
}

export type Task = ModuleTask | BlockTask | IncludeTask;

export interface Handler extends ModuleTask {
  /** Topics this handler listens to (besides its name). */
  listen: string[];
}

export interface RoleRef {
  name: string;
  params: Record<string, unknown>;
  src: Src;
  when: string[];
  tags: string[];
}

export interface LoadedRole {
  name: string;
  dir: string;
  defaults: VarsLayer;
  vars: VarsLayer;
  /** Parameters given where the role is used (validated against the argument spec). */
  params: VarsLayer;
  tasks: Task[];
  handlers: Handler[];
  argumentSpec?: z.ZodType;
  /** Roles this one depends on (already expanded into the play before it). */
  dependencies: string[];
  /** Optional verification tasks (tasks/verify.yml) for `tsplay test`. */
  verifyTasks?: Task[];
}

export interface Play {
  name: string;
  hosts: string;
  src: Src;
  vars: VarsLayer;
  varsFiles: VarsLayer[];
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: BecomeMethod;
  gatherFacts: boolean;
  /** Roles in execution order, dependencies first. */
  roles: LoadedRole[];
  preTasks: Task[];
  /** Role tasks (as include nodes, in order) followed by the play's own tasks. */
  tasks: Task[];
  postTasks: Task[];
  handlers: Handler[];
  serial?: Array<number | string>;
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  /**
   * `free` (default): each host goes on to its next task without waiting for the others, except
   * where the play needs them together (engine/pipeline.ts); `linear`: every task waits for all
   * hosts (Ansible's default).
   */
  strategy: 'free' | 'linear';
  tags: string[];
  checkMode?: boolean;
  noLog: boolean;
}

export interface Playbook {
  file: string;
  dir: string;
  plays: Play[];
}
