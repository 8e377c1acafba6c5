/**
 * `ini_file`: one option of an INI file (community.general.ini_file), or a whole section. The
 * file is fetched (fileContent fact), edited here on the controller with the rules of Ansible's
 * module, and written back with one atomic `put` (diff, backup, validate, mode/owner).
 *
 * Ansible's rules, kept as they are so a migrated role writes the same file:
 * - a section starts at a line beginning `[name]` and ends at the next line beginning `[`;
 *   no section means the lines before the first section;
 * - an option line is `option = value`, also commented (`#option = 1`, `;option`) and with any
 *   spaces or tabs around the `=`; present: a line whose value is wanted is rewritten in place
 *   (uncommented, `option = value`); with exclusive (default) the other lines of the option,
 *   commented ones included, take the remaining values or are removed; values still missing go
 *   after the last line of the section that is neither blank nor a comment;
 * - a missing section is appended at the end with its option; a new file starts with an empty
 *   line; a last line without a newline gets one (a change);
 * - absent removes the option's uncommented lines (exclusive), only those with one of the given
 *   values (exclusive: false), or the whole section when no option is given.
 */
import { z } from 'zod';
import { defineModule, failPlan, type Plan } from '../../core/module.js';
import { normPath } from '../../facts/keys.js';
import { writeParams } from './lib/file-params.js';
import { splitLines } from './lib/text.js';
import { probeWrite, type WriteFacts } from '../lib/write-file.js';
import { planEdit } from './lineinfile.js';

/** Ansible's ini_file takes strings; YAML numbers and booleans become its str() of them. */
const iniValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)));

const params = z
  .object({
    path: z.string().min(1).describe('The INI file to edit'),
    section: z.string().optional().describe('The section ([name] line); omitted: the lines before the first section'),
    option: z.string().optional().describe('The option (key); omitted: the whole section is added (present) or removed (absent)'),
    value: iniValue.optional().describe('The value of option (numbers and booleans are written as Ansible writes them: 1, True)'),
    values: z.array(iniValue).optional().describe('Several values: one `option = value` line each (see exclusive)'),
    state: z.enum(['present', 'absent']).default('present').describe('Whether the option (or section) should be there'),
    exclusive: z
      .boolean()
      .default(true)
      .describe('present: other lines of the option are rewritten or removed; absent: every line of the option goes, whatever its value (false: only lines with value/values)'),
    no_extra_spaces: z.boolean().default(false).describe('Write option=value instead of option = value'),
    ignore_spaces: z.boolean().default(false).describe('Leave an uncommented line alone when only the spaces around = differ'),
    allow_no_value: z.boolean().default(false).describe('Allow an option without a value (a bare `option` line)'),
    create: z.boolean().default(true).describe('Create the file when it does not exist (Ansible\'s default: true); false makes a missing file an error'),
    ...writeParams,
  })
  .refine((p) => !(p.value !== undefined && p.values !== undefined), { message: 'give only one of value and values', path: ['values'] })
  .refine((p) => p.state === 'absent' || p.allow_no_value || p.value !== undefined || (p.values?.length ?? 0) > 0, {
    message: 'state: present needs value (or values, or allow_no_value: true)',
    path: ['value'],
  })
  .refine((p) => p.state === 'present' || p.section !== undefined || p.option !== undefined, { message: 'state: absent needs option or section', path: ['option'] });

export type IniParams = z.output<typeof params>;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const withoutNewline = (l: string) => (l.endsWith('\n') ? l.slice(0, -1) : l);
/** A placeholder header for "no section": no real file has it. */
const GLOBAL = '[\u0000tsplay-global-section]';

/** The edit itself (pure): the new text and Ansible's msg ("OK" when nothing changed). */
export function editIni(text: string, p: IniParams): { text: string; msg: string; changed: boolean } {
  const option = p.option;
  // Any (commented) line of the option: groups 1 comment, 2 value.
  const anyLine = option !== undefined ? new RegExp(`^([#;]?)[ \\t]*${escapeRe(option)}[ \\t]*(?:=|$)[ \\t]*(.*)`) : undefined;
  // An uncommented line of the option: group 1 value.
  const activeLine = option !== undefined ? new RegExp(`^[ \\t]*${escapeRe(option)}[ \\t]*(?:=|$)[ \\t]*(.*)`) : undefined;
  const matchAny = (l: string) => (anyLine ? anyLine.exec(withoutNewline(l)) : null);
  const matchActive = (l: string) => (activeLine ? activeLine.exec(withoutNewline(l)) : null);
  const assign = (v: string) => `${option}${p.no_extra_spaces ? '=' : ' = '}${v}\n`;

  let changed = false;
  let msg = 'OK';
  let values = [...new Set(p.value !== undefined ? [p.value] : (p.values ?? []))];

  let lines = splitLines(text);
  if (!lines.length) lines = ['\n'];
  if (!lines[lines.length - 1]!.endsWith('\n')) {
    lines[lines.length - 1] += '\n';
    changed = true;
  }
  const header = p.section ? `[${p.section}]` : GLOBAL;
  const all = [GLOBAL, ...lines, '['];
  // The section: from its first header to the next line starting with "[".
  let start = all.findIndex((l) => l.startsWith(header));
  const found = start !== -1;
  let end = found ? all.findIndex((l, i) => i > start && l.startsWith('[')) : -1;
  if (!found) start = end = 0;
  let section = all.slice(start, end);
  const touched = section.map(() => false);

  const rewrite = (i: number, line: string) => {
    let differs = section[i] !== line;
    if (p.ignore_spaces) {
      const old = matchAny(section[i]!);
      if (old && !old[1]) differs = old[2] !== matchAny(line)?.[2];
    }
    if (differs) {
      section[i] = line;
      changed = true;
      msg = 'option changed';
    }
    touched[i] = true;
  };

  let bareOptionPresent = false;
  if (p.state === 'present' && option !== undefined) {
    for (let i = 0; i < section.length; i++) {
      const m = matchAny(section[i]!);
      if (!m) continue;
      if (values.length && values.includes(m[2]!)) {
        const v = m[2]!;
        if (!v && p.allow_no_value) {
          rewrite(i, `${option}\n`);
          bareOptionPresent = true;
        } else rewrite(i, assign(v));
        values = values.filter((x) => x !== v);
      } else if (!values.length && p.allow_no_value) {
        rewrite(i, `${option}\n`);
        bareOptionPresent = true;
        break;
      }
    }
  }

  if (p.state === 'present' && p.exclusive && !p.allow_no_value) {
    if (values.length) {
      for (let i = 0; i < section.length && values.length; i++) {
        if (!touched[i] && matchAny(section[i]!)) rewrite(i, assign(values.shift()!));
      }
    }
    // Other lines of the option (commented ones too) go; the header line (0) stays.
    for (let i = section.length - 1; i > 0; i--) {
      if (!touched[i] && matchAny(section[i]!)) {
        section.splice(i, 1);
        touched.splice(i, 1);
        changed = true;
        msg = 'option changed';
      }
    }
  }

  if (p.state === 'present' && section.length) {
    // After the last line that is neither blank nor a comment.
    let at = section.length;
    while (at > 0 && /^[ \t]*([#;].*)?\n?$/.test(section[at - 1]!)) at--;
    if (at > 0) {
      if (option !== undefined && values.length) {
        section.splice(at, 0, ...values.map(assign));
        changed = true;
        msg = 'option added';
      } else if (option !== undefined && !values.length && p.allow_no_value && !bareOptionPresent) {
        section.splice(at, 0, `${option}\n`);
        changed = true;
        msg = 'option added';
      }
    }
  }

  if (p.state === 'absent') {
    if (option !== undefined) {
      const drop = p.exclusive ? (l: string) => !!matchActive(l) : (l: string) => values.includes(matchActive(l)?.[1] ?? '\u0000');
      if (p.exclusive || values.length) {
        const kept = section.filter((l) => !drop(l));
        if (kept.length !== section.length) {
          section = kept;
          changed = true;
          msg = 'option changed';
        }
      }
    } else if (section.length) {
      section = [];
      changed = true;
      msg = 'section removed';
    }
  }

  const out = [...all.slice(0, start), ...section, ...all.slice(end)];
  out.shift();
  out.pop();
  if (!found && p.state === 'present') {
    out.push(`${header}\n`);
    msg = 'section and option added';
    if (option !== undefined && values.length) out.push(...values.map(assign));
    else if (option !== undefined && p.allow_no_value) out.push(`${option}\n`);
    else msg = 'only section added';
    changed = true;
  }
  // A header that was never found but named the global section cannot happen: GLOBAL is all[0].
  return { text: changed ? out.join('') : text, msg, changed };
}

const output = z.object({
  path: z.string().describe('The file'),
  msg: z.string().describe('Ansible\'s message: "OK", "option added", "option changed", "section and option added", "only section added", "section removed"'),
});

export default defineModule<typeof params, WriteFacts>({
  name: 'ini_file',
  summary: 'Set or remove one option of an INI file (or a whole section), as Ansible\'s community.general.ini_file does.',
  description:
    'Edits happen on the controller from the fetched file, then the whole file is written atomically (with backup, validate and diff). ' +
    'Rules follow Ansible\'s ini_file: commented lines of the option are reused (uncommented) or, with exclusive, removed; a new option goes after the last ' +
    'non-comment line of its section; a missing section is appended at the end; a new file starts with an empty line. ' +
    'Not supported: section_has, follow (tsplay does not write through symlinks).',
  examples: [
    {
      title: 'Set an option',
      task: { name: 'Docker repo: check signatures', ini_file: { path: '/etc/yum.repos.d/docker-ce.repo', section: 'docker-ce-stable', option: 'gpgcheck', value: '1', mode: '0644' } },
    },
    { title: 'Remove an option', task: { name: 'No proxy for pip', ini_file: { path: '/etc/pip.conf', section: 'global', option: 'proxy', state: 'absent' } } },
  ],
  params,
  output,
  probe: (p) => probeWrite(p.path),
  plan: (p, f, ctx): Plan => {
    const path = normPath(p.path);
    if (!f.stat.exists && !p.create) return failPlan(`${path} does not exist and create is false`);
    let msg = 'OK';
    const plan = planEdit({ ...p, create: true }, f, ctx, (text) => {
      const r = editIni(text, p);
      msg = r.msg;
      // "OK" with a change (a final newline added): planEdit then shows "update PATH".
      const where = `${p.section ? `[${p.section}]` : 'before the first section'}${p.option !== undefined ? ` ${p.option}` : ''}`;
      return { text: r.text, msg: r.msg === 'OK' ? '' : `${where}: ${r.msg}` };
    });
    if ('output' in plan && plan.output) plan.output = { path, msg };
    return plan;
  },
});
