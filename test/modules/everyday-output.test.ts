/**
 * The registered results of the everyday modules are typed by their zod `output` schema: every
 * plan fixture's output (noop or change) parses with the module's schema, unchanged.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PlanContext } from '../../src/core/module.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';

const ROOT = join(import.meta.dirname, '../fixtures/modules');
const MODULES = ['package', 'stat', 'systemd', 'replace', 'sysctl', 'hostname', 'timezone', 'find', 'cron'];
const ctx: PlanContext = { host: 'web1', check: false, diff: false, hostFacts: {}, pending: [], connection: { port: 22, local: false, user: 'root' } };

describe('everyday modules: registered results match their output schema', () => {
  for (const name of MODULES) {
    it(name, () => {
      const mod = BUNDLED_MODULES.find((m) => m.name === name);
      expect(mod, `${name} is registered`).to.not.equal(undefined);
      expect(mod!.output, `${name} has an output schema`).to.not.equal(undefined);
      let checked = 0;
      for (const f of readdirSync(join(ROOT, name)).filter((x) => !x.startsWith('error-'))) {
        const fx = JSON.parse(readFileSync(join(ROOT, name, f), 'utf8')) as { params: unknown; facts?: Record<string, unknown>; ctx?: Partial<PlanContext> };
        const plan = mod!.plan(mod!.params.parse(fx.params), fx.facts ?? {}, { ...ctx, ...fx.ctx });
        if ('failed' in plan || plan.output === undefined) continue;
        const parsed = mod!.output!.safeParse(plan.output);
        expect(parsed.success, `${name}/${f}: ${parsed.success ? '' : parsed.error.message}`).to.equal(true);
        expect(parsed.data, `${name}/${f}: the schema keeps every field`).to.deep.equal(plan.output);
        checked++;
      }
      expect(checked, `${name}: fixtures with an output`).to.be.at.least(1);
    });
  }
});
