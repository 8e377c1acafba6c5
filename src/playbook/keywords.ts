/** The keywords a play, a task, a block and a handler accept (everything else in a task is its module). */

export const PLAY_KEYWORDS = [
  'name', 'hosts', 'vars', 'vars_files', 'become', 'become_user', 'gather_facts', 'roles', 'pre_tasks', 'tasks',
  'post_tasks', 'handlers', 'become_method', 'serial', 'max_fail_percentage', 'any_errors_fatal', 'tags', 'check_mode', 'no_log',
  'import_playbook', 'environment', 'remote_user', 'connection', 'strategy', 'collections', 'module_defaults',
] as const;

export const TASK_KEYWORDS = [
  'name', 'when', 'loop', 'with_items', 'with_list', 'with_dict', 'loop_control', 'register', 'notify', 'tags', 'become',
  'become_user', 'ignore_errors', 'changed_when', 'failed_when', 'check_mode', 'diff', 'no_log', 'vars', 'run_once',
  'environment', 'until', 'retries', 'delay', 'args', 'listen', 'delegate_to', 'delegate_facts', 'local_action', 'become_method',
] as const;

export const BLOCK_KEYS = ['block', 'rescue', 'always'] as const;
export const INCLUDE_KEYS = ['include_tasks', 'import_tasks', 'include_role', 'import_role'] as const;

/** Keywords that are accepted but not meaningful in tsplay; a warning explains. */
export const IGNORED_PLAY_KEYWORDS: Record<string, string> = {
  collections: 'tsplay has no collections; modules come from the registry',
  module_defaults: 'not supported yet',
};

export const TASK_KEYWORD_SET = new Set<string>([...TASK_KEYWORDS, ...BLOCK_KEYS, ...INCLUDE_KEYS]);
