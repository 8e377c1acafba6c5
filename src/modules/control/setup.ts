/**
 * `setup`: gathers host facts (hostname, OS, addresses, memory, init, package manager...) in
 * one exec; the engine runs it for `gather_facts` and stores the result as the host's
 * `facts`. The command, parser and field list live in src/facts/gather.ts.
 */
import { z } from 'zod';
import { defineModule, noop } from '../../core/module.js';
import { hostFacts, type HostFactsData } from '../../facts/gather.js';

const params = z.object({}).describe('setup takes no parameters');

export default defineModule<typeof params, { host: HostFactsData }>({
  name: 'setup',
  summary: 'Gather facts about the host (OS, addresses, memory, init system...).',
  description: 'Fields: see src/facts/gather.ts. They are available as `facts.*` (e.g. `facts.os_family`, `facts.default_ipv4.address`).',
  examples: [{ title: 'Re-gather after a change', task: { name: 'Refresh facts', setup: {} } }],
  params,
  output: z.object({ facts: z.record(z.string(), z.unknown()).describe('The gathered facts') }),
  probe: () => ({ host: hostFacts() }),
  plan: (_p, f) => noop(`gathered facts: ${f.host.os_pretty || f.host.os_id} on ${f.host.hostname}`, { setFacts: { facts: f.host }, output: { facts: f.host } }),
});
