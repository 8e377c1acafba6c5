import { expect } from 'chai';
import { z } from 'zod';
import { coerceScalars } from '../../src/core/coerce.js';
import { octalMode } from '../../src/core/module.js';
import copy from '../../src/modules/files/copy.js';

describe('modules/coerce', () => {
  const schema = z.object({
    content: z.string(),
    count: z.number(),
    flag: z.boolean().optional(),
    names: z.array(z.string()).default([]),
    nested: z.object({ s: z.string().default('x') }).optional(),
    either: z.union([z.string(), z.number()]).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    mode: octalMode.optional(),
  });

  it('turns numbers and booleans into strings where the schema wants a string', () => {
    const out = coerceScalars(schema, { content: 8080, count: 1, flag: true, names: [1, true, 'a'], nested: { s: false }, labels: { a: 2 } });
    expect(out).to.deep.equal({ content: '8080', count: 1, flag: true, names: ['1', 'true', 'a'], nested: { s: 'false' }, labels: { a: '2' } });
    expect(schema.safeParse(out).success).to.equal(true);
  });

  it('leaves values a union accepts as they are, and file modes to their own error', () => {
    expect(coerceScalars(schema, { content: 'x', count: 1, either: 3, mode: 644 })).to.deep.equal({ content: 'x', count: 1, either: 3, mode: 644 });
  });

  it('returns the same object when nothing changes', () => {
    const v = { content: 'x', count: 1 };
    expect(coerceScalars(schema, v)).to.equal(v);
  });

  it('lets a module take a number as its text content', () => {
    expect(copy.params.safeParse(coerceScalars(copy.params, { content: 42, dest: '/x' })).success).to.equal(true);
  });
});
