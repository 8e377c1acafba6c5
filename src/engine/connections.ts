/**
 * Connections and become: a host's connection opened from its connection variables on first
 * use (their passwords become secrets), the effective become user of a task, and which errors
 * mean "unreachable" or a failed connection-level step rather than a failed command.
 */
import { openConnection } from '../connection/index.js';
import { BECOME_METHODS, BecomeError, CommandTimeoutError, UnreachableError, type BecomeMethod, type Connection } from '../connection/types.js';
import { UserError } from '../core/errors.js';
import { isSecret } from '../core/secret.js';
import { SshConfigFiles, where } from '../connection/ssh-config.js';
import { BECOME_METHOD_VARS, CONNECTION_VAR_NAMES, connectionVars, type SshConfigOptions } from '../inventory/connection.js';
import type { Scope } from '../vars/scope.js';
import type { Become } from './fact-reader.js';
import type { HostState } from './host.js';
import type { Inherited } from './scope.js';
import type { RunState } from './state.js';

export async function ensureConnection(run: RunState, h: HostState, scope: Scope): Promise<void> {
  if (h.conn) return;
  const vars: Record<string, unknown> = {};
  for (const n of CONNECTION_VAR_NAMES) if (scope.has(n)) vars[n] = scope.get(n);
  run.noteSecrets(scope);
  h.connVars = connectionVars(h.name, vars, { pos: (k) => run.opts.inventory.varSource(h.name, k)?.pos, defaults: run.opts.connectionDefaults, ssh: sshConfigOf(run) });
  if (h.connVars.password) run.env.secrets.add(h.connVars.password);
  if (h.connVars.becomePassword) run.env.secrets.add(h.connVars.becomePassword);
  const conn = (run.opts.connect ?? openConnection)(h.connVars);
  h.conn = watchFirstContact(run, (run.opts.verbosity ?? 0) >= 2 ? traced(run, h, conn) : conn);
}

/** The run's ssh config files (read once) and the options of theirs already warned about. */
const sshConfigs = new WeakMap<RunState, SshConfigOptions>();

/**
 * ~/.ssh/config and /etc/ssh/ssh_config, read once per run. An option tsplay does not honour is
 * a warning once per run (where it is written), not once per host.
 */
function sshConfigOf(run: RunState): SshConfigOptions {
  let o = sshConfigs.get(run);
  if (!o) {
    const warned = new Set<string>();
    o = {
      configs: new SshConfigFiles(),
      files: SshConfigFiles.defaultFiles(),
      ignored: (notes) => {
        for (const n of notes) {
          const msg = `${where(n.pos)}: ${n.keyword} is ignored (tsplay does not support it${n.why ? `: ${n.why}` : ''})`;
          if (warned.has(msg)) continue;
          warned.add(msg);
          run.bus.emit({ type: 'warning', msg });
        }
      },
    };
    sshConfigs.set(run, o);
  }
  return o;
}

/**
 * Lines of base64 (file contents that facts read to compare) are not shown: a secret the masker
 * knows would not be recognised in them.
 */
function withoutFileContent(lines: string[]): string[] {
  const out: string[] = [];
  let hidden = 0;
  const flush = () => {
    if (hidden) out.push(`(${hidden} line(s) of base64 file content not shown)`);
    hidden = 0;
  };
  for (const l of lines) {
    if (/^[A-Za-z0-9+/]{16,}={0,2}$/.test(l) && !/^[0-9a-f]+$/.test(l)) hidden++;
    else {
      flush();
      out.push(l);
    }
  }
  flush();
  return out;
}

/** Output lines shown per stream at -vvv. */
const TRACE_OUTPUT_LINES = 40;

/**
 * -vv / -vvv: the connection, telling the bus (which masks secrets) what it runs (events.ts
 * `trace`). Commands of a no_log task are replaced by a note.
 */
function traced(run: RunState, h: HostState, conn: Connection): Connection {
  const level = run.opts.verbosity ?? 0;
  const trace = (lvl: 2 | 3, kind: 'connect' | 'exec' | 'exit' | 'output', msg: string) => {
    if (level >= lvl) run.bus.emit({ type: 'trace', host: h.name, level: lvl, kind, msg });
  };
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    const v = h.connVars!;
    trace(3, 'connect', v.connection === 'local'
      ? 'local connection (commands run on this machine)'
      : `ssh ${v.user ?? '(current user)'}@${v.address}:${v.port}${v.jumps?.length ? ` through ${v.jumps.map((j) => `${j.user ?? '(current user)'}@${j.address}:${j.port}`).join(', ')}` : ''}, key ${[v.privateKeyFile, ...(v.identityFiles ?? [])].filter(Boolean).join(', ') || '(agent/default)'}${v.identitiesOnly ? ' (identities only)' : ''}, password ${v.password ? 'set' : 'none'}, host key checking ${v.hostKeyChecking}${v.knownHostsFile ? ` (${v.knownHostsFile})` : ''}, timeout ${v.connectTimeoutMs / 1000} s, become ${v.become ? `${v.becomeUser} (sudo)` : 'no'}`);
  };
  return wrap(conn, {
    connect: () => {
      announce();
      return conn.connect();
    },
    async run(script, opts) {
      announce();
      const quiet = h.quiet;
      const who = opts?.become ? ` (sudo -u ${opts.become.user})` : '';
      trace(2, 'exec', quiet ? `(command of a no_log task hidden)${who}` : `${script}${who}${opts?.stdin !== undefined ? ` <stdin ${Buffer.byteLength(opts.stdin)} bytes>` : ''}`);
      const t0 = Date.now();
      const r = await conn.run(script, opts);
      trace(2, 'exit', `exit code ${r.code} in ${Date.now() - t0} ms`);
      if (!quiet) {
        for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
          if (!text) continue;
          const lines = withoutFileContent(text.replace(/\n$/, '').split('\n'));
          const more = lines.length > TRACE_OUTPUT_LINES ? `\n… ${lines.length - TRACE_OUTPUT_LINES} more line(s)` : '';
          trace(3, 'output', `${name}:\n${lines.slice(0, TRACE_OUTPUT_LINES).join('\n')}${more}`);
        }
      }
      return r;
    },
  });
}

/** Connection counts of each run (the connect:progress event). */
const progress = new WeakMap<RunState, { opened: number; connected: number; probed: number; unreachable: number }>();

/**
 * The connection, counted in the run's connect:progress events: opened now, connected and
 * probed when its first command connects and answers. Nothing is contacted earlier than before.
 */
function watchFirstContact(run: RunState, conn: Connection): Connection {
  let p = progress.get(run);
  if (!p) progress.set(run, (p = { opened: 0, connected: 0, probed: 0, unreachable: 0 }));
  const counts = p;
  const emit = () => run.bus.emit({ type: 'connect:progress', ...counts });
  counts.opened++;
  emit();
  let first = true;
  return wrap(conn, {
    async run(script, opts) {
      if (!first) return conn.run(script, opts);
      first = false;
      try {
        await conn.connect();
      } catch (e) {
        if (isUnreachable(e)) {
          counts.unreachable++;
          emit();
        }
        throw e;
      }
      counts.connected++;
      emit();
      // Probed: the host answered (whatever the command's outcome), unless the connection dropped.
      let dropped = false;
      try {
        return await conn.run(script, opts);
      } catch (e) {
        dropped = isUnreachable(e);
        throw e;
      } finally {
        if (dropped) counts.unreachable++;
        else counts.probed++;
        emit();
      }
    },
  });
}

/** `conn` with some of its methods replaced. */
function wrap(conn: Connection, own: Partial<Pick<Connection, 'connect' | 'run'>>): Connection {
  return {
    get host() {
      return conn.host;
    },
    get stats() {
      return conn.stats;
    },
    get localAddress() {
      return conn.localAddress;
    },
    connect: own.connect ?? (() => conn.connect()),
    close: () => conn.close(),
    run: own.run ?? ((script, opts) => conn.run(script, opts)),
  };
}

/**
 * Whether and how a task's commands become another user on `hs` (the host they run on): the
 * task's keywords, else the host's connection variables. The method is the other way round, as
 * in Ansible: ansible_become_method (a variable) wins over the become_method keyword; sudo when
 * neither is set.
 */
export function effectiveBecome(hs: HostState, inh: Pick<Inherited, 'become' | 'becomeUser' | 'becomeMethod'>, scope?: Scope): Become | undefined {
  const on = inh.become ?? hs.connVars?.become ?? false;
  if (!on) return undefined;
  const method = (scope && becomeMethodVar(scope)) ?? hs.connVars?.becomeMethod ?? inh.becomeMethod;
  return { user: inh.becomeUser ?? hs.connVars?.becomeUser ?? 'root', password: hs.connVars?.becomePassword, ...(method && method !== 'sudo' ? { method } : {}) };
}

/**
 * ansible_become_method (or become_method) in a task's scope: task vars can set it, not only the
 * inventory and play vars read when the host was first contacted. A bad value is a UserError.
 */
function becomeMethodVar(scope: Scope): BecomeMethod | undefined {
  for (const n of BECOME_METHOD_VARS) {
    if (!scope.has(n)) continue;
    const raw = scope.get(n);
    const v = isSecret(raw) ? raw.value : raw;
    if (v === undefined || v === null) continue;
    if (!(BECOME_METHODS as readonly unknown[]).includes(v)) throw new UserError(`${n}: become method ${JSON.stringify(v)} is not supported (tsplay runs ${BECOME_METHODS.join(' and ')})`);
    return v as BecomeMethod;
  }
  return undefined;
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
