/** `set_fact`: sets host variables for the rest of the run (values are rendered before). */
import { z } from 'zod';
import { defineModule, noop } from '../../core/module.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const params = z
  .record(z.string(), z.unknown())
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one variable, e.g. set_fact: { app_port: 8080 }' })
  .refine((v) => Object.keys(v).every((k) => NAME.test(k)), { message: 'variable names are letters, digits and _ and do not start with a digit' })
  .describe('Variables to set: each key is a variable name, each value its value');

export default defineModule({
  name: 'set_fact',
  summary: 'Set host variables from values computed during the run.',
  examples: [{ title: 'Derive a value', task: { name: 'Compute the URL', set_fact: { app_url: 'http://{{ inventory_hostname }}:{{ app_port }}/' } } }],
  params,
  output: z.record(z.string(), z.unknown()).describe('The variables set'),
  local: true,
  plan: (p) => noop(`set ${Object.keys(p).join(', ')}`, { setFacts: p, output: p }),
});
