/**
 * `replace`: replaces every match of a regular expression in a file, like Ansible's replace.
 * The file is fetched, edited on the controller (Python-style `(?P<name>)` groups and `\1`,
 * `\g<name>` backrefs translated) and written back with one atomic, conditional put.
 */
import { z } from 'zod';
import { defineModule, failPlan, type Plan } from '../../core/module.js';
import { normPath } from '../../facts/keys.js';
import { writeParams } from './lib/file-params.js';
import { compileRegex } from './lib/text.js';
import { planEdit } from './lineinfile.js';
import { probeWrite, type WriteFacts } from '../lib/write-file.js';

const params = z.object({
  path: z.string().min(1).describe('The file to edit; it must exist'),
  regexp: z.string().min(1).describe('Regular expression (Python syntax as in Ansible: (?P<name>...) works); matched with ^ and $ at every line, . not matching a newline'),
  replace: z.string().default('').describe('Replacement; \\1 and \\g<name> (or \\g<1>) insert groups, \\n a newline, \\\\ a backslash; empty deletes the matches'),
  after: z.string().optional().describe('Only replace after the first match of this expression (. matches newlines here, like Ansible\'s DOTALL)'),
  before: z.string().optional().describe('Only replace before the last match of this expression; with after: between after and the first match of before that follows it'),
  ...writeParams,
});

type Params = z.output<typeof params>;

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** Expands a Python `re.sub` replacement template for one match (pure). */
export function expandTemplate(template: string, groups: Array<string | undefined>, named: Record<string, string | undefined> | undefined): string {
  return template.replace(/\\(?:g<(\w+)>|(\d{1,2})|(.))/gs, (all, name: string | undefined, num: string | undefined, ch: string | undefined) => {
    if (name !== undefined) {
      if (/^\d+$/.test(name)) return groups[Number(name)] ?? '';
      if (!named || !(name in named)) throw new Error(`replace refers to the unknown group \\g<${name}>`);
      return named[name] ?? '';
    }
    if (num !== undefined) {
      if (Number(num) >= groups.length) throw new Error(`replace refers to group \\${num}, but regexp has ${groups.length - 1} group${groups.length === 2 ? '' : 's'}`);
      return groups[Number(num)] ?? '';
    }
    return ESCAPES[ch!] ?? all;
  });
}

/** The edit (pure): replaces every match in the section between after and before. */
export function replaceText(text: string, p: Pick<Params, 'regexp' | 'replace' | 'after' | 'before'>): { text: string; msg: string } {
  const re = compileRegex(p.regexp, 'regexp');
  const global = new RegExp(re.source, 'gm');
  let start = 0;
  let end = text.length;
  if (p.after !== undefined || p.before !== undefined) {
    // Like Ansible: after(?P<subsection>.*?)before, matched with DOTALL.
    const a = p.after !== undefined ? compileRegex(p.after, 'after').source : '';
    const b = p.before !== undefined ? compileRegex(p.before, 'before').source : '';
    const lazy = p.after !== undefined && p.before !== undefined ? '[\\s\\S]*?' : '[\\s\\S]*';
    const m = new RegExp(`${a}(?<tsplaySection>${lazy})${b}`, 'ds').exec(text);
    if (!m) return { text, msg: '' };
    [start, end] = m.indices!.groups!.tsplaySection!;
  }
  let count = 0;
  const section = text.slice(start, end);
  const replaced = section.replace(global, (...args: unknown[]) => {
    const hasNamed = typeof args[args.length - 1] === 'object' && args[args.length - 1] !== null;
    const named = hasNamed ? (args[args.length - 1] as Record<string, string | undefined>) : undefined;
    const groups = args.slice(0, hasNamed ? -3 : -2) as Array<string | undefined>;
    count++;
    return expandTemplate(p.replace, groups, named);
  });
  if (replaced === section) return { text, msg: '' };
  return { text: text.slice(0, start) + replaced + text.slice(end), msg: `${count} replacement${count === 1 ? '' : 's'} made` };
}

const output = z.object({
  path: z.string().describe('The file'),
  msg: z.string().describe('"N replacements made", or "" when nothing changed'),
});

export default defineModule<typeof params, WriteFacts>({
  name: 'replace',
  summary: 'Replace every match of a regular expression in a file.',
  description:
    'Like Ansible\'s replace: regexp is applied to the whole file (or the part between after and before) with ^ and $ matching at each line; ' +
    'the replacement uses Python\'s syntax (\\1, \\g<name>). The file is edited on the controller and written atomically (validate, backup, diff), ' +
    'only if it is still what was read. A missing file is an error. Expressions run as JavaScript ones (lookbehind and named groups work; \\A, \\Z do not).',
  examples: [
    {
      title: 'Comment out a setting',
      task: { name: 'No root login', replace: { path: '/etc/ssh/sshd_config', regexp: '^(PermitRootLogin .*)$', replace: '# \\1', validate: '/usr/sbin/sshd -t -f %s' } },
    },
    {
      title: 'Only inside a section',
      task: { name: 'Mirror in the [main] section', replace: { path: '/etc/app.ini', after: '\\[main\\]', before: '\\[', regexp: '^mirror=.*$', replace: 'mirror=http://mirror.lan', backup: true } },
    },
  ],
  params,
  output,
  probe: (p) => probeWrite(p.path),
  plan: (p, f, ctx): Plan => {
    if (!f.stat.exists) return failPlan(`${normPath(p.path)} does not exist`);
    return planEdit({ ...p, create: false, state: 'present' }, f, ctx, (text) => replaceText(text, p));
  },
});
