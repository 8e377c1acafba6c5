/**
 * `template`: renders a template from templates/ on the controller (in `prepare`, with the
 * host's variables): Jinja for `.j2`, `.jinja`, `.jinja2` (playbook/jinja.ts), EJS otherwise
 * (playbook/templates.ts); then writes it exactly like `copy` (shared plan: lib/write-file.ts).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { defineModule, failPlan } from '../../core/module.js';
import { writeParams } from './lib/file-params.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

const params = z.object({
  src: z.string().min(1).describe("Template on the controller, looked up in the role's and the project's templates/ folders: Jinja when it ends in .j2, .jinja or .jinja2 (as Ansible renders it), EJS otherwise"),
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
  summary: 'Render a Jinja or EJS template on the controller and write it to the host.',
  description:
    'The template sees the host variables (`{{ http_port }}` in a .j2 file, `<%= http_port %>` in an .ejs one), plus `ansible_managed` ' +
    '(unless a variable sets it), `template_path`, `template_fullpath` and `template_destpath`. Jinja templates render as Ansible\'s ' +
    'template module does (trim_blocks, trailing newline kept, an undefined variable is an error) with Ansible\'s common filters and tests. ' +
    'Rendering happens on the controller, inside the expression sandbox; the result is compared by sha256 and ' +
    'written atomically like `copy`, with a diff in --diff mode.',
  examples: [
    {
      title: 'A configuration file that is checked before it is used',
      task: { name: 'nginx site', template: { src: 'site.conf.ejs', dest: '/etc/nginx/sites-enabled/app.conf', mode: '0644', validate: 'nginx -t -c %s' }, notify: 'reload nginx' },
    },
    {
      title: "A Jinja template from an Ansible role, unchanged",
      task: { name: 'sshd config', template: { src: 'sshd_config.j2', dest: '/etc/ssh/sshd_config', owner: 'root', mode: '0600', validate: '/usr/sbin/sshd -t -f %s' }, notify: 'restart ssh' },
    },
  ],
  params,
  output,
  localFiles: (p) => [{ kind: 'templates', name: p.src }],
  prepare: async (p, ctx): Promise<Prepared> => {
    const file = ctx.findFile('templates', p.src);
    // Ansible's template variables; ansible_managed unless the playbook sets it.
    const extra: Record<string, unknown> = { template_path: file, template_fullpath: resolve(file), template_destpath: p.dest };
    if (!('ansible_managed' in ctx.vars)) extra.ansible_managed = 'Ansible managed';
    return { ...p, content: await ctx.renderTemplate(file, extra) };
  },
  probe: (p) => probeWrite(p.dest),
  plan: (p, f, ctx) => {
    const content = (p as Prepared).content;
    if (content === undefined) return failPlan(`template: ${p.src} was not rendered on the controller`);
    const plan = planWrite({ ...p, path: p.dest, content }, f, ctx);
    return 'failed' in plan ? plan : { ...plan, output: { dest: p.dest, size: Buffer.byteLength(content) } };
  },
});
