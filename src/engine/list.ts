/**
 * What a run would do, without running it (`--list-hosts`, `--list-tasks`, `--list-tags`): each
 * play's host pattern and the hosts it matches (after --limit), and its tasks with their tags
 * resolved (play, role, block and include tags inherited) and the --tags/--skip-tags selection
 * applied, as ansible-playbook lists them. Contacts no host: no connection is opened.
 */
import type { Playbook, Task } from '../playbook/model.js';
import { renderPlain } from './scope.js';
import { matchesTaskName, selected } from './select.js';
import { RunState, taskPos, type RunOptions } from './state.js';
import type { SourcePos } from '../core/errors.js';

export interface ListedTask {
  /** As ansible-playbook shows it: `role : name`, or the module name for a task without one. */
  name: string;
  module: string;
  /** Tags of the task with those it inherits, sorted, no duplicates. */
  tags: string[];
  pos?: SourcePos;
}

export interface ListedPlay {
  /** 1-based */
  index: number;
  name: string;
  /** The `hosts:` pattern as rendered. */
  pattern: string;
  hosts: string[];
  /** The play's own tags. */
  tags: string[];
  tasks: ListedTask[];
}

export function listPlaybook(pb: Playbook, opts: Pick<RunOptions, 'inventory' | 'registry' | 'limit' | 'tags' | 'skipTags' | 'startAtTask' | 'extraVars'>): ListedPlay[] {
  // A RunState for rendering `hosts:` with the extra vars and play vars; it opens no connection.
  const run = new RunState(pb, opts);
  let started = !opts.startAtTask;
  return pb.plays.map((play, i) => {
    const pattern = renderPlain(run, play.hosts, play);
    const nameOf = (p: typeof play) => {
      try {
        return renderPlain(run, p.name, p);
      } catch {
        return p.name;
      }
    };
    let hosts = opts.inventory.select(pattern, play.src.file.pos([...play.src.path, 'hosts']));
    if (opts.limit) {
      const allowed = new Set(opts.inventory.select(opts.limit));
      hosts = hosts.filter((n) => allowed.has(n));
    }
    const tasks: ListedTask[] = [];
    const walk = (list: Task[], inherited: string[], role: string | undefined) => {
      for (const t of list) {
        const tags = [...inherited, ...t.tags];
        if (t.kind === 'block') {
          for (const part of [t.block, t.rescue, t.always]) walk(part, tags, role);
        } else if (t.kind === 'include') {
          walk(t.tasks, tags, t.what === 'role' ? t.target : role);
        } else {
          if (!selected(opts, tags)) continue;
          const roleName = t.role?.name ?? role;
          const name = `${roleName ? `${roleName} : ` : ''}${t.name ?? t.moduleName}`;
          if (!started) {
            if (!matchesTaskName(t.name ?? t.moduleName, opts.startAtTask!)) continue;
            started = true;
          }
          tasks.push({ name, module: t.moduleName, tags: [...new Set(tags)].sort(), pos: taskPos(t) });
        }
      }
    };
    for (const section of [play.preTasks, play.tasks, play.postTasks]) walk(section, play.tags, undefined);
    return { index: i + 1, name: nameOf(play), pattern, hosts, tags: [...play.tags], tasks };
  });
}
