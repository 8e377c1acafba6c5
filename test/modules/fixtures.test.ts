/**
 * Module fixtures, pyinfra style: every test/fixtures/modules/<module>/<case>.json is one test.
 *
 *   { "params": {...} | "free form string",
 *     "prepared"?: {...},              // merged into params after parsing (what prepare() would add)
 *     "facts"?: {...},                 // parsed facts, keyed like the module's probe()
 *     "ctx"?: { "check"?, "pending"?, "hostFacts"?, "evaluated"?: { "expr": value } },
 *     "expect": { "noop": true, "reason"?, "setFacts"?, "includeVars"? }
 *             | { "changes": [...], "assume"?, "diffs"? }
 *             | { "error": "substring of the zod or plan error" }
 *       plus, for noop and changes: "commands"? (["exec cmd" | "put:/path"]), "commandsContain"?,
 *       "puts"? (put steps without kind), "stdin"?, "output"?, "factKeys"? ({ probe name: fact key }) }
 *
 * Every exec command is also syntax-checked with `dash -n`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { moduleResultType } from '../../src/playbook/result-types.js';
import type { AnyModule, Plan, PlanContext, Step } from '../../src/core/module.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';

const ROOT = join(import.meta.dirname, '../fixtures/modules');
const SRC = join(import.meta.dirname, '../../src/modules');

/** Files under src/modules that failed to import (shown when their fixtures have no module). */
const IMPORT_ERRORS: string[] = [];

/** Every module under src/modules (registered or not yet), so any module's fixtures can live here. */
async function allModules(): Promise<AnyModule[]> {
  const found = new Map<string, AnyModule>(BUNDLED_MODULES.map((m) => [m.name, m]));
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.split('/').includes('lib'));
  for (const f of files) {
    let mod: { default?: Partial<AnyModule> };
    try {
      mod = (await import(pathToFileURL(join(SRC, f)).href)) as typeof mod;
    } catch (e) {
      IMPORT_ERRORS.push(`${f}: ${(e as Error).message}`);
      continue;
    }
    const def = mod.default;
    if (def && typeof def.name === 'string' && typeof def.plan === 'function' && def.params && !found.has(def.name)) found.set(def.name, def as AnyModule);
  }
  return [...found.values()];
}
const MODULES = await allModules();

interface Fixture {
  params: unknown;
  prepared?: Record<string, unknown>;
  facts?: Record<string, unknown>;
  ctx?: Partial<PlanContext> & { evaluated?: Record<string, unknown> };
  expect: Record<string, unknown>;
}

function makeCtx(fx: Fixture): PlanContext {
  const { evaluated, ...rest } = fx.ctx ?? {};
  return {
    host: 'web1',
    check: false,
    diff: false,
    hostFacts: {},
    pending: [],
    connection: { port: 22, local: false, user: 'root' },
    evaluate: (expr: string) => {
      if (!evaluated || !(expr in evaluated)) throw new Error(`fixture has no ctx.evaluated entry for ${JSON.stringify(expr)}`);
      return evaluated[expr];
    },
    ...rest,
  };
}

const stepText = (s: Step) => (s.kind === 'exec' ? s.cmd : `put:${s.path}`);

function putView(s: Step) {
  if (s.kind !== 'put') return undefined;
  const { kind: _k, content, description: _d, ...rest } = s;
  return { ...rest, content: Buffer.isBuffer(content) ? `base64:${content.toString('base64')}` : content };
}

function dashSyntaxOk(cmd: string): void {
  const r = spawnSync('dash', ['-n', '-c', cmd], { encoding: 'utf8' });
  expect(r.status, `dash -n rejects: ${cmd}\n${r.stderr}`).to.equal(0);
}

function checkPlan(plan: Plan, want: Record<string, unknown>): void {
  if ('error' in want) {
    expect(plan, 'expected a failed plan').to.have.property('failed', true);
    expect((plan as { msg: string }).msg).to.include(want.error as string);
    return;
  }
  expect('failed' in plan, `plan failed: ${'failed' in plan ? plan.msg : ''}`).to.equal(false);
  if ('failed' in plan) return;
  const steps = (plan.changed ? plan.steps : plan.steps) ?? [];
  for (const s of steps) if (s.kind === 'exec') dashSyntaxOk(s.cmd);
  if (want.noop) {
    expect(plan.changed, `expected noop, got changes ${JSON.stringify(plan.changed && plan.changes)}`).to.equal(false);
    if (plan.changed) return;
    if (want.reason !== undefined) expect(plan.reason).to.include(want.reason as string);
    if (want.setFacts !== undefined) expect(plan.setFacts).to.deep.equal(want.setFacts);
    if (want.includeVars !== undefined) expect(plan.includeVars).to.deep.equal(want.includeVars);
  } else {
    expect(plan.changed, `expected changes, got noop: ${!plan.changed ? plan.reason : ''}`).to.equal(true);
    if (!plan.changed) return;
    expect(plan.changes).to.deep.equal(want.changes);
    if (want.assume !== undefined) expect(plan.assume).to.deep.equal(want.assume);
    if (want.diffs !== undefined) expect(plan.diffs).to.deep.equal(want.diffs);
  }
  if (want.commands !== undefined) expect(steps.map(stepText)).to.deep.equal(want.commands);
  if (want.commandsContain !== undefined) {
    const texts = steps.map(stepText);
    expect(texts.length).to.equal((want.commandsContain as string[]).length);
    (want.commandsContain as string[]).forEach((part, i) => expect(texts[i]).to.include(part));
  }
  if (want.puts !== undefined) expect(steps.filter((s) => s.kind === 'put').map(putView)).to.deep.equal(want.puts);
  if (want.stdin !== undefined) expect(steps.map((s) => (s.kind === 'exec' ? (s.stdin ?? null) : null))).to.deep.equal(want.stdin);
  if (want.output !== undefined) expect(plan.output).to.deep.equal(want.output);
}

function runFixture(mod: AnyModule, fx: Fixture): void {
  const input = typeof fx.params === 'string' ? (mod.freeForm ? mod.freeForm(fx.params) : fx.params) : fx.params;
  const parsed = mod.params.safeParse(input);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((i) => i.message).join('\n');
    expect(fx.expect.error, `params rejected: ${messages}`).to.be.a('string');
    expect(messages).to.include(fx.expect.error as string);
    return;
  }
  const params = { ...(parsed.data as Record<string, unknown>), ...(fx.prepared ?? {}) };
  const facts = fx.facts ?? {};
  if (mod.probe && !mod.local) {
    const probed = mod.probe(params) as Record<string, { key: string }>;
    expect(Object.keys(probed).sort(), 'fixture facts must be keyed like probe()').to.deep.equal(Object.keys(facts).sort());
    const keys = fx.expect.factKeys as Record<string, string> | undefined;
    if (keys) expect(Object.fromEntries(Object.keys(keys).map((k) => [k, probed[k]?.key]))).to.deep.equal(keys);
  }
  let plan: Plan;
  try {
    plan = mod.plan(params, facts, makeCtx(fx));
  } catch (e) {
    if (typeof fx.expect.error === 'string') {
      expect((e as Error).message).to.include(fx.expect.error);
      return;
    }
    throw e;
  }
  checkPlan(plan, fx.expect);
  // What the plan registers must be what `output` declares: validation types `register` by it.
  if (!('failed' in plan) && plan.output) {
    const declared = moduleResultType(mod);
    const props = declared.t === 'object' ? declared : undefined;
    if (props && !props.open) {
      const extra = Object.keys(plan.output).filter((k) => !Object.hasOwn(props.props, k));
      expect(extra, `${mod.name}: plan output keys missing from its output schema`).to.deep.equal([]);
    }
  }
}

describe('module fixtures', () => {
  // Empty folders (another module's fixtures still to come) are ignored.
  const dirs = readdirSync(ROOT)
    .filter((d) => readdirSync(join(ROOT, d)).some((f) => f.endsWith('.json')))
    .sort();
  it('every bundled module declares its registered result (output)', () => {
    expect(BUNDLED_MODULES.filter((m) => !m.output).map((m) => m.name)).to.deep.equal([]);
  });
  it('every fixture folder names a module, and every bundled module has at least 3 fixtures', () => {
    const names = MODULES.map((m) => m.name);
    expect(dirs.filter((d) => !names.includes(d)), `fixture folders without a module ${IMPORT_ERRORS.join('; ')}`).to.deep.equal([]);
    const few = BUNDLED_MODULES.map((m) => m.name).filter((n) => !dirs.includes(n) || readdirSync(join(ROOT, n)).length < 3);
    expect(few, 'modules with fewer than 3 fixtures').to.deep.equal([]);
  });
  for (const dir of dirs) {
    const mod = MODULES.find((m) => m.name === dir);
    describe(dir, () => {
      for (const file of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.json')).sort()) {
        it(file.replace(/\.json$/, ''), () => {
          expect(mod, `no module named ${dir}`).to.not.equal(undefined);
          runFixture(mod!, JSON.parse(readFileSync(join(ROOT, dir, file), 'utf8')) as Fixture);
        });
      }
    });
  }
});
