/**
 * `ping`: checks that tsplay reaches the host and runs a command there (Ansible's ping checks
 * the login and the Python; tsplay needs no Python, so a shell answering is the whole check).
 */
import { z } from 'zod';
import { defineModule, noop } from '../../core/module.js';
import { pong } from '../../facts/system-settings.js';

const params = z.object({
  data: z.string().default('pong').describe('What the result\'s `ping` holds when the host answered (as in Ansible; "crash" is not special)'),
});

const output = z.object({ ping: z.string().describe('`data` (default "pong") once the host answered') });

export default defineModule<typeof params, { answer: 'pong' }>({
  name: 'ping',
  summary: 'Check that the host is reachable and runs commands (changes nothing).',
  description: 'Logs in (with become when asked) and runs `echo pong` in the section\'s batched read; an unreachable host is reported unreachable. Never changes anything, in check mode too.',
  examples: [{ title: 'Are the hosts up?', task: { name: 'ping', ping: {} } }],
  params,
  output,
  freeForm: (text) => (text.trim() === '' ? {} : { data: text.trim().replace(/^data=/, '') }),
  probe: () => ({ answer: pong() }),
  plan: (p, f) => noop(`the host answered ${f.answer}`, { output: { ping: p.data } }),
});
