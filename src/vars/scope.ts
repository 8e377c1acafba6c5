/**
 * The variables of one host for one task: an ordered stack of layers (role defaults, inventory,
 * facts, play vars, ..., extra vars; precedence.ts says which). The highest layer that defines
 * a name wins.
 *
 * Two kinds of layers:
 * - `template` layers hold what the user wrote (playbooks, inventory, roles, -e). Their values
 *   are rendered lazily, when read, with this scope: `url: "http://{{ host }}"` sees the final
 *   `host` whatever layer defines it.
 * - `data` layers hold what hosts and modules produced (facts, registered results, loop items,
 *   set_fact results). They are NEVER rendered, so a host cannot make the controller run an
 *   expression by printing `{{ ... }}`.
 *
 * Secrets: expressions see a secret's real string, and every secret handed out is recorded in
 * `secretsUsed` so the engine can mask it in all output.
 *
 * A Scope is a snapshot: resolved values are cached, so build a new scope (cheap: layers are
 * shared, not copied) when a layer's content changes.
 */
import type { SourcePos } from '../core/errors.js';
import { ExprError, VarCycleError } from './expr-errors.js';
import { onDeadlineUnwind, render, unwrapSecrets, type VarSource } from './expr.js';

export interface Layer {
  /** Where the values come from, e.g. "play vars", "group_vars/web.yml". */
  label: string;
  vars: Record<string, unknown>;
  kind: 'template' | 'data';
  file?: string;
  /** Position of a key's value, for errors and explain(). */
  pos?: (key: string) => SourcePos | undefined;
  /** Precedence rank (see precedence.ts); layers without one sit above all others. */
  rank?: number;
}

export interface Explanation {
  label: string;
  kind: 'template' | 'data';
  /** The value as written in the layer (not rendered; secrets stay masked). */
  value: unknown;
  file?: string;
  pos?: SourcePos;
  /** True for the layer whose value is used; the others are overridden. */
  won: boolean;
}

/** Variables being resolved right now, to detect `a: "{{ b }}", b: "{{ a }}"`. */
const resolving: Array<{ scope: Scope; name: string }> = [];
const MAX_DEPTH = 100;
// An expression stopped by its deadline abandons renderVar frames without their `finally`.
onDeadlineUnwind(() => {
  const depth = resolving.length;
  return () => {
    resolving.length = depth;
  };
});

/** A JS object whose properties are the variables of a scope (the `vars` of expressions). */
class VarsMap {}

export class Scope implements VarSource {
  /** Every secret string handed out by this scope and its children (shared with them). */
  readonly secretsUsed: Set<string>;
  readonly vars: Record<string, unknown>;
  /** The host this scope belongs to (named in errors about cycles through hostvars). */
  readonly host?: string;
  private readonly layers: readonly Layer[];
  private readonly cache = new Map<string, unknown>();

  /** `layers` lowest precedence first; layers are ordered by `rank`, then by position. */
  constructor(layers: readonly Layer[], opts: { secretsUsed?: Set<string>; host?: string } = {}) {
    // buildScope gives them in order already: sort (stably) only when they are not.
    this.layers = layers.every((l, i) => i === 0 || (layers[i - 1]!.rank ?? Infinity) <= (l.rank ?? Infinity))
      ? layers
      : layers
          .map((layer, i) => ({ layer, i }))
          .sort((a, b) => (a.layer.rank ?? Infinity) - (b.layer.rank ?? Infinity) || a.i - b.i)
          .map((x) => x.layer);
    this.secretsUsed = opts.secretsUsed ?? new Set();
    this.host = opts.host;
    this.vars = varsProxy(this);
  }

  /** A scope with one more layer (e.g. loop `item`), sharing this one's layers and secrets. */
  child(layer: Layer): Scope {
    return new Scope([...this.layers, layer], { secretsUsed: this.secretsUsed, host: this.host });
  }

  has(name: string): boolean {
    return this.winner(name) !== undefined;
  }

  /** The resolved value (templates rendered, secrets unwrapped), or undefined when not defined. */
  get(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    const layer = this.winner(name);
    if (!layer) return undefined;
    const raw = layer.vars[name];
    const value = layer.kind === 'data' ? unwrapSecrets(raw, (s) => this.noteSecret(s)) : this.renderVar(name, raw, layer);
    this.cache.set(name, value);
    return value;
  }

  /** All defined names (lowest layer first, each once). */
  names(): string[] {
    const out = new Set<string>();
    for (const l of this.layers) for (const k of Object.keys(l.vars)) out.add(k);
    return [...out];
  }

  /** Every variable fully resolved, as a plain object. */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const n of this.names()) out[n] = this.get(n);
    return out;
  }

  /** Every layer defining `name`, the winner first, then the ones it overrides. */
  explain(name: string): Explanation[] {
    const out: Explanation[] = [];
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i]!;
      if (!Object.hasOwn(l.vars, name)) continue;
      out.push({ label: l.label, kind: l.kind, value: l.vars[name], file: l.file, pos: l.pos?.(name), won: out.length === 0 });
    }
    return out;
  }

  noteSecret(value: string): void {
    if (value.length > 0) this.secretsUsed.add(value);
  }

  private winner(name: string): Layer | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      if (Object.hasOwn(this.layers[i]!.vars, name)) return this.layers[i];
    }
    return undefined;
  }

  private renderVar(name: string, raw: unknown, layer: Layer): unknown {
    const seen = resolving.findIndex((r) => r.scope === this && r.name === name);
    if (seen >= 0) throw new VarCycleError(cycleNames([...resolving.slice(seen), { scope: this, name }]));
    if (resolving.length >= MAX_DEPTH) throw new VarCycleError([...cycleNames([...resolving.slice(-6), { scope: this, name }]), '...']);
    resolving.push({ scope: this, name });
    try {
      return render(raw, this);
    } catch (e) {
      if (e instanceof ExprError) {
        const pos = layer.pos?.(name) ?? (layer.file ? { file: layer.file, line: 1, col: 1 } : undefined);
        e.at(pos, e instanceof VarCycleError ? undefined : `in variable '${name}' from ${layer.label}`);
      }
      throw e;
    } finally {
      resolving.pop();
    }
  }
}

/** Variable names of a cycle; prefixed by their host when it goes through hostvars. */
function cycleNames(chain: Array<{ scope: Scope; name: string }>): string[] {
  const hosts = new Set(chain.map((r) => r.scope.host));
  return chain.map((r) => (hosts.size > 1 ? `hostvars.${r.scope.host ?? '?'}.${r.name}` : r.name));
}

/**
 * The `vars` object: reading a property resolves that variable; `in`, Object.keys and
 * JSON.stringify work. Read-only. `afterRead` lets hostvars copy secrets into the reader.
 */
export function varsProxy(scope: Scope, afterRead?: () => void): Record<string, unknown> {
  return new Proxy(new VarsMap() as Record<string, unknown>, {
    get: (target, key) => {
      if (typeof key !== 'string') return Reflect.get(target, key);
      if (!scope.has(key)) return undefined;
      const v = scope.get(key);
      afterRead?.();
      return v;
    },
    has: (_t, key) => typeof key === 'string' && scope.has(key),
    ownKeys: () => scope.names(),
    getOwnPropertyDescriptor: (_t, key) =>
      typeof key === 'string' && scope.has(key)
        ? { value: scope.get(key), enumerable: true, configurable: true, writable: false }
        : undefined,
    set: () => false,
    deleteProperty: () => false,
    defineProperty: () => false,
  });
}
