/**
 * Secret values. A YAML `!secret` tag (or `secret()` in code) wraps a value so that every
 * renderer, diff and error masks it. Templates unwrap it when they render into module
 * parameters; the engine keeps a per-run list of secret strings to mask in any output.
 */
export class Secret {
  constructor(readonly value: string) {}
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

/** Replaces every occurrence of every secret in text with ********. */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('********');
  return out;
}
