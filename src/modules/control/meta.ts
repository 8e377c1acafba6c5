/**
 * `meta`: acts on the run itself (handlers, the play, a host's facts and errors). The module only
 * checks the action and reports it; the engine (engine/meta.ts) does what it says.
 */
import { z } from 'zod';
import { didYouMean } from '../../core/errors.js';
import { META_ACTIONS } from '../../core/meta.js';
import { defineModule, noop } from '../../core/module.js';

const params = z.object({
  action: z
    .string()
    .superRefine((v, c) => {
      if ((META_ACTIONS as readonly string[]).includes(v)) return;
      if (v === 'refresh_inventory') {
        c.addIssue({ code: 'custom', message: 'refresh_inventory is not supported (tsplay reads the inventory once, before the run)' });
        return;
      }
      const dym = didYouMean(v, META_ACTIONS);
      c.addIssue({ code: 'custom', message: `unknown meta action "${v}"; ${dym ? `did you mean "${dym}"?` : `one of ${META_ACTIONS.join(', ')}`}` });
    })
    .describe(
      'What to do, written literally: flush_handlers (run the notified handlers now), end_play (end the play for every host), end_batch (end the current serial batch), ' +
        'end_host (end the play for this host; it is not failed), clear_facts (forget the gathered facts: the next play with gather_facts reads them again), ' +
        'clear_host_errors (the failed hosts of the play go on with the next task), noop',
    ),
});

export default defineModule({
  name: 'meta',
  summary: 'Run the notified handlers now, end the play or a host, forget facts or host errors.',
  description:
    'The engine applies the action for the hosts the task ran on (its `when` true). A meta task counts as ok where it ran and skipped where its `when` was false; ' +
    'it waits for every host (no host goes past it before all reached it). Hosts that left the play (end_host, end_batch, end_play) are not failed, ' +
    'do not run its notified handlers, and take part in the next play. The action is written literally (no template). ' +
    'refresh_inventory is not supported: tsplay reads the inventory once. In a handler list, meta does nothing.',
  examples: [
    { title: 'Restart now, before the checks below', task: { name: 'Flush handlers', meta: 'flush_handlers' } },
    { title: 'Stop here on hosts already set up', task: { name: 'Nothing more to do', meta: 'end_host', when: 'marker.stat.exists' } },
  ],
  params,
  output: z.object({}),
  local: true,
  freeForm: (text) => ({ action: text.trim() }),
  plan: (p) => noop(`meta: ${p.action}`),
});
