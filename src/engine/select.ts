/**
 * Which tasks run and where: tag selection (--tags, --skip-tags, always/never), the task
 * --start-at-task names, and the hosts for which a block's or include's `when` holds.
 */
import { UserError } from '../core/errors.js';
import type { Task } from '../playbook/model.js';
import type { HostState } from './host.js';
import { condition } from './params.js';
import { hostScope, type Inherited } from './scope.js';
import type { PlayRun, RunOptions, RunState } from './state.js';

/** Tag selection, like ansible-playbook: always runs unless skipped, never only when asked. */
export function selected(opts: Pick<RunOptions, 'tags' | 'skipTags'>, tags: string[]): boolean {
  const { tags: only, skipTags } = opts;
  if (skipTags?.length && tags.some((t) => skipTags.includes(t))) return false;
  if (tags.includes('never') && !(only?.length && tags.some((t) => only.includes(t) && t !== 'never'))) return false;
  if (!only?.length || only.includes('all')) return true;
  return tags.includes('always') || tags.some((t) => only.includes(t));
}

/** --start-at-task: the name, or a pattern with * and ?. */
export function matchesTaskName(name: string, pattern: string): boolean {
  if (!/[*?]/.test(pattern)) return name === pattern;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

/** Hosts for which a block's / include's `when` holds; a host whose `when` fails to evaluate fails. */
export function filterWhen(run: RunState, ctx: PlayRun, t: Task, hosts: HostState[], inh: Inherited): HostState[] {
  if (!t.when.length) return hosts;
  const out: HostState[] = [];
  for (const h of hosts) {
    try {
      if (t.when.every((c) => condition(c, hostScope(run, ctx, h, t, inh), 'when'))) out.push(h);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      run.failTask(h, t, e.diagnostics[0]?.message ?? e.message);
    }
  }
  return out;
}
