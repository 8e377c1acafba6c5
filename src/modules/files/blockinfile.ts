/**
 * `blockinfile`: ensures a block of lines between two marker lines is in a file (or removed).
 * Edited on the controller from the fetched content, written back with one atomic `put`.
 */
import { z } from 'zod';
import { defineModule } from '../../core/module.js';
import { writeParams } from './lib/file-params.js';
import { bare, compileRegex, splitLines } from './lib/text.js';
import { probeWrite, type WriteFacts } from '../lib/write-file.js';
import { planEdit } from './lineinfile.js';

const params = z
  .object({
    path: z.string().min(1).describe('The file to edit'),
    block: z.string().default('').describe('The lines to put between the markers; empty removes the block'),
    marker: z
      .string()
      .default('# {mark} TSPLAY MANAGED BLOCK')
      .refine((m) => m.includes('{mark}'), { message: 'marker must contain {mark} (replaced by marker_begin / marker_end)' })
      .describe('Marker line template; {mark} becomes marker_begin or marker_end. Use a comment syntax the file understands'),
    marker_begin: z.string().default('BEGIN').describe('Replaces {mark} in the first marker line'),
    marker_end: z.string().default('END').describe('Replaces {mark} in the last marker line'),
    state: z.enum(['present', 'absent']).default('present').describe('Whether the block should be there'),
    insertafter: z.string().optional().describe('Where a new block goes: after the last line matching this regexp, or EOF (default)'),
    insertbefore: z.string().optional().describe('Where a new block goes: before the last line matching this regexp, or BOF'),
    create: z.boolean().default(false).describe('Create the file when it does not exist (otherwise that is an error)'),
    ...writeParams,
  })
  .refine((p) => !(p.insertafter !== undefined && p.insertbefore !== undefined), { message: 'give only one of insertafter and insertbefore' });

export type BlockParams = z.output<typeof params>;

/** The edit itself (pure). */
export function editBlock(text: string, p: BlockParams): { text: string; msg: string } {
  const begin = p.marker.replace('{mark}', p.marker_begin);
  const end = p.marker.replace('{mark}', p.marker_end);
  const lines = splitLines(text);
  let n0 = -1;
  let n1 = -1;
  lines.forEach((l, i) => {
    if (bare(l) === begin) n0 = i;
    if (bare(l) === end) n1 = i;
  });
  const blockLines = p.state === 'present' && p.block !== '' ? [begin, ...p.block.replace(/\n$/, '').split('\n'), end].map((l) => l + '\n') : [];

  const out = [...lines];
  let at: number;
  if (n0 === -1 || n1 === -1) {
    const before = p.insertbefore;
    const after = p.insertafter;
    const lastMatch = (source: string, what: string) => {
      const re = compileRegex(source, what);
      return out.reduce((last, l, i) => (re.test(bare(l)) ? i : last), -1);
    };
    if (before === 'BOF') at = 0;
    else if (before !== undefined) {
      const i = lastMatch(before, 'insertbefore');
      at = i === -1 ? out.length : i;
    } else if (after !== undefined && after !== 'EOF') {
      const i = lastMatch(after, 'insertafter');
      at = i === -1 ? out.length : i + 1;
    } else at = out.length;
  } else {
    const [a, b] = n0 < n1 ? [n0, n1] : [n1, n0];
    out.splice(a, b - a + 1);
    at = a;
  }
  if (blockLines.length && at > 0 && !out[at - 1]!.endsWith('\n')) out[at - 1] += '\n';
  out.splice(at, 0, ...blockLines);
  const next = out.join('');
  if (next === text) return { text, msg: '' };
  const had = n0 !== -1 && n1 !== -1;
  return { text: next, msg: blockLines.length ? (had ? 'block updated' : 'block inserted') : 'block removed' };
}

const output = z.object({
  path: z.string().describe('The file'),
  msg: z.string().describe('"block inserted", "block updated", "block removed" or ""'),
});

export default defineModule<typeof params, WriteFacts>({
  name: 'blockinfile',
  summary: 'Ensure a block of lines between marker lines is in a file, or remove it.',
  description: 'The file is edited on the controller and written atomically (with validate and diff). Markers identify the block on later runs, so keep them unique per block.',
  examples: [
    {
      title: 'Static hosts',
      task: {
        name: 'Cluster hosts',
        blockinfile: { path: '/etc/hosts', marker: '# {mark} cluster nodes', block: '10.0.0.11 node1\n10.0.0.12 node2\n' },
      },
    },
  ],
  params,
  output,
  probe: (p) => probeWrite(p.path),
  plan: (p, f, ctx) => planEdit(p, f, ctx, (text) => editBlock(text, p)),
});
