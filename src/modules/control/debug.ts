/** `debug`: prints a message or the value of an expression (var:). Never changes anything. */
import { z } from 'zod';
import { keyValueFreeForm } from '../lib/free-form.js';
import { defineModule, noop } from '../../core/module.js';
import { evaluator, show } from '../lib/evaluate.js';

const params = z
  .object({
    msg: z.unknown().optional().describe('The message (templates are rendered before); any value is shown'),
    var: z.string().optional().describe('An expression whose value is shown, e.g. `result.stdout_lines` (no {{ }})'),
  })
  .refine((p) => !(p.msg !== undefined && p.var !== undefined), { message: 'give msg or var, not both' });

// With `var:`, the result has one more key named like the expression (as in Ansible).
const output = z
  .object({
    msg: z.unknown().optional().describe('The message (msg:)'),
  })
  .catchall(z.unknown().describe('With var: the value, under the expression as key (e.g. "uname.stdout")'));

export default defineModule({
  name: 'debug',
  summary: 'Print a message or the value of a variable.',
  examples: [
    { title: 'A message', task: { name: 'Say where', debug: { msg: 'Deploying {{ version }} to {{ inventory_hostname }}' } } },
    { title: 'A registered result', task: { name: 'Show output', debug: { var: 'uname.stdout' } } },
  ],
  params,
  expressions: (p) => (p.var === undefined ? [] : [p.var]),
  output,
  local: true,
  freeForm: keyValueFreeForm(['msg', 'var'], 'msg'),
  plan: (p, _f, ctx) => {
    if (p.var !== undefined) {
      const v = evaluator(ctx)(p.var);
      return noop(`${p.var}: ${show(v)}`, { output: { [p.var]: v } });
    }
    const msg = p.msg ?? 'Hello world!';
    return noop(typeof msg === 'string' ? msg : show(msg), { output: { msg } });
  },
});
