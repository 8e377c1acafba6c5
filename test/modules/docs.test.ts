/**
 * Docs come from code: every built-in module has a summary and at least one example whose
 * parameters pass its schema, every parameter has a description, and names are unique.
 */
import { expect } from 'chai';
import { z } from 'zod';
import { BUNDLED_MODULES } from '../../src/modules/index.js';

type AnyZod = z.ZodType & { def: { type: string; innerType?: AnyZod; shape?: Record<string, AnyZod> }; description?: string };

/** The description of a field, looking through optional/default/nullable wrappers. */
function describedAnywhere(s: AnyZod): boolean {
  for (let cur: AnyZod | undefined = s; cur; cur = cur.def.innerType) if (cur.description) return true;
  return false;
}

/** Parameter paths without a description ("" is the schema itself, for record-shaped params). */
export function undocumented(schema: AnyZod): string[] {
  const shape = (schema as unknown as { shape?: Record<string, AnyZod> }).shape;
  if (!shape) return describedAnywhere(schema) ? [] : [''];
  return Object.entries(shape)
    .filter(([, field]) => !describedAnywhere(field))
    .map(([k]) => k);
}

describe('module docs', () => {
  it('module names are unique', () => {
    const names = BUNDLED_MODULES.map((m) => m.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).to.deep.equal([]);
  });

  it('the docs check itself catches an undescribed parameter', () => {
    expect(undocumented(z.object({ a: z.string().describe('x'), b: z.string().optional() }) as unknown as AnyZod)).to.deep.equal(['b']);
    expect(undocumented(z.object({ a: z.string().describe('x').optional() }) as unknown as AnyZod)).to.deep.equal([]);
    expect(undocumented(z.record(z.string(), z.unknown()) as unknown as AnyZod)).to.deep.equal(['']);
  });

  for (const m of BUNDLED_MODULES) {
    describe(m.name, () => {
      it('has a summary and examples', () => {
        expect(m.summary, 'summary').to.be.a('string').and.not.equal('');
        expect(m.examples.length, 'examples').to.be.at.least(1);
      });

      it('describes every parameter', () => {
        expect(undocumented(m.params as AnyZod)).to.deep.equal([]);
        if (m.output) expect(undocumented(m.output as AnyZod), 'output fields').to.deep.equal([]);
      });

      it('has examples whose parameters are valid', () => {
        for (const ex of m.examples) {
          expect(ex.title, 'example title').to.be.a('string').and.not.equal('');
          expect(ex.task, `example "${ex.title}" uses the module`).to.have.property(m.name);
          let args = ex.task[m.name];
          if (JSON.stringify(args).includes('{{')) continue; // templates are rendered at run time
          if (typeof args === 'string') {
            expect(m.freeForm, `${m.name} has no free form but example "${ex.title}" uses one`).to.be.a('function');
            args = m.freeForm!(args);
          }
          const r = m.params.safeParse(args);
          expect(r.success, `example "${ex.title}": ${r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`).to.equal(true);
        }
      });
    });
  }
});
