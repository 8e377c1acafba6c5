/**
 * Errors raised while parsing, evaluating or rendering `{{ expressions }}`. They are user
 * errors (no stack trace): each carries one Diagnostic, which callers locate with `at()` once
 * they know which playbook value the expression came from.
 */
import { UserError, type SourcePos } from '../core/errors.js';

export class ExprError extends UserError {
  /** The plain reason, without context notes. */
  readonly reason: string;
  private readonly notes: string[] = [];

  constructor(reason: string, hint?: string) {
    super({ severity: 'error', message: reason, hint });
    this.name = new.target.name;
    this.reason = reason;
    this.message = reason;
  }

  get hint(): string | undefined {
    return this.diagnostics[0]!.hint;
  }

  get pos(): SourcePos | undefined {
    return this.diagnostics[0]!.pos;
  }

  /**
   * Adds where the error happened. The innermost position wins (the first one given), notes
   * accumulate: "undefined variable 'hsot' (in variable 'url', play vars)".
   */
  at(pos: SourcePos | undefined, note?: string): this {
    const d = this.diagnostics[0]!;
    if (pos && !d.pos) d.pos = pos;
    if (note && !this.notes.includes(note)) this.notes.push(note);
    d.message = this.notes.length ? `${this.reason} (${this.notes.join(', ')})` : this.reason;
    this.message = d.message;
    return this;
  }
}

/** The expression or template does not parse. `offset` is a character index into the code given. */
export class ExprSyntaxError extends ExprError {
  constructor(
    reason: string,
    readonly offset: number,
    hint?: string,
  ) {
    super(reason, hint);
  }
}

/**
 * The expression is Ansible/Jinja that JavaScript reads differently or not at all (jinja.ts);
 * the reason names the construct and gives the JavaScript to write.
 */
export class JinjaHabitError extends ExprSyntaxError {}

/** The expression reads a name that no variable layer and no helper defines. */
export class UndefinedVariableError extends ExprError {
  constructor(
    readonly variable: string,
    hint?: string,
  ) {
    super(`undefined variable '${variable}'`, hint);
  }
}

/** The expression threw while running (e.g. reading a property of undefined). */
export class ExprRuntimeError extends ExprError {
  constructor(
    reason: string,
    readonly code: string,
    readonly cause?: unknown,
  ) {
    super(reason);
  }
}

/** Template variables refer to each other in a loop: a -> b -> a. */
export class VarCycleError extends ExprError {
  constructor(readonly cycle: string[]) {
    super(`variables refer to each other in a cycle: ${cycle.join(' -> ')}`,
      'a variable cannot be defined from itself; give the new value another name');
  }
}
