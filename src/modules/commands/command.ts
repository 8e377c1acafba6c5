/**
 * `command`: runs a program with arguments, without a shell (no pipes, redirections or
 * variable expansion; use `shell` for those). Always "changed", unless creates/removes skip it.
 */
import { z } from 'zod';
import { defineModule, failPlan } from '../../core/module.js';
import { quote } from '../../core/quote.js';
import { shellSplit } from './lib/shlex.js';
import { commandOutput, guardParams, inlineGuards, planRun, probeGuards, runResult, type GuardFacts } from './lib/run-command.js';

const params = z
  .object({
    cmd: z.string().min(1).optional().describe('The command line, split into words like a shell splits them (quotes work), then run without a shell'),
    argv: z.array(z.string()).min(1).optional().describe('The program and its arguments as a list; nothing is split or expanded'),
    ...guardParams,
  })
  .refine((p) => (p.cmd === undefined) !== (p.argv === undefined), { message: 'give exactly one of cmd or argv' });

type Params = z.output<typeof params>;

/** The words to run, or an error message for an unsplittable string. */
function words(p: Params): string[] | string {
  if (p.argv) return p.argv;
  try {
    return shellSplit(p.cmd!);
  } catch (e) {
    return (e as Error).message;
  }
}

const shown = (p: Params) => p.cmd ?? p.argv!.map(quote).join(' ');

export default defineModule<typeof params, GuardFacts>({
  name: 'command',
  summary: 'Run a program with arguments on the host, without a shell.',
  description:
    'The command always reports "changed" (tsplay cannot know what it did) unless `creates` or `removes` say there is nothing to do; ' +
    'use `changed_when` to refine. Shell features (pipes, `>`, `$VAR`, `&&`) are not interpreted: use `shell` for those. ' +
    'Not run in check mode. The free form `command: ls -l /tmp creates=/x` is accepted.',
  examples: [
    { title: 'Initialise a database once', task: { name: 'Create the schema', command: { argv: ['/usr/local/bin/app', 'migrate', '--init'], creates: '/var/lib/app/db.sqlite' } } },
    { title: 'Free form', task: { name: 'Show the kernel', command: 'uname -a', register: 'uname' } },
  ],
  params,
  output: commandOutput,
  freeForm: (text) => {
    const { rest, guards } = inlineGuards(text);
    return { cmd: rest, ...guards };
  },
  probe: probeGuards,
  plan: (p, f) => {
    const w = words(p);
    if (typeof w === 'string') return failPlan(`command: ${w}`);
    if (w.length === 0) return failPlan('command: nothing to run');
    return planRun(p, f, w.map(quote).join(' '), shown(p));
  },
  result: (p, _f, results) => runResult(shown(p), results),
});
