/** `fail`: fails the host with a message (use with `when:`). */
import { z } from 'zod';
import { keyValueFreeForm } from '../lib/free-form.js';
import { defineModule, failPlan } from '../../core/module.js';

const params = z.object({
  msg: z.string().default('Failed as requested from task').describe('Why the host fails'),
});

export default defineModule({
  name: 'fail',
  summary: 'Fail the host with a message.',
  examples: [{ title: 'Refuse an unsupported OS', task: { name: 'Debian only', fail: { msg: 'this playbook supports Debian only' }, when: "facts.os_family !== 'debian'" } }],
  params,
  output: z.object({}),
  local: true,
  freeForm: keyValueFreeForm(['msg'], 'msg'),
  plan: (p) => failPlan(p.msg),
});
