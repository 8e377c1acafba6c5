/**
 * `apt_repository`: a one-line APT source (`deb [options] URI SUITE COMPONENTS`) present in, or
 * absent from, the host's .list files. Like Ansible: present anywhere (sources.list or any
 * sources.list.d/*.list) counts as present, a commented-out copy is enabled in place, otherwise
 * the line is added to sources.list.d/FILENAME.list; absent removes it from every file. Each
 * changed file is written whole, conditionally on the sha256 it was read with, after apt checked
 * it (lib/apt-source.ts); apt-get update runs only when a file changed.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { change, defineModule, failPlan, noop, octalMode, type FileDiff, type Plan, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { aptSourceLists, type AptListFile, type AptSourceListsFact } from '../../facts/apt-sources.js';
import { sha256 } from '../../facts/file-content.js';
import { keys } from '../../facts/keys.js';
import { updateCacheStep, validateSource } from './lib/apt-source.js';

const params = z.object({
  repo: z.string().min(1).describe('The source line, e.g. "deb [signed-by=/etc/apt/keyrings/x.asc] https://example.org/debian bookworm main"'),
  state: z.enum(['present', 'absent']).default('present').describe('present: the line is in a .list file (enabled); absent: removed from every file'),
  filename: z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'filename is a plain file name (letters, digits, "_", "-", ".")' }).optional().describe('Name of the file in sources.list.d, without .list (added); default: made from the URI like Ansible ("deb http://ex.org/debian ..." -> ex_org_debian.list)'),
  mode: octalMode.optional().describe('Mode of a file written; default: a new file gets 0644, an existing one keeps its mode'),
  update_cache: z.boolean().default(true).describe('Run apt-get update after a change (only then); with it, apt first fetches a new line\'s indexes into a scratch folder and the file is not written if that fails'),
  update_cache_retries: z.number().int().min(0).default(5).describe('Accepted for Ansible compatibility; tsplay runs apt-get update once'),
  update_cache_retry_max_delay: z.number().int().min(0).default(12).describe('Accepted for Ansible compatibility'),
  validate_certs: z.boolean().default(true).describe('Accepted for Ansible compatibility (used by Ansible only for PPA keys)'),
  codename: z.string().optional().describe('Accepted for Ansible compatibility (PPA only, which tsplay does not support)'),
  install_python_apt: z.boolean().default(true).describe('Accepted for Ansible compatibility; tsplay needs nothing on the host'),
});

type Params = z.output<typeof params>;
type Facts = { lists: AptSourceListsFact };

const output = z.object({
  repo: z.string().describe('The source line'),
  dest: z.string().describe('The file the line was added to (state: present)'),
  sources_added: z.array(z.string()).describe('Files the line was added to or enabled in'),
  sources_removed: z.array(z.string()).describe('Files the line was removed from'),
});

interface Source {
  type: 'deb' | 'deb-src';
  options: string;
  uri: string;
  suite: string;
  components: string;
}

/** Parses a source line (not a comment); undefined when it is not one. */
export function parseSource(line: string): Source | undefined {
  const m = /^\s*(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)\s*$/.exec(line.replace(/\s#.*$/, ''));
  if (!m) return undefined;
  const options = (m[2] ?? '').trim().split(/\s+/).filter(Boolean).map((o) => o.replace(/\s*=\s*/, '=')).sort().join(' ');
  return { type: m[1] as Source['type'], options, uri: m[3]!.replace(/\/+$/, ''), suite: m[4]!, components: (m[5] ?? '').trim().split(/\s+/).filter(Boolean).join(' ') };
}

const same = (a: Source, b: Source) => a.type === b.type && a.options === b.options && a.uri === b.uri && a.suite === b.suite && a.components === b.components;

/** Ansible's default file name: the URI's host and path, non-alphanumerics as "_". */
export function defaultFilename(repo: string): string {
  const line = repo.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
  const parts = line.split(/\s+/).filter((x) => x && x !== 'deb' && x !== 'deb-src');
  const first = (parts[0] ?? '').includes('@') ? parts[0]!.slice(parts[0]!.indexOf('@') + 1) : (parts[0] ?? '');
  return first.replace(/[^a-zA-Z0-9]/g, ' ').trim().split(/\s+/).join('_');
}

const destOf = (p: Params) => `/etc/apt/sources.list.d/${p.filename ? p.filename.replace(/\.list$/, '') : defaultFilename(p.repo)}.list`;

/** A line's source, whether enabled or commented out ("# deb ..."). */
function lineSource(line: string): { src: Source; enabled: boolean } | undefined {
  const enabled = parseSource(line);
  if (enabled) return { src: enabled, enabled: true };
  const m = /^\s*#+\s*(.*)$/.exec(line);
  const commented = m ? parseSource(m[1]!) : undefined;
  return commented ? { src: commented, enabled: false } : undefined;
}

const splitLines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

export default defineModule<typeof params, Facts>({
  name: 'apt_repository',
  summary: 'Add or remove a one-line APT source in /etc/apt/sources.list.d/*.list.',
  description:
    'Ansible\'s apt_repository for Debian: the same parameters and default file name. A line present in any .list file (or sources.list) counts as present; ' +
    'a commented-out copy is enabled in place; otherwise it is appended to sources.list.d/FILENAME.list. state: absent removes it (enabled or commented out) ' +
    'from every file, and removes a .list file left with nothing in it. Lines are compared by type, options (in any order), URI (trailing "/" ignored), suite and components. ' +
    'Each file is written whole and atomically, only if it is still what was read, after apt parsed the whole configuration with it; with update_cache (default true, as in Ansible) ' +
    'apt also fetches the new line\'s indexes into a scratch folder first, so a broken repository is never written, then apt-get update runs once. ' +
    'Differences: PPAs (ppa:...) are Ubuntu\'s and are refused; a filename ending in .list does not get a second one; update_cache_retries is accepted but not used. ' +
    'For new repositories prefer deb822_repository (a .sources file with its key).',
  examples: [
    {
      title: 'A repository with its key',
      task: { name: 'Grafana', apt_repository: { repo: 'deb [signed-by=/etc/apt/keyrings/grafana.asc] https://apt.grafana.com stable main', filename: 'grafana' } },
    },
    { title: 'Remove it', task: { name: 'No grafana', apt_repository: { repo: 'deb [signed-by=/etc/apt/keyrings/grafana.asc] https://apt.grafana.com stable main', state: 'absent' } } },
  ],
  params,
  output,
  probe: () => ({ lists: aptSourceLists() }),
  plan: (p, f) => planRepo(p, f),
});

function planRepo(p: Params, f: Facts): Plan {
  if (/^ppa:/.test(p.repo.trim())) return failPlan('apt_repository: PPAs (ppa:...) are Ubuntu\'s; tsplay manages Debian hosts: give the deb line of the repository');
  const want = parseSource(p.repo);
  if (!want) return failPlan(`apt_repository: "${p.repo}" is not a source line: expected "deb [options] URI SUITE [COMPONENTS...]" (or deb-src)`);
  if (!want.suite.endsWith('/') && !want.components) return failPlan(`apt_repository: "${p.repo}" has no components (only a suite ending in "/" may have none)`);
  const dest = destOf(p);
  const files = f.lists.files;
  const out = { repo: p.repo, dest, sources_added: [] as string[], sources_removed: [] as string[] };

  /** New content per file, for the files that change. */
  const edits = new Map<string, { file: AptListFile | undefined; lines: string[] }>();
  if (p.state === 'present') {
    if (files.some((file) => splitLines(file.content).some((l) => { const s = lineSource(l); return s?.enabled && same(s.src, want); })))
      return noop(`${p.repo} is present`, { output: out });
    const disabled = files.find((file) => splitLines(file.content).some((l) => lineSource(l)?.enabled === false && same(lineSource(l)!.src, want)));
    if (disabled) {
      const lines = splitLines(disabled.content).map((l) => { const s = lineSource(l); return s && !s.enabled && same(s.src, want) ? l.replace(/^\s*#+\s*/, '') : l; });
      edits.set(disabled.path, { file: disabled, lines });
    } else {
      const file = files.find((x) => x.path === dest);
      edits.set(dest, { file, lines: [...splitLines(file?.content ?? ''), p.repo.trim()] });
    }
  } else {
    for (const file of files) {
      const lines = splitLines(file.content);
      const kept = lines.filter((l) => { const s = lineSource(l); return !(s && same(s.src, want)); });
      if (kept.length !== lines.length) edits.set(file.path, { file, lines: kept });
    }
    if (!edits.size) return noop(`${p.repo} is absent`, { output: out });
  }

  const steps: Step[] = [];
  const changes: string[] = [];
  const diffs: FileDiff[] = [];
  const after = new Map(files.map((x) => [x.path, x]));
  for (const [path, { file, lines }] of edits) {
    const content = lines.length ? `${lines.join('\n')}\n` : '';
    const drop = p.state === 'absent' && posix.dirname(path) === '/etc/apt/sources.list.d' && lines.every((l) => l.trim() === '');
    if (drop) {
      // Conditional like a put: only a file that is still what was read is removed.
      steps.push({
        kind: 'exec',
        cmd: sh`[ "$(sha256sum < ${path} | cut -d ' ' -f 1)" = ${file!.sha256} ] || { echo ${`${path} changed since it was read; not removed`} >&2; exit 6; }; rm -f -- ${path}`,
        description: `remove ${path}`,
        touches: [`file:${path}`],
      });
      changes.push(`remove ${path} (nothing left in it)`);
      after.delete(path);
    } else {
      steps.push({
        kind: 'put',
        path,
        content,
        ...(p.mode ? { mode: p.mode } : file ? {} : { mode: '0644' }),
        expect: file ? { sha256: file.sha256 } : 'absent',
        validate: validateSource(path, p.update_cache && p.state === 'present'),
      });
      changes.push(p.state === 'absent' ? `remove ${p.repo} from ${path}` : file ? `add ${p.repo} to ${path}` : `create ${path} with ${p.repo}`);
      after.set(path, { path, sha256: sha256(content), content });
    }
    diffs.push({ path, before: file ? file.content : null, after: drop ? null : content });
    (p.state === 'present' ? out.sources_added : out.sources_removed).push(path);
  }
  const assume: Record<string, unknown> = { 'apt:lists': { files: [...after.values()] } };
  if (p.update_cache) {
    steps.push(updateCacheStep());
    changes.push('update the apt cache');
    assume[keys.aptCache()] = { ageSeconds: 0 };
  }
  return change(changes, steps, { diffs, assume, output: { ...out, dest: p.state === 'present' ? [...edits.keys()][0]! : dest } });
}
