/**
 * User-facing errors. A user mistake becomes a Diagnostic (file:line:column + one-line reason +
 * excerpt) and is printed without a stack trace; anything else is a bug in tsplay.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';

export interface SourcePos {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  col: number;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  pos?: SourcePos;
  /** Optional fix-it hint printed under the excerpt. */
  hint?: string;
}

/** An error caused by user input (playbook, inventory, CLI flags). Never shows a stack. */
const USER_ERROR = Symbol.for('tsplay.UserError');

export class UserError extends Error {
  /** The mark `instanceof UserError` checks (below). */
  readonly [USER_ERROR] = true;
  readonly diagnostics: Diagnostic[];
  /**
   * A project module's UserError may come from another copy of tsplay (the package it imports,
   * while the CLI is a bundle; or one tsx loaded): it is still a user error, reported without a
   * stack. Subclasses keep the ordinary prototype check.
   */
  static [Symbol.hasInstance](v: unknown): boolean {
    if (this !== UserError) return Function.prototype[Symbol.hasInstance].call(this, v);
    return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[USER_ERROR] === true && Array.isArray((v as UserError).diagnostics);
  }
  constructor(diagnostics: Diagnostic[] | Diagnostic | string) {
    const list: Diagnostic[] =
      typeof diagnostics === 'string'
        ? [{ severity: 'error', message: diagnostics }]
        : Array.isArray(diagnostics)
          ? diagnostics
          : [diagnostics];
    super(list.map((d) => formatDiagnosticLine(d)).join('\n'));
    this.name = 'UserError';
    this.diagnostics = list;
  }
}

export function diag(message: string, pos?: SourcePos, hint?: string): Diagnostic {
  return { severity: 'error', message, pos, hint };
}
export function warn(message: string, pos?: SourcePos, hint?: string): Diagnostic {
  return { severity: 'warning', message, pos, hint };
}

/** Paths under the current folder are shown relative to it, the way compilers print them. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export function formatPos(pos?: SourcePos): string {
  return pos ? `${displayPath(pos.file)}:${pos.line}:${pos.col}` : '';
}

/** `file:line:col: error: reason` (no excerpt). */
export function formatDiagnosticLine(d: Diagnostic): string {
  const where = d.pos ? `${formatPos(d.pos)}: ` : '';
  return `${where}${d.severity}: ${d.message}`;
}

const fileCache = new Map<string, string[] | null>();
function sourceLines(file: string): string[] | null {
  if (!fileCache.has(file)) {
    try {
      fileCache.set(file, readFileSync(file, 'utf8').split(/\r?\n/));
    } catch {
      fileCache.set(file, null);
    }
  }
  return fileCache.get(file) ?? null;
}

/** Full rendering: the line, then an excerpt of the source with a caret, then the hint. */
export function formatDiagnostic(d: Diagnostic, opts: { color?: (kind: 'error' | 'warning' | 'dim', s: string) => string } = {}): string {
  const c = opts.color ?? ((_k, s) => s);
  const out = [c(d.severity, formatDiagnosticLine(d))];
  if (d.pos) {
    const lines = sourceLines(d.pos.file);
    const text = lines?.[d.pos.line - 1];
    if (text !== undefined) {
      const num = String(d.pos.line);
      out.push(c('dim', `  ${num} | `) + text);
      out.push(c('dim', `  ${' '.repeat(num.length)} | `) + ' '.repeat(Math.max(0, d.pos.col - 1)) + '^');
    }
  }
  if (d.hint) out.push(c('dim', `  hint: ${d.hint}`));
  return out.join('\n');
}

/** Collects diagnostics while loading, so that all errors are reported at once. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];
  error(message: string, pos?: SourcePos, hint?: string): void {
    this.items.push(diag(message, pos, hint));
  }
  warning(message: string, pos?: SourcePos, hint?: string): void {
    this.items.push(warn(message, pos, hint));
  }
  add(d: Diagnostic | Diagnostic[]): void {
    for (const x of Array.isArray(d) ? d : [d]) this.items.push(x);
  }
  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }
  get warnings(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'warning');
  }
  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
  /** Run fn, turning a thrown UserError into collected diagnostics. */
  capture<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof UserError) {
        this.add(e.diagnostics);
        return undefined;
      }
      throw e;
    }
  }
  async captureAsync<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof UserError) {
        this.add(e.diagnostics);
        return undefined;
      }
      throw e;
    }
  }
  throwIfErrors(): void {
    if (this.hasErrors) throw new UserError(this.items);
  }
}

/** Levenshtein-based "did you mean" helper. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestScore <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const prev = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    let diagPrev = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= n; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diagPrev + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagPrev = tmp;
    }
  }
  return prev[n]!;
}
