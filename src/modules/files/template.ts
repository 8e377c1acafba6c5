/**
 * `template`: renders an EJS template from templates/ on the controller (in `prepare`, with
 * the host's variables), then writes it exactly like `copy` (shared plan: lib/write-file.ts).
 */
import { z } from 'zod';
import { defineModule, failPlan } from '../../core/module.js';
import { writeParams } from './lib/file-params.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

const params = z.object({
  src: z.string().min(1).describe("EJS template on the controller, looked up in the role's and the project's templates/ folders"),
  dest: z.string().min(1).describe('Absolute path of the file on the host'),
  force: z.boolean().default(true).describe('Replace the file when it differs; false only creates it when missing'),
  ...writeParams,
});

type Params = z.output<typeof params>;
/** What `prepare` adds: the rendered text. */
type Prepared = Params & { content?: string };

const output = z.object({
  dest: z.string().describe('The path written'),
  size: z.number().describe('Size of the rendered content in bytes'),
});

export default defineModule<typeof params, WriteFacts>({
  name: 'template',
  summary: 'Render an EJS template on the controller and write it to the host.',
  description:
    'The template sees the host variables (`<%= http_port %>`). Rendering happens on the controller; the result is compared by sha256 and ' +
    'written atomically like `copy`, with a diff in --diff mode.',
  examples: [
    {
      title: 'A configuration file that is checked before it is used',
      task: { name: 'nginx site', template: { src: 'site.conf.ejs', dest: '/etc/nginx/sites-enabled/app.conf', mode: '0644', validate: 'nginx -t -c %s' }, notify: 'reload nginx' },
    },
  ],
  params,
  output,
  localFiles: (p) => [{ kind: 'templates', name: p.src }],
  prepare: async (p, ctx): Promise<Prepared> => ({ ...p, content: await ctx.renderTemplate(ctx.findFile('templates', p.src)) }),
  probe: (p) => probeWrite(p.dest),
  plan: (p, f, ctx) => {
    const content = (p as Prepared).content;
    if (content === undefined) return failPlan(`template: ${p.src} was not rendered on the controller`);
    const plan = planWrite({ ...p, path: p.dest, content }, f, ctx);
    return 'failed' in plan ? plan : { ...plan, output: { dest: p.dest, size: Buffer.byteLength(content) } };
  },
});
