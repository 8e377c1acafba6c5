/**
 * `include_vars`: reads variables from a YAML or JSON file (or every file of a folder) on the
 * controller and adds them to the host's variables for the rest of the run. The file is looked
 * up like Ansible's: the role's vars/ folder, the role, then the playbook's vars/ folder and the
 * playbook's folder. Values are templates, rendered when used; a vault-encrypted file's values
 * are secrets.
 */
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { defineModule, noop, type IncludedVars } from '../../core/module.js';
import { UserError } from '../../core/errors.js';
import { keyValueFreeForm } from '../lib/free-form.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const stringList = z.union([z.string().transform((s) => [s]), z.array(z.string())]);

const params = z
  .object({
    file: z.string().optional().describe('The vars file (YAML or JSON), looked up in the role\'s vars/ folder, then the playbook\'s vars/ folder and folder; may be a template ("{{ ansible_os_family }}.yml")'),
    dir: z.string().optional().describe('A folder whose files are all read, in name order (instead of file)'),
    name: z.string().regex(NAME, 'name must be a variable name').optional().describe('Put the variables under this one name (a mapping) instead of at the top level'),
    depth: z.number().int().min(0).default(0).describe('With dir: how many levels of folders to read (0: all)'),
    files_matching: z.string().optional().describe('With dir: read only files whose name matches this regular expression'),
    ignore_files: stringList.default([]).describe('With dir: file names to skip (regular expressions matched at the end of the name)'),
    extensions: stringList.default(['yaml', 'yml', 'json']).describe('Extensions of the files read'),
    ignore_unknown_extensions: z.boolean().default(false).describe('With dir: skip files with another extension instead of failing'),
  })
  .refine((p) => (p.file === undefined) !== (p.dir === undefined), { message: 'give file (or the file name as the value) or dir, not both' });

type Params = z.output<typeof params>;
/** What `prepare` adds: the variables of each file read. */
type Prepared = Params & { loaded?: IncludedVars[] };

const output = z.object({
  ansible_facts: z.record(z.string(), z.unknown()).describe('The variables read (under `name` when given)'),
  ansible_included_var_files: z.array(z.string()).describe('The files read, in order'),
});

const hasExtension = (file: string, exts: string[]) => exts.includes(extname(file).replace(/^\./, ''));

/** The files of a dir: read, in order (Ansible's files_matching, ignore_files, extensions). */
function dirFiles(p: Params, files: string[]): string[] {
  const matching = p.files_matching === undefined ? undefined : new RegExp(p.files_matching);
  const ignored = p.ignore_files.map((f) => new RegExp(`${f}$`));
  return files.filter((f) => {
    const b = basename(f);
    if (ignored.some((r) => r.test(b)) || (matching && !matching.test(b))) return false;
    if (hasExtension(f, p.extensions)) return true;
    if (p.ignore_unknown_extensions) return false;
    throw new UserError(`include_vars: ${f} does not have one of the extensions ${p.extensions.join(', ')} (set ignore_unknown_extensions: true or ignore_files)`);
  });
}

export default defineModule({
  name: 'include_vars',
  summary: 'Read variables from a YAML or JSON file on the controller.',
  description:
    'As in Ansible, the variables stay for the rest of the run on the host and win over play, role, block and task vars (not over set_fact, registered results, role params or extra vars). The file name may be a template rendered for each host, e.g. "{{ ansible_os_family }}.yml"; a file encrypted with Ansible vault is decrypted and its values are secrets.',
  examples: [
    { title: 'Per-OS variables in a role', task: { name: 'Load the variables of the OS family', include_vars: '{{ ansible_os_family }}.yml' } },
    { title: 'Under one name', task: { include_vars: { file: 'app.json', name: 'app' } } },
    { title: 'A whole folder', task: { include_vars: { dir: 'settings', files_matching: '\\.yml$' } } },
  ],
  params,
  output,
  local: true,
  freeForm: keyValueFreeForm(['file', 'dir', 'name', 'depth', 'files_matching'], 'file'),
  prepare: (p, ctx): Prepared => {
    if (!ctx.loadVars) throw new Error('include_vars: this runner cannot read vars files');
    let files: string[];
    if (p.file !== undefined) {
      const file = ctx.findFile('vars', p.file);
      if (!hasExtension(file, p.extensions)) throw new UserError(`include_vars: ${p.file} does not have one of the extensions ${p.extensions.join(', ')}`);
      files = [file];
    } else {
      const dir = ctx.findDir!('vars', p.dir!);
      files = dirFiles(p, ctx.listFiles!(dir, p.depth));
    }
    return { ...p, loaded: files.map((f) => ctx.loadVars!(f)) };
  },
  plan: (params) => {
    const p = params as Prepared;
    const loaded = p.loaded ?? [];
    const merged = Object.assign({}, ...loaded.map((l) => l.vars)) as Record<string, unknown>;
    const layers: IncludedVars[] = p.name === undefined ? loaded : [{ file: loaded.map((l) => l.file).join(', ') || (p.dir ?? ''), vars: { [p.name]: merged } }];
    const files = loaded.map((l) => l.file);
    const names = Object.keys(p.name === undefined ? merged : { [p.name]: 0 });
    return noop(`read ${files.length === 1 ? files[0] : `${files.length} files`}${names.length ? `: ${names.join(', ')}` : ''}`, {
      includeVars: layers,
      output: { ansible_facts: p.name === undefined ? merged : { [p.name]: merged }, ansible_included_var_files: files },
    });
  },
});
