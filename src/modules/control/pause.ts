/**
 * `pause`: waits on the controller for `seconds` or `minutes` (every host of the task waits at
 * the same time, so the play pauses once). tsplay never waits for a keypress: a `prompt` is
 * shown as a warning and the play goes on, which is what Ansible does when stdin is not a
 * terminal (CI, cron); a prompt with no time given does not pause at all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineModule, noop } from '../../core/module.js';
import { keyValueFreeForm } from '../lib/free-form.js';

const params = z
  .object({
    seconds: z.number().nonnegative().optional().describe('Seconds to wait'),
    minutes: z.number().nonnegative().optional().describe('Minutes to wait'),
    prompt: z.string().optional().describe('Text shown (as a warning: tsplay does not wait for input)'),
    echo: z.boolean().default(true).describe('Accepted for Ansible compatibility (no input is read)'),
  })
  .refine((p) => p.seconds === undefined || p.minutes === undefined, { message: 'give seconds or minutes, not both' });

type Params = z.output<typeof params> & {
  /** Set by prepare: when the wait started and ended (ms since the epoch). */
  started?: number;
  stopped?: number;
};

const output = z.object({
  start: z.string().describe('When the pause started (UTC, like Ansible: YYYY-MM-DD HH:MM:SS.ffffff)'),
  stop: z.string().describe('When it ended'),
  delta: z.number().describe('Seconds paused'),
  user_input: z.string().describe('Always "" (tsplay reads no input)'),
  echo: z.boolean().describe('The echo parameter'),
  stdout: z.string().describe('"Paused for N seconds" or "Paused for N minutes"'),
});

const freeForm = keyValueFreeForm(['seconds', 'minutes', 'prompt', 'echo'], 'prompt');

const waitMs = (p: Params) => (p.minutes !== undefined ? p.minutes * 60_000 : (p.seconds ?? 0) * 1000);
const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '000');

export default defineModule({
  name: 'pause',
  summary: 'Wait a number of seconds or minutes; a prompt is shown, never waited for.',
  description:
    'The wait happens on the controller, for all hosts of the task at once. Unlike Ansible at a terminal, tsplay never reads input: ' +
    '`prompt` is printed as a warning and the play continues (Ansible does the same when stdin is not a terminal, e.g. in CI). ' +
    'A prompt without seconds or minutes therefore does not pause. Check mode pauses too, as in Ansible. Ctrl-C ends the pause and the run.',
  examples: [
    { title: 'Let a cluster settle', task: { name: 'Wait for the leader election', pause: { seconds: 20 } } },
    { title: 'An operator note (not waited for)', task: { name: 'Reminder', pause: { prompt: 'Check the dashboard before the next batch', minutes: 1 } } },
  ],
  params,
  output,
  local: true,
  freeForm: (text) => {
    // `pause: seconds=10`: the numbers and echo's boolean of Ansible's key=value form.
    const kv = freeForm(text);
    for (const k of ['seconds', 'minutes']) if (typeof kv[k] === 'string' && /^\d+(\.\d+)?$/.test(kv[k])) kv[k] = Number(kv[k]);
    if (typeof kv.echo === 'string' && /^(true|false|yes|no)$/i.test(kv.echo)) kv.echo = /^(true|yes)$/i.test(kv.echo);
    return kv;
  },
  prepare: async (p: Params, ctx) => {
    const started = Date.now();
    const ms = waitMs(p);
    if (ms > 0) await sleep(ms, undefined, { signal: ctx.signal }).catch(() => undefined);
    return { ...p, started, stopped: Date.now() };
  },
  plan: (p: Params) => {
    const started = p.started ?? Date.now();
    const stopped = p.stopped ?? started;
    const stdout = p.minutes !== undefined ? `Paused for ${p.minutes} minutes` : `Paused for ${p.seconds ?? 0} seconds`;
    const warnings = p.prompt !== undefined ? [`pause: ${p.prompt} (not waiting for input: tsplay runs non-interactively${waitMs(p) ? '' : '; no time given, so no pause'})`] : [];
    return noop(stdout, {
      output: { start: stamp(started), stop: stamp(stopped), delta: Math.round((stopped - started) / 1000), user_input: '', echo: p.echo, stdout },
      warnings,
    });
  },
});
