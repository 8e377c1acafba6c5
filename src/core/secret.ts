/**
 * Secret values. A YAML `!secret` tag (or `secret()` in code) wraps a value so that every
 * renderer, diff and error masks it. Templates unwrap it when they render into module
 * parameters; the engine keeps a per-run set of secret strings, and a `Masker` over that set
 * masks them in everything printed.
 */
const SECRET = Symbol.for('tsplay.Secret');

export class Secret {
  /** The mark `instanceof Secret` checks (below). */
  readonly [SECRET] = true;
  constructor(readonly value: string) {}
  /**
   * A project module that imports tsplay gets the package's copy of this class, which is not
   * the bundled CLI's (or, loaded by tsx, not the engine's): both are the same kind of value,
   * so `instanceof` checks the mark they share, not the class object.
   */
  static [Symbol.hasInstance](v: unknown): boolean {
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[SECRET] === true;
  }
  toString(): string {
    return '********';
  }
  toJSON(): string {
    return '********';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret(********)';
  }
}

export function secret(value: string): Secret {
  return new Secret(value);
}

export function isSecret(v: unknown): v is Secret {
  return v instanceof Secret;
}

/** Collects every secret string reachable in a value (for masking output). */
export function collectSecrets(v: unknown, into: Set<string> = new Set(), seen = new Set<unknown>()): Set<string> {
  if (v instanceof Secret) {
    if (v.value.length > 0) into.add(v.value);
  } else if (v && typeof v === 'object' && !seen.has(v)) {
    seen.add(v);
    for (const x of Object.values(v as Record<string, unknown>)) collectSecrets(x, into, seen);
  }
  return into;
}

const MASK = '********';

/** A secret inside a single-quoted shell word, as `quote()` (core/quote.ts) writes it. */
const shellInner = (s: string): string => s.replace(/'/g, `'\\''`);

/**
 * The spellings of a secret that tsplay itself can print: the value; JSON-escaped (the --json
 * stream, `toJson`); HTML-escaped (EJS `<%= %>`, with &#34; and &quot;); inside a shell word
 * quoted once, twice (`sh -c '...'`) or three times (become); base64 (`b64encode`, with and
 * without padding); URL-encoded; and each line of a multi-line secret that has at least 4
 * non-blank characters, so a diff or an indented rendering that splits it stays masked.
 */
export function secretForms(secret: string): string[] {
  if (!secret) return [];
  const forms = new Set<string>([secret]);
  forms.add(JSON.stringify(secret).slice(1, -1));
  const html = secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;');
  forms.add(html.replace(/"/g, '&#34;'));
  forms.add(html.replace(/"/g, '&quot;'));
  let sh = secret;
  for (let i = 0; i < 3; i++) forms.add((sh = shellInner(sh)));
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  forms.add(encodeURIComponent(secret));
  if (secret.includes('\n')) {
    for (const line of secret.split('\n')) {
      const l = line.replace(/\r$/, '');
      if (l.trim().length >= 4) for (const f of secretForms(l)) forms.add(f);
    }
  }
  return [...forms].filter((f) => f.length > 0);
}

/**
 * Masks secrets in whatever leaves the process. It holds the run's set of secret strings
 * (shared with the engine, which adds to it as templates unwrap secrets) and replaces every
 * form of each (see `secretForms`) with ********.
 */
export class Masker {
  private pattern: RegExp | undefined;
  private patternFor = -1;

  constructor(readonly secrets: Set<string> = new Set()) {}

  mask(text: string): string {
    const re = this.regex();
    return re ? text.replace(re, MASK) : text;
  }

  /** A copy of a value with every string in it masked (plain objects and arrays, deeply). */
  maskDeep<T>(v: T): T {
    if (this.secrets.size === 0) return v;
    return this.deep(v) as T;
  }

  private deep(v: unknown): unknown {
    if (typeof v === 'string') return this.mask(v);
    if (Array.isArray(v)) return v.map((x) => this.deep(x));
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.deep(x);
      return out;
    }
    return v;
  }

  /** One alternation of every form of every secret, longest first; rebuilt when the set grows. */
  private regex(): RegExp | undefined {
    if (this.patternFor !== this.secrets.size) {
      const forms = new Set<string>();
      for (const s of this.secrets) for (const f of secretForms(s)) forms.add(f);
      const sorted = [...forms].sort((a, b) => b.length - a.length);
      this.pattern = sorted.length ? new RegExp(sorted.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : undefined;
      this.patternFor = this.secrets.size;
    }
    return this.pattern;
  }
}

