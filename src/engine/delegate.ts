/**
 * delegate_to (and local_action, which is delegate_to: localhost): the host a task's commands
 * run on, for one host of the play. The task keeps the play host's variables (inventory_hostname
 * stays that host), its `register`, its counters and its place in the output; the delegate gives
 * the connection (its own inventory connection variables; localhost not in the inventory is the
 * controller), the become defaults, the fact cache and check mode's assumptions, since those
 * describe the machine the commands run on. With delegate_facts the facts a task gathers or sets
 * go to the delegate too (loop.ts).
 */
import { UserError } from '../core/errors.js';
import type { ModuleTask } from '../playbook/model.js';
import { render } from '../vars/expr.js';
import type { Scope } from '../vars/scope.js';
import { ensureConnection } from './connections.js';
import type { HostState } from './host.js';
import { hostScope, type Inherited } from './scope.js';
import type { PlayRun, RunState } from './state.js';

/**
 * The host a task item runs on for play host `h`: `h` itself, or its delegate (delegate_to
 * rendered with h's variables), connected. An unknown host is a UserError naming the nearest.
 */
export async function executingHost(run: RunState, ctx: PlayRun, t: ModuleTask, h: HostState, inh: Inherited, scope: Scope): Promise<HostState> {
  if (inh.delegateTo === undefined) {
    if (!t.module.local) await ensureConnection(run, h, scope);
    return h;
  }
  const rendered = render(inh.delegateTo, scope);
  run.noteSecrets(scope);
  const name = typeof rendered === 'string' || typeof rendered === 'number' ? String(rendered).trim() : '';
  if (!name) throw new UserError(`delegate_to: \`${inh.delegateTo}\` gave ${rendered === undefined || rendered === null || rendered === '' ? 'no host name' : 'something that is not a host name'}`);
  try {
    run.opts.inventory.host(name); // known, or the implicit localhost
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`delegate_to: ${e.diagnostics[0]?.message ?? e.message}`);
    throw e;
  }
  const d = run.host(name);
  if (!t.module.local && !d.conn) await ensureConnection(run, d, d === h ? scope : hostScope(run, ctx, d, t, inh));
  return d;
}

/** The delegate each host's items are running on, chained: see `onDelegate`. */
const queues = new WeakMap<HostState, Promise<unknown>>();

/**
 * Runs one delegated item on `on` after the items other play hosts delegated to it before.
 * Several play hosts delegating to one host share its fact cache: a fact one of them reads while
 * another's step changes the file could be cached stale, so their items take turns. Items that
 * are not delegated, and modules that never contact a host, run as before.
 */
export function onDelegate<T>(t: ModuleTask, inh: Inherited, on: HostState, fn: () => Promise<T>): Promise<T> {
  if (inh.delegateTo === undefined || t.module.local) return fn(); // a local module reads nothing there
  const before = queues.get(on) ?? Promise.resolve();
  const mine = before.then(fn);
  queues.set(on, mine.catch(() => undefined));
  return mine;
}
