/**
 * `assert`: fails the host when a condition is false. `that` holds bare expressions (like
 * `when:`), evaluated by the engine through PlanContext.evaluate; each must give a boolean.
 */
import { z } from 'zod';
import { defineModule, failPlan, noop } from '../../core/module.js';
import { evaluator, show } from '../lib/evaluate.js';

const params = z.object({
  that: z
    .union([z.string(), z.array(z.string()).min(1)])
    .describe('One expression or a list (no {{ }}); each must evaluate to true, e.g. `facts.memtotal_mb >= 1024`'),
  fail_msg: z.string().optional().describe('Message when an expression is false (default: names the expression)'),
  success_msg: z.string().optional().describe('Message when all are true'),
  quiet: z.boolean().default(false).describe('Do not list the passed expressions in the result'),
});

const output = z.object({
  msg: z.string().describe('fail_msg or success_msg, or the default message'),
  assertion: z.string().optional().describe('The first false expression'),
  evaluated_to: z.unknown().optional().describe('What the first false expression gave'),
});

export default defineModule({
  name: 'assert',
  summary: 'Fail the host unless every expression is true.',
  description: 'Expressions are the same as in `when:` (no {{ }}); each must give a boolean: compare explicitly rather than relying on truthiness.',
  examples: [
    {
      title: 'Check the host before changing it',
      task: { name: 'Enough memory', assert: { that: ['facts.memtotal_mb >= 1024', "facts.os_family === 'debian'"], fail_msg: 'needs a Debian host with 1 GiB' } },
    },
  ],
  params,
  expressions: (p) => (Array.isArray(p.that) ? p.that : [p.that]),
  output,
  local: true,
  plan: (p, _f, ctx) => {
    const evaluate = evaluator(ctx);
    const that = Array.isArray(p.that) ? p.that : [p.that];
    for (const expr of that) {
      const v = evaluate(expr);
      if (typeof v !== 'boolean') return failPlan(`assert: \`${expr}\` gave ${show(v)}, not a boolean; compare explicitly (e.g. \`x === 'yes'\`)`);
      if (!v) return failPlan(p.fail_msg ?? `Assertion failed: ${expr}`);
    }
    const msg = p.success_msg ?? 'All assertions passed';
    return noop(p.quiet ? msg : `${msg}: ${that.join('; ')}`, { output: { msg } });
  },
});
