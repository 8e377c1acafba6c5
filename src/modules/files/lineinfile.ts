/**
 * `lineinfile`: ensures one line is present (replacing the line a regexp matches) or absent.
 * The file is fetched (fileContent fact), edited here on the controller with the same rules as
 * Ansible's lineinfile, and written back with one atomic `put`, so it is diffable.
 */
import { z } from 'zod';
import { defineModule, failPlan, noop, type Plan, type PlanContext } from '../../core/module.js';
import { normPath } from '../../facts/keys.js';
import { writeParams } from './lib/file-params.js';
import { bare, compileRegex, splitLines, withNewline } from './lib/text.js';
import { checkWritable, planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

const params = z
  .object({
    path: z.string().min(1).describe('The file to edit'),
    line: z.string().optional().describe('The line to put in the file (state: present); with backrefs, \\1 and \\g<name> refer to regexp groups'),
    regexp: z
      .string()
      .optional()
      .describe('Regular expression: the last matching line is replaced (state: present) or every matching line removed (state: absent). Python-style (?P<name>) groups work'),
    search_string: z.string().optional().describe('Literal text instead of regexp: lines containing it are replaced or removed'),
    state: z.enum(['present', 'absent']).default('present').describe('Whether the line should be there'),
    insertafter: z.string().optional().describe('Where a new line goes when nothing matches: after the last line matching this regexp, or EOF (default)'),
    insertbefore: z.string().optional().describe('Where a new line goes when nothing matches: before the last line matching this regexp, or BOF'),
    firstmatch: z.boolean().default(false).describe('Use the first match of regexp/insertafter/insertbefore instead of the last'),
    backrefs: z.boolean().default(false).describe('Expand regexp groups in line; if regexp matches nothing the file is left alone'),
    create: z.boolean().default(false).describe('Create the file when it does not exist (otherwise that is an error)'),
    ...writeParams,
  })
  .refine((p) => p.state === 'absent' || p.line !== undefined, { message: 'state: present needs line', path: ['line'] })
  .refine((p) => p.state === 'present' || p.line !== undefined || p.regexp !== undefined || p.search_string !== undefined, {
    message: 'state: absent needs regexp, search_string or line',
  })
  .refine((p) => !(p.regexp !== undefined && p.search_string !== undefined), { message: 'give only one of regexp and search_string' })
  .refine((p) => !(p.insertafter !== undefined && p.insertbefore !== undefined), { message: 'give only one of insertafter and insertbefore' })
  .refine((p) => !p.backrefs || p.regexp !== undefined, { message: 'backrefs needs regexp', path: ['backrefs'] });

export type LineParams = z.output<typeof params>;

/** Expands Python-style \1 and \g<name> in line from a match. */
function expand(line: string, m: RegExpExecArray): string {
  return line.replace(/\\(\d+)|\\g<(\w+)>/g, (_all, num: string | undefined, name: string | undefined) => {
    if (num !== undefined) return m[Number(num)] ?? '';
    return (/^\d+$/.test(name!) ? m[Number(name)] : m.groups?.[name!]) ?? '';
  });
}

/** The edit itself (pure): returns the new text and what happened ('' when nothing changed). */
export function editLine(text: string, p: LineParams): { text: string; msg: string } {
  const lines = splitLines(text);
  const re = p.regexp !== undefined ? compileRegex(p.regexp, 'regexp') : undefined;
  const matches = (cur: string): RegExpExecArray | boolean =>
    re ? (re.exec(cur) ?? false) : p.search_string !== undefined ? cur.includes(p.search_string) : cur === p.line;

  if (p.state === 'absent') {
    const kept = lines.filter((l) => !matches(bare(l)));
    const n = lines.length - kept.length;
    return n ? { text: kept.join(''), msg: `${n} line${n > 1 ? 's' : ''} removed` } : { text, msg: '' };
  }

  const line = p.line!;
  const anchor = p.insertafter ?? p.insertbefore;
  const insRe = anchor !== undefined && anchor !== 'BOF' && anchor !== 'EOF' ? compileRegex(anchor, p.insertafter !== undefined ? 'insertafter' : 'insertbefore') : undefined;
  let matchIdx = -1;
  let insIdx = -1;
  let match: RegExpExecArray | boolean = false;
  for (let i = 0; i < lines.length; i++) {
    const cur = bare(lines[i]!);
    const found = matches(cur);
    if (found) {
      matchIdx = i;
      match = found;
      if (p.firstmatch) break;
    } else if (insRe?.test(cur)) {
      insIdx = p.insertafter !== undefined ? i + 1 : i;
      if (p.firstmatch) break;
    }
  }
  // No regexp/search_string match, but the exact line is already there: nothing to do.
  if (matchIdx === -1 && !p.backrefs && (re || p.search_string !== undefined) && lines.some((l) => bare(l) === line)) {
    return { text, msg: '' };
  }

  const out = [...lines];
  if (matchIdx !== -1) {
    const newLine = p.backrefs && typeof match === 'object' ? expand(line, match) : line;
    if (bare(out[matchIdx]!) === newLine) return { text, msg: '' };
    out[matchIdx] = newLine + '\n';
    return { text: out.join(''), msg: 'line replaced' };
  }
  if (p.backrefs) return { text, msg: '' };
  const added = { msg: 'line added' };
  if (anchor === 'BOF') return { text: [line + '\n', ...out].join(''), ...added };
  if (anchor === 'EOF' || anchor === undefined || insIdx === -1) return { text: [...withNewline(out), line + '\n'].join(''), ...added };
  if (p.insertafter !== undefined) {
    if (insIdx === out.length) {
      if (bare(out[insIdx - 1]!) === line) return { text, msg: '' };
      return { text: [...withNewline(out), line + '\n'].join(''), ...added };
    }
    if (bare(out[insIdx]!) === line) return { text, msg: '' };
  } else if (insIdx > 0 && bare(out[insIdx - 1]!) === line) {
    return { text, msg: '' };
  }
  out.splice(insIdx, 0, line + '\n');
  return { text: out.join(''), ...added };
}

/** Shared by lineinfile and blockinfile: fetch, edit on the controller, write back. */
export function planEdit(
  p: { path: string; create: boolean; state: string; mode?: string; owner?: string; group?: string; backup: boolean; validate?: string },
  f: WriteFacts,
  ctx: PlanContext,
  edit: (text: string) => { text: string; msg: string },
): Plan {
  const path = normPath(p.path);
  const refuse = checkWritable(path, f.stat);
  if (refuse) return failPlan(refuse);
  let before = '';
  if (f.stat.exists) {
    const c = f.content;
    if (!c.exists || c.type !== 'file') return failPlan(`${path} is not a regular file`);
    if (c.binary) return failPlan(`${path} is not UTF-8 text: it cannot be edited line by line`);
    if (c.content === undefined) return failPlan(`${path} is larger than 1 MiB: it cannot be edited line by line`);
    before = c.content;
  } else if (p.state === 'absent') {
    return noop(`${path} does not exist`);
  } else if (!p.create) {
    return failPlan(`${path} does not exist; set create: true to create it`);
  }
  let result: { text: string; msg: string };
  try {
    result = edit(before);
  } catch (e) {
    return failPlan((e as Error).message);
  }
  const plan = planWrite({ ...p, path, content: result.text }, f, ctx);
  if ('failed' in plan) return plan;
  if (!plan.changed) return noop(`${path}: ${p.state === 'absent' ? 'nothing to remove' : 'already in place'}`, { output: { path, msg: '' } });
  const changes = result.msg && plan.changes[0]?.match(/^(update|create) /) ? [`${result.msg} in ${path}${f.stat.exists ? '' : ' (new file)'}`, ...plan.changes.slice(1)] : plan.changes;
  return { ...plan, changes, output: { path, msg: result.msg } };
}

const output = z.object({
  path: z.string().describe('The file'),
  msg: z.string().describe('"line added", "line replaced", "N lines removed" or ""'),
});

export default defineModule<typeof params, WriteFacts>({
  name: 'lineinfile',
  summary: 'Ensure a line is in a file (or is not), replacing the line a regexp matches.',
  description:
    'Edits happen on the controller from the fetched file, then the whole file is written atomically (with validate and diff). ' +
    'Rules follow Ansible: the last regexp match is replaced; if nothing matches the line is inserted at insertafter/insertbefore, else at the end. ' +
    'If regexp matches nothing but the exact line is already present, nothing changes. Regular expressions are JavaScript ones.',
  examples: [
    {
      title: 'Disable password logins',
      task: {
        name: 'sshd: no passwords',
        lineinfile: { path: '/etc/ssh/sshd_config', regexp: '^#?PasswordAuthentication ', line: 'PasswordAuthentication no', validate: '/usr/sbin/sshd -t -f %s' },
        notify: 'restart ssh',
      },
    },
    { title: 'Remove a line', task: { name: 'No old mirror', lineinfile: { path: '/etc/hosts', regexp: 'old-mirror', state: 'absent' } } },
  ],
  params,
  output,
  probe: (p) => probeWrite(p.path),
  plan: (p, f, ctx) => planEdit(p, f, ctx, (text) => editLine(text, p)),
});
