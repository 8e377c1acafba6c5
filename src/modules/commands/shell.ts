/**
 * `shell`: runs a command line through /bin/sh (or `executable`), so pipes, redirections,
 * `&&` and `$VARS` work. Always "changed", unless creates/removes skip it.
 */
import { z } from 'zod';
import { defineModule } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { commandOutput, guardParams, inlineGuards, planRun, probeGuards, runResult, type GuardFacts } from './lib/run-command.js';

const params = z.object({
  cmd: z.string().min(1).describe('The shell command line'),
  executable: z.string().default('/bin/sh').describe('The shell that runs cmd, e.g. /bin/bash for bash syntax'),
  ...guardParams,
});

export default defineModule<typeof params, GuardFacts>({
  name: 'shell',
  summary: 'Run a command line through a shell on the host.',
  description:
    'Like `command`, but the line is run by `executable -c`, so shell syntax works. Always reports "changed" unless `creates` or `removes` ' +
    'say there is nothing to do; use `changed_when` to refine. Not run in check mode.',
  examples: [
    { title: 'Pipes and redirections', task: { name: 'Count open connections', shell: 'ss -tn state established | wc -l', register: 'conns', changed_when: 'false' } },
    { title: 'Once only, with bash', task: { name: 'Build the cache', shell: { cmd: 'set -o pipefail; ./build.sh | tee build.log', chdir: '/opt/app', creates: '/opt/app/cache', executable: '/bin/bash' } } },
  ],
  params,
  output: commandOutput,
  freeForm: (text) => {
    const { rest, guards } = inlineGuards(text);
    return { cmd: rest, ...guards };
  },
  probe: probeGuards,
  plan: (p, f) => planRun(p, f, sh`${p.executable} -c ${p.cmd}`, p.cmd),
  result: (p, _f, results) => runResult(p.cmd, results),
});
