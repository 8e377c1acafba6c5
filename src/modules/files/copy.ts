/**
 * `copy`: puts a file on the host from inline `content` or from a controller file (`src`,
 * looked up in files/ and read in `prepare`). One atomic write when the sha256 differs;
 * chmod/chown only when just the attributes differ.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { z } from 'zod';
import { defineModule, failPlan } from '../../core/module.js';
import { decodeUtf8 } from '../../facts/file-content.js';
import { writeParams } from './lib/file-params.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

const params = z
  .object({
    dest: z.string().min(1).describe('Absolute path of the file on the host; ending in "/" means "into this folder, named like src"'),
    content: z.string().optional().describe('The file content (use instead of src)'),
    src: z.string().optional().describe("A file on the controller, looked up in the role's and the project's files/ folders"),
    content_encoding: z.enum(['utf8', 'base64']).default('utf8').describe('How content is encoded: base64 allows binary content'),
    force: z.boolean().default(true).describe('Replace the file when it differs; false only creates it when missing'),
    ...writeParams,
  })
  .refine((p) => (p.content === undefined) !== (p.src === undefined), { message: 'give exactly one of content or src' })
  .refine((p) => !p.dest.endsWith('/') || p.src !== undefined, { message: 'dest ends with "/" (a folder): give the full file path when using content' });

type Params = z.output<typeof params>;

/** dest, with a trailing "/" replaced by the name of src. */
export function destPath(p: { dest: string; src?: string }): string {
  return p.dest.endsWith('/') && p.src ? p.dest + posix.basename(p.src) : p.dest;
}

const output = z.object({
  dest: z.string().describe('The path written'),
  size: z.number().describe('Size of the wanted content in bytes'),
});

export default defineModule<typeof params, WriteFacts>({
  name: 'copy',
  summary: 'Put a file on the host from inline content or a file on the controller.',
  description:
    'Compares sha256 first: an unchanged file is never rewritten. Writes are atomic (temp file in the same folder, optional validate, rename). ' +
    'Symlinks at dest are refused rather than replaced.',
  examples: [
    { title: 'Inline content', task: { name: 'Message of the day', copy: { dest: '/etc/motd', content: 'Managed by tsplay\n', mode: '0644' } } },
    {
      title: 'A file from files/, validated',
      task: { name: 'sudo rules for deploy', copy: { src: 'sudoers-deploy', dest: '/etc/sudoers.d/deploy', mode: '0440', owner: 'root', group: 'root', validate: 'visudo -cf %s' } },
    },
  ],
  params,
  output,
  localFiles: (p) => (p.src === undefined ? [] : [{ kind: 'files', name: p.src }]),
  prepare: async (p, ctx) => {
    if (p.src === undefined) return p;
    const file = ctx.findFile('files', p.src);
    const bytes = ctx.readFile ? await ctx.readFile(file) : await readFile(file);
    const text = decodeUtf8(bytes);
    return text === undefined ? { ...p, content: bytes.toString('base64'), content_encoding: 'base64' } : { ...p, content: text, content_encoding: 'utf8' };
  },
  probe: (p) => probeWrite(destPath(p)),
  plan: (p, f, ctx) => {
    if (p.content === undefined) return failPlan(`copy: src ${p.src} was not read on the controller`);
    const content = p.content_encoding === 'base64' ? Buffer.from(p.content, 'base64') : p.content;
    const plan = planWrite({ ...p, path: destPath(p), content }, f, ctx);
    return 'failed' in plan ? plan : { ...plan, output: { dest: destPath(p), size: Buffer.byteLength(content) } };
  },
});

export type CopyParams = Params;
