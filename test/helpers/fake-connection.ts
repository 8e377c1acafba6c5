/**
 * A fake connection for engine unit tests: an in-memory "host" (a map of files) that answers
 * the fake modules' commands, and counts connects and execs. Not for end-to-end tests.
 */
import type { Connection, ConnectionStats, RunOptions } from '../../src/connection/types.js';
import { BecomeError, UnreachableError } from '../../src/connection/types.js';
import type { ConnectionVars } from '../../src/inventory/connection.js';
import type { ExecResult } from '../../src/core/module.js';

export interface FakeHost {
  files: Map<string, string>;
  /** Every script run, in order. */
  log: string[];
  unreachable?: boolean;
  /** Drop the connection after this many execs. */
  dropAfter?: number;
  failCommands?: RegExp;
  /** The `become` of every script run (undefined without become), in order. */
  becomes?: Array<RunOptions['become']>;
  /** Every command run with become fails as sudo or su refusing (BecomeError). */
  becomeRefused?: string;
  /** Variables exported by `export K=V; ...` prefixes (the engine's `environment:`). */
  env?: Record<string, string>;
  /** How long each exec takes (default 2 ms): a slow host. */
  delayMs?: number;
  /** What the host facts command (setup, gather_facts) prints; without it, it fails. */
  facts?: string;
}

export class FakeWorld {
  readonly hosts = new Map<string, FakeHost>();
  readonly connections: FakeConnection[] = [];
  /** Global order of (host, script) pairs, as each starts. */
  readonly order: Array<[string, string]> = [];
  /** The same, as each ends. */
  readonly ended: Array<[string, string]> = [];
  /** Commands running at the same moment, and the most seen (for --forks). */
  inFlight = 0;
  maxInFlight = 0;

  host(name: string): FakeHost {
    let h = this.hosts.get(name);
    if (!h) {
      h = { files: new Map(), log: [] };
      this.hosts.set(name, h);
    }
    return h;
  }

  connect = (vars: ConnectionVars): Connection => {
    const c = new FakeConnection(vars.name, this);
    this.connections.push(c);
    return c;
  };
}

/** Interprets the tiny command language of the fake modules (see fake-modules.ts). */
function interpret(h: FakeHost, script: string, stdin?: string): ExecResult {
  if (h.facts !== undefined && script.includes('kernel=$(uname -r)')) return { stdout: h.facts, stderr: '', code: 0 };
  let stdout = '';
  let code = 0;
  // Fact batches from the engine wrap each fact command in "( CMD\n) </dev/null; printf ...".
  const batch = /^\( ([\s\S]*?)\n\) <\/dev\/null; printf '\\n(@@tsplay-fact-[0-9a-f]+@@) %d %d\\n' (\d+) \$\?$/gm;
  if (batch.test(script)) {
    batch.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = batch.exec(script))) {
      const r = interpret(h, m[1]!);
      stdout += `${r.stdout}\n${m[2]} ${m[3]} ${r.code}\n`;
    }
    return { stdout, stderr: '', code: 0 };
  }
  for (let line of script.split('\n')) {
    const exp = /^export ((?:\w+=\S+ ?)+); /.exec(line);
    if (exp) {
      h.env ??= {};
      for (const kv of exp[1]!.trim().split(' ')) h.env[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
      line = line.slice(exp[0].length);
    }
    const [cmd, ...args] = line.trim().split(' ');
    if (h.failCommands?.test(line)) return { stdout, stderr: `boom: ${line}\nerror: it failed`, code: 3 };
    if (cmd === 'read') {
      const v = h.files.get(args[0]!);
      if (v === undefined) code = 1;
      else stdout += v;
    } else if (cmd === 'write') h.files.set(args[0]!, args.slice(1).join(' '));
    else if (cmd === 'writestdin') h.files.set(args[0]!, stdin ?? '');
    else if (cmd === 'echo') stdout += args.map((a) => (a.startsWith('$') ? (h.env?.[a.slice(1)] ?? '') : a)).join(' ') + '\n';
    else if (cmd === 'count') {
      const n = Number(h.files.get(args[0]!) ?? '0') + 1;
      h.files.set(args[0]!, String(n));
      stdout += `${n}\n`;
    }
    else if (cmd === 'exit') return { stdout, stderr: '', code: Number(args[0]) };
  }
  return { stdout, stderr: '', code };
}

export class FakeConnection implements Connection {
  readonly stats: ConnectionStats = { connects: 0, execs: 0 };
  private connected = false;
  constructor(
    readonly host: string,
    private readonly world: FakeWorld,
  ) {}
  async connect(): Promise<void> {
    const h = this.world.host(this.host);
    if (h.unreachable) throw new UnreachableError(`${this.host}: connection refused`);
    if (!this.connected) {
      this.connected = true;
      this.stats.connects++;
    }
  }
  async run(script: string, opts: RunOptions = {}): Promise<ExecResult> {
    await this.connect();
    const h = this.world.host(this.host);
    if (h.dropAfter !== undefined && this.stats.execs >= h.dropAfter) throw new UnreachableError(`${this.host}: connection lost`);
    this.stats.execs++;
    if (opts.become && h.becomeRefused) throw new BecomeError(`become failed on ${this.host}: ${h.becomeRefused}`);
    h.log.push(script);
    (h.becomes ??= []).push(opts.become);
    this.world.order.push([this.host, script]);
    this.world.inFlight++;
    this.world.maxInFlight = Math.max(this.world.maxInFlight, this.world.inFlight);
    await new Promise((r) => setTimeout(r, h.delayMs ?? 2));
    this.world.inFlight--;
    this.world.ended.push([this.host, script]);
    return interpret(h, script, opts.stdin === undefined ? undefined : String(opts.stdin));
  }
  async close(): Promise<void> {}
}
