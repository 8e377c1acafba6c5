/**
 * The controller-side phases of a module item, before any host is read: render the task's
 * parameters (templates, secrets, `omit`) and check them with the module's schema, then the
 * module's `prepare` (templates and local files). Also the boolean conditions (when,
 * changed_when, failed_when, until) and `omit`.
 */
import { coerceScalars } from '../core/coerce.js';
import { UserError } from '../core/errors.js';
import type { PrepareContext } from '../core/module.js';
import { filesUnder, findLocalDir, findLocalFile, fileCandidates, readLocalFile } from '../playbook/files.js';
import { collectSecrets } from '../core/secret.js';
import { loadVarsFile } from '../playbook/vars-file.js';
import { isVaultFile } from '../yaml/vault.js';
import type { ModuleTask } from '../playbook/model.js';
import { renderTemplate } from '../playbook/templates.js';
import { evaluate, render, unwrapSecrets } from '../vars/expr.js';
import type { Scope } from '../vars/scope.js';
import type { TaskEnv } from './item.js';

/** Evaluates conditions that must be booleans (when, changed_when, failed_when, until). */
export function condition(code: string, scope: Scope, key: string): boolean {
  if (code === 'true') return true;
  if (code === 'false') return false;
  const v = evaluate(code, scope);
  if (typeof v !== 'boolean') {
    throw new UserError(`${key}: \`${code}\` gave ${describeValue(v)}, not a boolean; compare explicitly (e.g. \`x === 'yes'\`) or use bool(x)`);
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 30 ? v.slice(0, 27) + '...' : v)}`;
  if (Array.isArray(v)) return 'a list';
  return `${typeof v === 'object' ? 'an object' : `the ${typeof v} ${String(v)}`}`;
}

export type RenderedParams = { ok: true; params: unknown } | { ok: false; error: string };

/** Parameters the section's prefetch rendered, handed once to the task's own render with the same scope. */
const early = new WeakMap<Scope, Map<ModuleTask, RenderedParams>>();

/**
 * Renders a task's parameters for a host and validates them with the module's schema. With
 * `keep` (the section's prefetch), the result is also kept for the task's first render with the
 * same scope (hostScope reuses a scope only while nothing it reads changed): one render and one
 * schema check per host and task instead of two. A later render (a retry) renders again.
 */
export function renderParams(task: ModuleTask, scope: Scope, env: TaskEnv, keep = false): RenderedParams {
  const kept = early.get(scope);
  const hit = kept?.get(task);
  if (hit) {
    kept!.delete(task);
    return hit;
  }
  const r = renderNow(task, scope, env);
  if (keep) {
    if (kept) kept.set(task, r);
    else early.set(scope, new Map([[task, r]]));
  }
  return r;
}

function renderNow(task: ModuleTask, scope: Scope, env: TaskEnv): RenderedParams {
  const module = task.module;
  const rendered = stripOmit(unwrapSecrets(render(task.args, scope), (s) => env.secrets.add(s)));
  for (const s of scope.secretsUsed) env.secrets.add(s);
  const parsed = module.params.safeParse(coerceScalars(module.params, rendered));
  if (!parsed.success) {
    const iss = parsed.error.issues[0]!;
    return { ok: false, error: `${module.name}: ${iss.path.length ? `${iss.path.join('.')}: ` : ''}${iss.message}` };
  }
  for (const k of module.secretParams ?? []) {
    const v = (parsed.data as Record<string, unknown>)[k];
    if (typeof v === 'string' && v) env.secrets.add(v);
  }
  return { ok: true, params: parsed.data };
}

/** Runs the module's controller-side `prepare` (templates, local files) on rendered params. */
export async function prepareParams(task: ModuleTask, host: string, scope: Scope, params: unknown, env: TaskEnv): Promise<unknown> {
  const module = task.module;
  if (!module.prepare) return params;
  const where = { role: task.role, playbookDir: env.playbookDir };
  const pctx: PrepareContext = {
    host,
    signal: env.signal,
    vars: new Proxy({}, { get: (_t, k) => (typeof k === 'string' ? scope.get(k) : undefined), has: (_t, k) => typeof k === 'string' && scope.has(k) }) as Record<string, unknown>,
    findFile: (kind, name) => {
      const f = findLocalFile(kind, name, where);
      if (!f) throw new UserError(`${kind === 'templates' ? 'template' : kind === 'vars' ? 'vars file' : 'file'} "${name}" not found (looked in ${fileCandidates(kind, name, where).join(', ')})`);
      return f;
    },
    findDir: (kind, name) => {
      const d = findLocalDir(kind, name, where);
      if (!d) throw new UserError(`folder "${name}" not found (looked in ${fileCandidates(kind, name, where).join(', ')})`);
      return d;
    },
    listFiles: (dir, depth) => filesUnder(dir, depth),
    loadVars: (file) => {
      const layer = loadVarsFile(file);
      collectSecrets(layer.vars, env.secrets);
      return layer;
    },
    renderTemplate: async (file, extra) => {
      const out = await renderTemplate(file, scope, extra);
      for (const s of scope.secretsUsed) env.secrets.add(s);
      // A template encrypted with Ansible vault: what it renders is as secret as its text.
      if (isVaultFile(file) && out) env.secrets.add(out);
      return out;
    },
    readFile: async (file) => {
      const { bytes, vault } = readLocalFile(file);
      if (vault && bytes.length) env.secrets.add(bytes.toString('utf8'));
      return bytes;
    },
  };
  return module.prepare(params as never, pctx);
}

/** Drops parameters whose value is Ansible's `omit` placeholder. */
export const OMIT = '__tsplay_omit__';
function stripOmit(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== OMIT).map(stripOmit);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== OMIT && x !== undefined).map(([k, x]) => [k, stripOmit(x)]));
  }
  return v;
}
