/**
 * `deb822_repository`: an APT source in deb822 form, /etc/apt/sources.list.d/NAME.sources, with
 * its signing key: a path on the host, an inline key (written into the file) or a URL (fetched on
 * the controller, written to /etc/apt/keyrings/NAME.asc or .gpg). The file is written whole,
 * atomically and only if it is still what was read; apt checks it before it goes live (see
 * lib/apt-source.ts), and `update_cache` updates the lists only when something changed.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, octalMode, type Plan, type PlanContext, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys } from '../../facts/keys.js';
import { PlanBuilder } from '../lib/compose.js';
import { diffText, planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';
import { fetchKey, updateCacheStep, validateSource } from './lib/apt-source.js';
import { isArmoredKey } from './lib/openpgp.js';

const list = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));
const WORD = /^[^\s#]+$/;

const params = z
  .object({
    name: z.string().min(1).describe('Name of the repository: the file is /etc/apt/sources.list.d/SLUG.sources (SLUG: the name lower case, spaces and underscores as "-", other characters dropped), and X-Repolib-Name'),
    state: z.enum(['present', 'absent']).default('present').describe('present: the file is there with exactly these fields; absent: the file (and a key fetched from a URL) is removed'),
    types: list.default(['deb']).refine((v) => v.every((t) => t === 'deb' || t === 'deb-src'), { message: 'types are deb and/or deb-src' }).describe('deb, deb-src or both'),
    uris: list.optional().refine((v) => !v || v.every((u) => WORD.test(u)), { message: 'a URI has no spaces' }).describe('The repository URIs'),
    suites: list.optional().refine((v) => !v || v.every((s) => WORD.test(s)), { message: 'a suite has no spaces' }).describe('Suites (e.g. bookworm), or an exact path ending in "/" (then no components)'),
    components: list.optional().describe('Components (e.g. main contrib)'),
    architectures: list.optional().describe('Architectures to fetch (e.g. amd64)'),
    signed_by: z
      .string()
      .optional()
      .describe('The key the Release file must be signed with: an absolute path on the host, a URL (fetched on the controller and written to /etc/apt/keyrings/SLUG.asc or .gpg), or an armored key block (written into the file), or fingerprints'),
    enabled: z.boolean().optional().describe('Enabled: no keeps the source in the file but unused'),
    trusted: z.boolean().optional().describe('Trusted: yes skips signature checks (unsafe)'),
    allow_insecure: z.boolean().optional().describe('Allow-Insecure'),
    allow_weak: z.boolean().optional().describe('Allow-Weak'),
    allow_downgrade_to_insecure: z.boolean().optional().describe('Allow-Downgrade-To-Insecure'),
    by_hash: z.boolean().optional().describe('By-Hash'),
    check_date: z.boolean().optional().describe('Check-Date'),
    check_valid_until: z.boolean().optional().describe('Check-Valid-Until'),
    date_max_future: z.number().int().optional().describe('Date-Max-Future (seconds)'),
    inrelease_path: z.string().optional().describe('InRelease-Path'),
    languages: list.optional().describe('Languages of the translations to fetch'),
    pdiffs: z.boolean().optional().describe('PDiffs'),
    targets: list.optional().describe('Targets'),
    mode: octalMode.default('0644').describe('Mode of the .sources file'),
    update_cache: z.boolean().default(false).describe('Run apt-get update when the file or key changed, after apt fetched the new source into a scratch folder successfully (a tsplay addition; Ansible leaves this to the apt module)'),
    install_python_debian: z.boolean().default(false).describe('Accepted for Ansible compatibility; tsplay needs nothing on the host'),
    timeout: z.number().int().positive().default(10).describe('Seconds the download of a signed_by URL may take'),
    validate_certs: z.boolean().default(true).describe('Verify the TLS certificate of a signed_by URL (false is not supported)'),
  })
  .refine((p) => p.state === 'absent' || (p.uris?.length && p.suites?.length), { message: 'state: present needs uris and suites', path: ['uris'] })
  .refine((p) => p.state === 'absent' || !p.suites || p.suites.every((s) => s.endsWith('/')) || p.components?.length, {
    message: 'components are needed unless every suite is an exact path ending in "/"',
    path: ['components'],
  });

type Params = z.output<typeof params> & {
  /** A signed_by URL's key, fetched in prepare: text when armored, else base64 bytes. */
  key?: { text?: string; base64?: string };
};
type Facts = WriteFacts & { ascStat: WriteFacts['stat']; ascContent: WriteFacts['content']; gpgStat: WriteFacts['stat']; gpgContent: WriteFacts['content'] };

const output = z.object({
  dest: z.string().describe('The .sources file'),
  key_filename: z.string().nullable().describe('The key file written from a signed_by URL, else null'),
  repo: z.string().describe('The content of the .sources file'),
  state: z.string().describe('present or absent'),
});

export function slug(name: string): string {
  return name.toLowerCase().replace(/[_\s]+/g, '-').replace(/[^a-z0-9-]+/g, '');
}

const destOf = (p: Params) => `/etc/apt/sources.list.d/${slug(p.name)}.sources`;
const isUrl = (s: string) => /^(https?|ftp):\/\//.test(s);
const keyPaths = (p: Params) => ({ asc: `/etc/apt/keyrings/${slug(p.name)}.asc`, gpg: `/etc/apt/keyrings/${slug(p.name)}.gpg` });
/** Where a fetched key goes: .asc for an armored key, .gpg for a binary one. */
const keyPath = (p: Params) => (p.key?.base64 !== undefined ? keyPaths(p).gpg : keyPaths(p).asc);

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** The file's text; fields in Ansible's order, a multi-line key folded the deb822 way. */
export function render(p: Params): string {
  const fields: Array<[string, string | undefined]> = [
    ['X-Repolib-Name', p.name],
    ['Types', p.types.join(' ')],
    ['URIs', p.uris?.join(' ')],
    ['Suites', p.suites?.join(' ')],
    ['Components', p.components?.join(' ')],
    ['Architectures', p.architectures?.join(' ')],
    ['Languages', p.languages?.join(' ')],
    ['Targets', p.targets?.join(' ')],
    ['Enabled', p.enabled === undefined ? undefined : yesNo(p.enabled)],
    ['Trusted', p.trusted === undefined ? undefined : yesNo(p.trusted)],
    ['PDiffs', p.pdiffs === undefined ? undefined : yesNo(p.pdiffs)],
    ['By-Hash', p.by_hash === undefined ? undefined : yesNo(p.by_hash)],
    ['Allow-Insecure', p.allow_insecure === undefined ? undefined : yesNo(p.allow_insecure)],
    ['Allow-Weak', p.allow_weak === undefined ? undefined : yesNo(p.allow_weak)],
    ['Allow-Downgrade-To-Insecure', p.allow_downgrade_to_insecure === undefined ? undefined : yesNo(p.allow_downgrade_to_insecure)],
    ['Check-Date', p.check_date === undefined ? undefined : yesNo(p.check_date)],
    ['Check-Valid-Until', p.check_valid_until === undefined ? undefined : yesNo(p.check_valid_until)],
    ['Date-Max-Future', p.date_max_future === undefined ? undefined : String(p.date_max_future)],
    ['InRelease-Path', p.inrelease_path],
    ['Signed-By', signedByField(p)],
  ];
  return fields
    .filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '')
    .map(([k, v]) => (v.startsWith('\n') ? `${k}:${v}` : `${k}: ${v}`))
    .join('\n')
    .concat('\n');
}

function signedByField(p: Params): string | undefined {
  const s = p.signed_by?.trim();
  if (!s) return undefined;
  if (isUrl(s)) return keyPath(p);
  if (!isArmoredKey(s)) return s;
  // A key inline: continuation lines start with a space; an empty line is " .".
  return '\n' + s.split('\n').map((l) => (l.trim() === '' ? ' .' : ` ${l.trimEnd()}`)).join('\n');
}

export default defineModule<typeof params, Facts>({
  name: 'deb822_repository',
  summary: 'Add or remove an APT repository in deb822 form (/etc/apt/sources.list.d/NAME.sources), with its signing key.',
  description:
    'Follows Ansible\'s deb822_repository: same parameters, file name and field names; booleans are written yes/no. A signed_by URL is downloaded ' +
    'on the controller (Ansible downloads on the host) and written to /etc/apt/keyrings/SLUG.asc (armored) or .gpg, replaced only when it differs; ' +
    'an armored key is written into the file; anything else (a path on the host, fingerprints) is written as is. Before the file replaces the old one, ' +
    'apt parses the whole source configuration with it in place; with update_cache it also downloads the new source\'s indexes into a scratch folder ' +
    '(a bad signature or an unreachable repository fail the task and leave the old file), and apt-get update runs only when something changed ' +
    '(a tsplay addition: Ansible leaves the update to the apt module). state: absent removes the file and a key fetched from a URL.',
  examples: [
    {
      title: 'A third-party repository with its key from a URL',
      task: {
        name: 'Docker repository',
        deb822_repository: {
          name: 'docker',
          types: ['deb'],
          uris: 'https://download.docker.com/linux/debian',
          suites: '{{ ansible_distribution_release }}',
          components: 'stable',
          architectures: 'amd64',
          signed_by: 'https://download.docker.com/linux/debian/gpg',
          update_cache: true,
        },
      },
    },
    { title: 'Remove it', task: { name: 'No docker repository', deb822_repository: { name: 'docker', state: 'absent' } } },
  ],
  params,
  output,
  prepare: async (p: Params) => (p.state === 'present' && p.signed_by && isUrl(p.signed_by.trim()) ? { ...p, key: await fetchKey(p.signed_by.trim(), p.timeout, p.validate_certs) } : p),
  probe: (p: Params) => {
    const asc = probeWrite(keyPaths(p).asc);
    const gpg = probeWrite(keyPaths(p).gpg);
    return { ...probeWrite(destOf(p)), ascStat: asc.stat, ascContent: asc.content, gpgStat: gpg.stat, gpgContent: gpg.content } as never;
  },
  plan: (p: Params, f, ctx) => (p.state === 'absent' ? planAbsent(p, f) : planPresent(p, f, ctx)),
});

function planAbsent(p: Params, f: Facts): Plan {
  const dest = destOf(p);
  const gone = [f.stat.exists && dest, f.ascStat.exists && keyPaths(p).asc, f.gpgStat.exists && keyPaths(p).gpg].filter((x): x is string => !!x);
  const out = { dest, key_filename: null, repo: '', state: 'absent' };
  if (!gone.length) return noop(`${dest} is absent`, { output: out });
  const steps: Step[] = [{ kind: 'exec', cmd: sh`rm -f -- ${gone}`, description: `remove ${gone.join(', ')}`, touches: gone.map((g) => `file:${g}`) }];
  if (p.update_cache) steps.push(updateCacheStep());
  return change(
    gone.map((g) => `remove ${g}`),
    steps,
    {
      diffs: f.stat.exists ? [{ path: dest, before: diffText(f.content), after: null }] : [],
      assume: Object.fromEntries(gone.flatMap((g) => [[keys.stat(g), { exists: false }], [keys.content(g), { exists: false }]])),
      output: out,
    },
  );
}

function planPresent(p: Params, f: Facts, ctx: PlanContext): Plan {
  const dest = destOf(p);
  const text = render(p);
  const fromUrl = p.signed_by !== undefined && isUrl(p.signed_by.trim());
  if (fromUrl && !p.key) return failPlan(`deb822_repository: the key ${p.signed_by} was not downloaded on the controller`);

  const b = new PlanBuilder();
  if (fromUrl) {
    const binary = p.key!.base64 !== undefined;
    const content = binary ? Buffer.from(p.key!.base64!, 'base64') : p.key!.text!;
    const facts = binary ? { stat: f.gpgStat, content: f.gpgContent } : { stat: f.ascStat, content: f.ascContent };
    const keyPlan = planWrite({ path: keyPath(p), content, mode: '0644' }, facts, ctx);
    if ('changed' in keyPlan && keyPlan.changed && !facts.stat.exists) b.step(undefined, { kind: 'exec', cmd: 'install -d -m 0755 /etc/apt/keyrings', description: 'create /etc/apt/keyrings', touches: ['file:/etc/apt/keyrings'] });
    const err = b.add(keyPlan);
    if (err) return failPlan(err);
  }
  const filePlan = planWrite({ path: dest, content: text, mode: p.mode }, f, ctx);
  if ('changed' in filePlan && filePlan.changed) for (const s of filePlan.steps) if (s.kind === 'put') s.validate = validateSource(dest, p.update_cache);
  const err = b.add(filePlan);
  if (err) return failPlan(err);

  const out = { dest, key_filename: fromUrl ? keyPath(p) : null, repo: text, state: 'present' };
  if (b.empty) return noop(`${dest} is up to date`, { output: out });
  if (p.update_cache) {
    b.step('update the apt cache', updateCacheStep());
    b.assume[keys.aptCache()] = { ageSeconds: 0 };
  }
  return change(b.changes, b.steps, { diffs: b.diffs, assume: b.assume, output: out });
}
