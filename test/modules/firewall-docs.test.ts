/**
 * Docs come from code: install-ufw and docker-firewall describe every parameter (also inside
 * the rule / allow entries), their examples pass their schemas, and `tsplay doc` can render them.
 */
import { expect } from 'chai';
import { z } from 'zod';
import { moduleDoc, paramDocs } from '../../src/docs/module-doc.js';
import type { AnyModule } from '../../src/core/module.js';
import { BUNDLED_MODULES } from '../../src/modules/index.js';

const FIREWALL_MODULES = BUNDLED_MODULES.filter((m) => ['install-ufw', 'docker-firewall'].includes(m.name));

type AnyZod = z.ZodType & { def: { type: string; innerType?: AnyZod; element?: AnyZod; options?: AnyZod[] }; description?: string; shape?: Record<string, AnyZod> };

/** Looks through optional/default wrappers for a description. */
function described(s: AnyZod): boolean {
  for (let cur: AnyZod | undefined = s; cur; cur = cur.def.innerType) if (cur.description) return true;
  return false;
}

/** Paths of undescribed fields, descending into arrays of objects. */
function undocumented(schema: AnyZod, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, field] of Object.entries(schema.shape ?? {})) {
    if (!described(field)) out.push(prefix + k);
    let inner: AnyZod | undefined = field;
    while (inner && !inner.shape && (inner.def.innerType || inner.def.element)) inner = inner.def.innerType ?? inner.def.element;
    if (inner?.shape) out.push(...undocumented(inner, `${prefix}${k}[].`));
  }
  return out;
}

describe('firewall module docs', () => {
  it('registers install-ufw and docker-firewall', () => {
    expect(FIREWALL_MODULES.map((m) => m.name)).to.deep.equal(['install-ufw', 'docker-firewall']);
  });

  for (const m of FIREWALL_MODULES as AnyModule[]) {
    describe(m.name, () => {
      it('describes every parameter, nested ones included, and every output field', () => {
        expect(undocumented(m.params as AnyZod)).to.deep.equal([]);
        expect(undocumented(m.output as AnyZod)).to.deep.equal([]);
      });

      it('has examples that pass its schema', () => {
        expect(m.examples.length).to.be.at.least(2);
        for (const ex of m.examples) {
          const r = m.params.safeParse(ex.task[m.name]);
          expect(r.success, `${ex.title}: ${r.success ? '' : JSON.stringify(r.error.issues)}`).to.equal(true);
        }
      });

      it('renders with tsplay doc', () => {
        const doc = moduleDoc(m);
        expect(doc).to.include(`${m.name} — `);
        expect(paramDocs(m).every((p) => p.description)).to.equal(true);
      });
    });
  }

  it('the nested check finds an undescribed field in a list of objects', () => {
    const s = z.object({ rules: z.array(z.object({ a: z.string().describe('a'), b: z.string() })).describe('rules') });
    expect(undocumented(s as unknown as AnyZod)).to.deep.equal(['rules[].b']);
  });
});
