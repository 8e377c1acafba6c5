/** POSIX shell quoting. Commands are data: values are always quoted by `sh```. */

/** Quote one word for a POSIX shell. */
export function quote(s: string | number): string {
  const str = String(s);
  if (str !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(str)) return str;
  return `'${str.replace(/'/g, `'\\''`)}'`;
}

/** Raw shell text that `sh``` inserts as is (for operators, redirections, pre-built commands). */
export class RawShell {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}
export const raw = (text: string): RawShell => new RawShell(text);

/**
 * Tagged template for shell commands: every interpolated value is quoted; arrays become
 * several quoted words; `raw(...)` is inserted verbatim.
 *   sh`mkdir -p ${path} && chmod ${mode} ${path}`
 */
export function sh(strings: TemplateStringsArray, ...values: unknown[]): string {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return out;
}

function render(v: unknown): string {
  if (v instanceof RawShell) return v.text;
  if (Array.isArray(v)) return v.map(render).join(' ');
  if (v === undefined || v === null) return "''";
  return quote(String(v));
}
