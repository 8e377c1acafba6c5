/**
 * Values in INI inventories. Ansible runs every `key=value` through Python's literal_eval and
 * keeps the raw text when that fails; this is the same for the literals that matter:
 *   8080 -> 8080   1.5 -> 1.5   'a b' / "a b" -> string   True/False/None -> true/false/null
 *   [1, 'x'] -> array   (1, 2) -> array   {'a': 1} -> object   010, foo, 1.2.3 -> the text itself
 * One deliberate difference: lowercase `true`/`false` are booleans too (Ansible keeps them as
 * strings, which are truthy in templates; almost nobody means that).
 */

export function parseIniValue(text: string): unknown {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  try {
    const p = new LiteralParser(t);
    const value = p.value();
    p.skipSpace();
    if (!p.atEnd() && p.peek() !== '#') return text;
    return value;
  } catch (e) {
    if (e instanceof NotALiteral) return text;
    throw e;
  }
}

class NotALiteral extends Error {}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };

/** A recursive-descent parser for the Python literal subset above. Throws NotALiteral. */
class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  skipSpace(): void {
    while (/\s/.test(this.peek()) && !this.atEnd()) this.i++;
  }
  private fail(): never {
    throw new NotALiteral();
  }
  private expect(c: string): void {
    this.skipSpace();
    if (this.peek() !== c) this.fail();
    this.i++;
  }

  value(): unknown {
    this.skipSpace();
    const c = this.peek();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.parenthesized();
    if (c === '{') return this.dict();
    if (c === "'" || c === '"') return this.string();
    if (/[ruRU]/.test(c) && /['"]/.test(this.s[this.i + 1] ?? '')) {
      const raw = /[rR]/.test(c);
      this.i++;
      return this.string(raw);
    }
    if (/[-+0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.i += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    return this.fail();
  }

  private sequence(open: string, close: string): unknown[] {
    this.expect(open);
    return this.items(close, []);
  }

  /** Comma-separated values up to `close` (trailing comma allowed), appended to `out`. */
  private items(close: string, out: unknown[]): unknown[] {
    this.skipSpace();
    while (this.peek() !== close) {
      out.push(this.value());
      this.skipSpace();
      if (this.peek() === ',') this.i++;
      else if (this.peek() !== close) this.fail();
      this.skipSpace();
    }
    this.i++;
    return out;
  }

  /** `(x)` is x; `()`, `(x,)` and `(x, y)` are tuples (arrays). */
  private parenthesized(): unknown {
    this.expect('(');
    this.skipSpace();
    if (this.peek() === ')') {
      this.i++;
      return [];
    }
    const first = this.value();
    this.skipSpace();
    if (this.peek() === ')') {
      this.i++;
      return first;
    }
    if (this.peek() !== ',') this.fail();
    this.i++;
    return this.items(')', [first]);
  }

  private dict(): unknown {
    this.expect('{');
    const out: Record<string, unknown> = {};
    const set: unknown[] = [];
    this.skipSpace();
    let isSet: boolean | undefined;
    while (this.peek() !== '}') {
      const key = this.value();
      this.skipSpace();
      if (this.peek() === ':') {
        if (isSet === true) this.fail();
        isSet = false;
        this.i++;
        if (key !== null && typeof key === 'object') this.fail();
        out[String(key)] = this.value();
      } else {
        if (isSet === false) this.fail();
        isSet = true;
        set.push(key);
      }
      this.skipSpace();
      if (this.peek() === ',') this.i++;
      else if (this.peek() !== '}') this.fail();
      this.skipSpace();
    }
    this.i++;
    return isSet ? set : out;
  }

  private string(raw = false): string {
    const q = this.peek();
    if (this.s.startsWith(q.repeat(3), this.i)) this.fail(); // triple quotes: not worth it
    this.i++;
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail();
      const c = this.s[this.i++]!;
      if (c === q) return out;
      if (c === '\\' && !this.atEnd()) {
        const n = this.s[this.i++]!;
        if (raw) out += c + n;
        else out += ESCAPES[n] ?? c + n;
      } else {
        out += c;
      }
    }
  }

  /** Python int and float syntax; `010` (leading zero) is not a Python literal. */
  private number(): number {
    const m = /^([-+]?)\s*(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)/.exec(
      this.s.slice(this.i),
    );
    if (!m) this.fail();
    this.i += m[0].length;
    const sign = m[1] === '-' ? -1 : 1;
    const body = m[2]!.replace(/_/g, '');
    if (/^0[xXoObB]/.test(body)) {
      const base = { x: 16, o: 8, b: 2 }[body[1]!.toLowerCase() as 'x' | 'o' | 'b'];
      return sign * checkSafe(parseInt(body.slice(2), base));
    }
    const isFloat = /[.eE]/.test(body);
    if (!isFloat && /^0\d/.test(body) && !/^0+$/.test(body)) this.fail();
    return sign * (isFloat ? Number(body) : checkSafe(Number(body)));
  }
}

/** Integers past 2^53 would silently lose digits; keep the text instead. */
function checkSafe(n: number): number {
  if (!Number.isSafeInteger(n)) throw new NotALiteral();
  return n;
}
