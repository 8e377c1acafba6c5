/**
 * Connections and become: a host's connection opened from its connection variables on first
 * use (their passwords become secrets), the effective become user of a task, and which errors
 * mean "unreachable" or a failed connection-level step rather than a failed command.
 */
import { openConnection } from '../connection/index.js';
import { BecomeError, CommandTimeoutError, UnreachableError } from '../connection/types.js';
import { CONNECTION_VAR_NAMES, connectionVars } from '../inventory/connection.js';
import type { Scope } from '../vars/scope.js';
import type { HostState } from './host.js';
import type { RunState } from './state.js';

export async function ensureConnection(run: RunState, h: HostState, scope: Scope): Promise<void> {
  if (h.conn) return;
  const vars: Record<string, unknown> = {};
  for (const n of CONNECTION_VAR_NAMES) if (scope.has(n)) vars[n] = scope.get(n);
  run.noteSecrets(scope);
  h.connVars = connectionVars(h.name, vars, { pos: (k) => run.opts.inventory.varSource(h.name, k)?.pos });
  if (h.connVars.password) run.env.secrets.add(h.connVars.password);
  if (h.connVars.becomePassword) run.env.secrets.add(h.connVars.becomePassword);
  h.conn = (run.opts.connect ?? openConnection)(h.connVars);
}

export function effectiveBecome(hs: HostState, become: boolean | undefined, becomeUser: string | undefined): { user: string; password?: string } | undefined {
  const on = become ?? hs.connVars?.become ?? false;
  if (!on) return undefined;
  return { user: becomeUser ?? hs.connVars?.becomeUser ?? 'root', password: hs.connVars?.becomePassword };
}

/** Errors from the connection that mean "unreachable" rather than "failed". */
export function isUnreachable(e: unknown): e is UnreachableError {
  return e instanceof UnreachableError;
}

export function connectionFailureMessage(e: unknown): string | undefined {
  if (e instanceof BecomeError) return e.message;
  if (e instanceof CommandTimeoutError) return e.message;
  return undefined;
}
