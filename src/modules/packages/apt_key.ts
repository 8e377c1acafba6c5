/**
 * `apt_key`: an APT trust key as a file of its own, /etc/apt/trusted.gpg.d/ID.asc (or the given
 * keyring), from `data`, a `url` (fetched on the controller) or a `file` on the host. Ansible's
 * apt_key drives the deprecated apt-key; tsplay writes the keyring file itself (atomic, only
 * when it differs, with a diff) and needs no gpg on the host.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type Plan } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys } from '../../facts/keys.js';
import { pathInfo, type PathInfoFact } from '../../facts/path-info.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';
import { fetchKey } from './lib/apt-source.js';
import { armor, dearmor, fingerprint, idMatches, isArmoredKey } from './lib/openpgp.js';

const params = z
  .object({
    id: z.string().regex(/^(0x)?[0-9A-Fa-f]{8,40}$/, { message: 'id is a key ID: 8, 16 or 40 hex digits, e.g. 0x9DC858229FC7DD38854AE2D88D81803C0EBFCD88' }).optional()
      .describe('Key ID (short, long or the fingerprint): the key must have it; it names the file in /etc/apt/trusted.gpg.d; with state: absent, which file to remove'),
    data: z.string().optional().describe('The key itself (armored)'),
    url: z.string().regex(/^(https?|ftp):\/\/\S+$/, { message: 'url must start with http://, https:// or ftp://' }).optional().describe('Where to download the key (on the controller)'),
    file: z.string().optional().describe('A key file already on the host, copied into the keyring file as is'),
    keyring: z.string().regex(/^\/\S+\.(asc|gpg)$/, { message: 'keyring is an absolute path ending in .asc (armored) or .gpg (binary)' }).optional()
      .describe('The keyring file to write (e.g. /etc/apt/keyrings/example.gpg); default /etc/apt/trusted.gpg.d/ID.asc'),
    keyserver: z.string().optional().describe('Not supported: tsplay does not query keyservers (fails with a clear error)'),
    state: z.enum(['present', 'absent']).default('present').describe('present: the keyring file holds the key; absent: the keyring file is removed'),
    validate_certs: z.boolean().default(true).describe('Verify the TLS certificate of url (false is not supported)'),
    timeout: z.number().int().positive().default(10).describe('Seconds the download of url may take'),
  })
  .refine((p) => !p.keyserver, { message: 'keyserver is not supported: download the key with url, or give it as data', path: ['keyserver'] })
  .refine((p) => p.state === 'absent' || [p.data, p.url, p.file].filter((x) => x !== undefined).length === 1, { message: 'state: present needs exactly one of data, url or file', path: ['data'] })
  .refine((p) => p.id || p.keyring, { message: 'give id or keyring: tsplay writes each key to a file of its own (/etc/apt/trusted.gpg.d/ID.asc or keyring)', path: ['id'] });

type Params = z.output<typeof params> & { fetched?: { text?: string; base64?: string } };
type Facts = WriteFacts & { gpgStat?: WriteFacts['stat']; source?: PathInfoFact; target?: PathInfoFact };

const output = z.object({
  keyring: z.string().describe('The keyring file'),
  fp: z.string().optional().describe('Fingerprint of the key (data and url)'),
  key_id: z.string().optional().describe('Long key ID (last 16 hex digits of the fingerprint)'),
  short_id: z.string().optional().describe('Short key ID (last 8 hex digits)'),
  id: z.string().optional().describe('The id given'),
});

const bareId = (id: string) => id.replace(/^0x/i, '').toUpperCase();
const keyringOf = (p: Params) => p.keyring ?? `/etc/apt/trusted.gpg.d/${bareId(p.id!)}.asc`;

/** The key's bytes as the controller has them (data or a fetched url). */
function keyBytes(p: Params): Buffer | undefined {
  const text = p.data ?? p.fetched?.text;
  if (text !== undefined) return isArmoredKey(text) ? dearmor(text) : undefined;
  return p.fetched?.base64 !== undefined ? Buffer.from(p.fetched.base64, 'base64') : undefined;
}

export default defineModule<typeof params, Facts>({
  name: 'apt_key',
  summary: 'Add or remove an APT trust key (deprecated: prefer deb822_repository with signed_by).',
  description:
    'Ansible\'s apt_key is deprecated with apt-key itself; a key trusted for every repository is weaker than one tied to its repository: ' +
    'prefer deb822_repository with signed_by (or apt_repository with [signed-by=...]). tsplay writes the key to a file of its own instead of ' +
    'calling apt-key: keyring, or /etc/apt/trusted.gpg.d/ID.asc. The key from data or url (downloaded on the controller) is converted to the ' +
    'keyring\'s form (.asc armored, .gpg binary), checked to have the given id, and written atomically only when the file differs (with a diff); ' +
    'a file on the host is copied as is when its content differs. Differences from Ansible: id or keyring is required (there is no shared ' +
    'trusted.gpg to add to), keyserver is not supported, and state: absent removes the keyring file (both ID.asc and ID.gpg in trusted.gpg.d) ' +
    'rather than one key from a shared keyring.',
  examples: [
    { title: 'A repository key from a URL', task: { name: 'Example key', apt_key: { url: 'https://repo.example.org/key.asc', keyring: '/etc/apt/keyrings/example.gpg' } } },
    { title: 'Remove a key', task: { name: 'Old key', apt_key: { id: '0EBFCD88', state: 'absent' } } },
  ],
  params,
  output,
  prepare: async (p: Params) => (p.state === 'present' && p.url ? { ...p, fetched: await fetchKey(p.url, p.timeout, p.validate_certs) } : p),
  probe: (p: Params) => {
    const path = keyringOf(p);
    const facts: Record<string, unknown> = probeWrite(path);
    if (p.state === 'absent' && !p.keyring) facts.gpgStat = probeWrite(path.replace(/\.asc$/, '.gpg')).stat;
    if (p.state === 'present' && p.file) {
      facts.source = pathInfo(p.file, { checksum: 'sha256' });
      facts.target = pathInfo(path, { checksum: 'sha256' });
    }
    return facts as never;
  },
  plan: (p: Params, f, ctx): Plan => {
    const path = keyringOf(p);
    if (p.state === 'absent') {
      const gone = [f.stat.exists && path, f.gpgStat?.exists && path.replace(/\.asc$/, '.gpg')].filter((x): x is string => !!x);
      if (!gone.length) return noop(`${path} is absent`, { output: { keyring: path, ...(p.id ? { id: p.id } : {}) } });
      return change(gone.map((g) => `remove ${g}`), [{ kind: 'exec', cmd: sh`rm -f -- ${gone}`, description: `remove ${gone.join(', ')}`, touches: gone.map((g) => `file:${g}`) }], {
        assume: Object.fromEntries(gone.flatMap((g) => [[keys.stat(g), { exists: false }], [keys.content(g), { exists: false }]])),
        output: { keyring: path, ...(p.id ? { id: p.id } : {}) },
      });
    }
    if (p.file) return planFile(p, f, path);
    let bytes: Buffer | undefined;
    let fpr: string;
    try {
      bytes = keyBytes(p);
      if (!bytes) return failPlan(p.url ? `apt_key: ${p.url} was not downloaded on the controller` : 'apt_key: data is not an armored OpenPGP public key block');
      fpr = fingerprint(bytes);
    } catch (e) {
      return failPlan(`apt_key: ${p.url ?? 'data'}: ${(e as Error).message}`);
    }
    if (p.id && !idMatches(p.id, fpr)) return failPlan(`apt_key: the key's fingerprint is ${fpr}, which does not match id ${p.id}`);
    const content = path.endsWith('.gpg') ? bytes : armor(bytes);
    // data already armored goes in as given (comments and all) when the keyring is .asc.
    const asGiven = path.endsWith('.asc') && p.data !== undefined ? p.data.trimEnd() + '\n' : path.endsWith('.asc') && p.fetched?.text !== undefined ? p.fetched.text : content;
    const out = { keyring: path, fp: fpr, key_id: fpr.slice(-16), short_id: fpr.slice(-8), ...(p.id ? { id: p.id } : {}) };
    const plan = planWrite({ path, content: asGiven, mode: '0644' }, f, ctx);
    if ('failed' in plan) return plan;
    return { ...plan, output: out };
  },
});

function planFile(p: Params, f: Facts, path: string): Plan {
  const src = f.source;
  if (!src?.exists || src.kind !== 'file') return failPlan(`apt_key: ${p.file} is not a file on the host`);
  const out = { keyring: path, ...(p.id ? { id: p.id } : {}) };
  if (f.target?.exists && f.target.checksum === src.checksum && f.target.mode === '0644') return noop(`${path} has the key of ${p.file}`, { output: out });
  return change(`copy ${p.file} to ${path}`, [{ kind: 'exec', cmd: copyAtomic(p.file!, path), description: `copy ${p.file} to ${path}`, touches: [`file:${path}`] }], {
    assume: { [`pathinfo:sha256:${path}`]: { ...src, mode: '0644' } },
    output: out,
  });
}

/** cat into a temp file beside the keyring, then rename: the keyring is never half written. */
function copyAtomic(src: string, dest: string): string {
  const tmp = posix.join(posix.dirname(dest), `.${posix.basename(dest)}.tsplay-XXXXXX`);
  return sh`tmp=$(mktemp ${tmp}) && { cat -- ${src} > "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" ${dest}; } || { rm -f "$tmp"; exit 1; }`;
}
