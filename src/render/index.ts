/**
 * The renderers and the one rule that picks one. Every command that runs a playbook (`tsplay run`,
 * `tsplay test`, `tsplay lab run`) and every library user goes through `createRenderer`.
 */
import type { EventBus } from '../engine/events.js';
import { jsonRenderer } from './json.js';
import { listrRenderer } from './listr.js';
import { plainRenderer } from './plain.js';

export { jsonRenderer, listrRenderer, plainRenderer };

/** listr: live rows on a terminal; plain: one line per result (pipes, CI, -v); json: one event per line. */
export const RENDERER_KINDS = ['listr', 'plain', 'json'] as const;
export type RendererKind = (typeof RENDERER_KINDS)[number];

export interface RendererChoice {
  /** --json */
  json?: boolean;
  /** -v: line per result, with reasons */
  verbose?: boolean;
  /** Is the output a terminal? */
  tty?: boolean;
  /** Running under CI (the CI variable is set): no live rows, logs keep every line. */
  ci?: boolean;
}

/** --json wins; then -v, a pipe or CI give plain lines; a terminal gets live listr rows. */
export function chooseRenderer(c: RendererChoice): RendererKind {
  if (c.json) return 'json';
  if (c.verbose || !c.tty || c.ci) return 'plain';
  return 'listr';
}

/** The choice for this process's stdout and environment. */
export function defaultRenderer(flags: { json?: boolean; verbose?: boolean } = {}, out: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): RendererKind {
  return chooseRenderer({ ...flags, tty: !!out.isTTY, ci: !!env.CI });
}

export interface RendererOptions {
  out?: NodeJS.WriteStream;
  /** plain: show every result's reason. */
  verbose?: boolean;
}

export interface Renderer {
  kind: RendererKind;
  /** Resolves once everything received so far is on the screen (listr writes asynchronously). */
  idle(): Promise<void>;
}

/** Subscribes a renderer of `kind` to `bus`. */
export function createRenderer(kind: RendererKind, bus: EventBus, opts: RendererOptions = {}): Renderer {
  const out = opts.out ?? process.stdout;
  switch (kind) {
    case 'json':
      jsonRenderer(bus, out);
      return { kind, idle: async () => {} };
    case 'plain':
      plainRenderer(bus, out, { verbose: opts.verbose });
      return { kind, idle: async () => {} };
    case 'listr':
      return { kind, idle: listrRenderer(bus, out).idle };
  }
}
