/**
 * `get_url`: downloads a URL to a file on the host, only when needed: the file is missing, its
 * digest differs from `checksum`, or (`force`) what the URL serves now differs from it. By
 * default the host downloads (curl or wget), to a temp file beside dest that is checked against
 * `checksum` and renamed into place; `via: controller` downloads on the controller and writes
 * the file like `copy` (conditional, atomic, with a diff).
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type ExecResult, type ExecStep, type Plan } from '../../core/module.js';
import { quote, sh } from '../../core/quote.js';
import { fetchCommand, httpClient, urlDigest, type FetchOptions, type HttpClientFact, type UrlDigestFact } from '../../facts/http-client.js';
import { keys, normPath } from '../../facts/keys.js';
import { CHECKSUM_ALGORITHMS, pathInfo, type ChecksumAlgorithm, type PathInfoFact } from '../../facts/path-info.js';
import type { StatFact } from '../../facts/stat.js';
import { decodeUtf8 } from '../../facts/file-content.js';
import { planAttrs } from '../lib/attrs.js';
import { resolveMode } from '../lib/mode.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';
import { attrParams } from './lib/file-params.js';

const CHECKSUM = new RegExp(`^(${CHECKSUM_ALGORITHMS.join('|')}):([0-9a-fA-F]+)$`);

const params = z
  .object({
    url: z.string().regex(/^(https?|ftp):\/\/[^\s]+$/, { message: 'url must start with http://, https:// or ftp://' }).describe('The URL to download (http, https or ftp)'),
    dest: z.string().min(1).describe('Absolute path of the file on the host; an existing folder (or a path ending in "/") gets the last part of the URL as file name'),
    checksum: z
      .string()
      .refine((v) => !/^[a-z0-9]+:(https?|ftp):\/\//.test(v), { message: 'checksum from a URL (algorithm:URL) is not supported: give the digest, e.g. sha256:9f86d0...' })
      .refine((v) => CHECKSUM.test(v), { message: `checksum must be ALGORITHM:HEXDIGEST with ALGORITHM one of ${CHECKSUM_ALGORITHMS.join(', ')}, e.g. sha256:9f86d0...` })
      .optional()
      .describe('Expected digest, "sha256:HEX" (md5, sha1, sha224, sha256, sha384, sha512): the download must match it, and a file that already matches is not downloaded again'),
    force: z.boolean().default(false).describe('Download even when dest exists, and replace it if what the URL serves differs (without checksum, false keeps an existing file as is)'),
    headers: z.record(z.string(), z.string()).optional().describe('HTTP request headers'),
    timeout: z.number().int().positive().default(10).describe('Seconds the request may take'),
    validate_certs: z.boolean().default(true).describe('Verify the server\'s TLS certificate'),
    url_username: z.string().optional().describe('User for HTTP basic authentication'),
    url_password: z.string().optional().describe('Password for HTTP basic authentication (masked in output)'),
    force_basic_auth: z.boolean().default(false).describe('Accepted for Ansible compatibility: credentials are always sent with the first request'),
    http_agent: z.string().default('tsplay-get_url').describe('User-Agent header'),
    backup: z.boolean().default(false).describe('via: controller only: keep a timestamped copy of the file it replaces'),
    via: z.enum(['host', 'controller']).default('host').describe('Where the download runs: the host (curl or wget, like Ansible) or the controller (then written like copy); a tsplay addition'),
    ...attrParams,
  })
  .refine((p) => !(p.backup && p.via === 'host'), { message: 'backup needs via: controller (a host-side download replaces the file in one rename)' });

type Params = z.output<typeof params> & {
  /** via: controller: the body, downloaded in prepare (base64). */
  fetched?: string;
};

type HostFacts = { dest: PathInfoFact; named: PathInfoFact; client: HttpClientFact; remote?: UrlDigestFact };
type ControllerFacts = WriteFacts & { namedStat: WriteFacts['stat']; namedContent: WriteFacts['content'] };
type Facts = HostFacts | ControllerFacts;

const output = z.object({
  url: z.string().describe('The URL'),
  dest: z.string().describe('The file written (dest, or dest/NAME for a folder)'),
  msg: z.string().describe('What happened'),
  checksum_dest: z.string().optional().describe('sha1 of the file after the task, when it was downloaded'),
  size: z.number().optional().describe('Size of the downloaded file in bytes'),
  status_code: z.number().optional().describe('HTTP status of the download (curl only)'),
  elapsed: z.number().optional().describe('Seconds the download took'),
});

/** The last part of the URL's path: the file name used when dest is a folder. */
export function urlFileName(url: string): string | undefined {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/, '').replace(/[?#].*$/, '');
  const name = decodeURIComponent(posix.basename(path));
  return name && name !== '.' && name !== '..' ? name : undefined;
}

const namedPath = (p: { dest: string; url: string }) => normPath(posix.join(p.dest, urlFileName(p.url) ?? 'index.html'));

function fetchOptions(p: Params): FetchOptions {
  const o: FetchOptions = { timeout: p.timeout, validateCerts: p.validate_certs, userAgent: p.http_agent };
  if (p.headers) o.headers = p.headers;
  if (p.url_username !== undefined) o.username = p.url_username;
  if (p.url_password !== undefined) o.password = p.url_password;
  return o;
}

function wanted(p: Params): { algorithm: ChecksumAlgorithm; digest: string } | undefined {
  const m = p.checksum ? CHECKSUM.exec(p.checksum) : null;
  return m ? { algorithm: m[1] as ChecksumAlgorithm, digest: m[2]!.toLowerCase() } : undefined;
}

/** The algorithm the existing file's digest is read with (sha256 when no checksum is given). */
const algorithmOf = (p: Params): ChecksumAlgorithm => wanted(p)?.algorithm ?? 'sha256';

function toStat(f: Extract<PathInfoFact, { exists: true }>): Extract<StatFact, { exists: true }> {
  const type = f.kind === 'file' || f.kind === 'directory' || f.kind === 'link' ? f.kind : 'other';
  return { exists: true, type, mode: f.mode, owner: f.owner ?? String(f.uid), group: f.group ?? String(f.gid), uid: f.uid, gid: f.gid, size: f.size };
}

// ---- host-side download -------------------------------------------------------------------

function probeHost(p: Params) {
  const algorithm = algorithmOf(p);
  const facts: { [K in keyof HostFacts]: ReturnType<typeof pathInfo> | ReturnType<typeof httpClient> | ReturnType<typeof urlDigest> } = {
    dest: pathInfo(p.dest, { checksum: algorithm }),
    named: pathInfo(namedPath(p), { checksum: algorithm }),
    client: httpClient(),
  };
  // Forced without a checksum: what the URL serves now decides, read only when a file is there.
  if (p.force && !p.checksum) {
    const test = sh`{ t=${p.dest}; if [ -d "$t" ]; then t=${namedPath(p)}; fi; [ -f "$t" ]; }`;
    facts.remote = urlDigest(p.url, algorithm, fetchOptions(p), test);
  }
  return facts as { [K in keyof HostFacts]-?: never };
}

/** The download step: temp file beside the target, checksum, mode/owner, rename; prints what it did. */
function downloadStep(p: Params, path: string, client: 'curl' | 'wget', existing: Extract<StatFact, { exists: true }> | undefined): ExecStep {
  const want = wanted(p);
  const dir = posix.dirname(path);
  const lines = [
    'set -e',
    sh`dest=${path}`,
    sh`[ -d ${dir} ] || { echo ${`folder ${dir} does not exist`} >&2; exit 3; }`,
    sh`tmp=$(mktemp ${`${dir}/.${posix.basename(path)}.tsplay-XXXXXX`})`,
    `trap 'rm -f "$tmp"' EXIT INT TERM HUP PIPE`,
    `t0=$(date +%s)`,
    `code=$(${fetchCommand(client, p.url, '"$tmp"', fetchOptions(p))}) || { rc=$?; echo "download of ${p.url.replace(/["$`\\]/g, '')} failed ($client exit $rc)" >&2; exit 9; }`,
  ];
  if (want) {
    lines.push(
      `got=$(${want.algorithm}sum < "$tmp" | cut -d ' ' -f 1)`,
      `[ "$got" = ${quote(want.digest)} ] || { echo "checksum mismatch: the download's ${want.algorithm} is $got, expected ${want.digest}" >&2; exit 8; }`,
    );
  }
  const mode = p.mode ? (resolveMode(p.mode, existing?.mode, false) ?? p.mode) : undefined;
  if (mode) lines.push(sh`chmod ${mode} "$tmp"`);
  else lines.push('if [ -e "$dest" ]; then chmod --reference="$dest" "$tmp"; else chmod 0644 "$tmp"; fi');
  if (p.owner || p.group) lines.push(sh`chown ${`${p.owner ?? ''}${p.group ? `:${p.group}` : ''}`} "$tmp"`);
  else lines.push('if [ -e "$dest" ]; then chown --reference="$dest" "$tmp" 2>/dev/null || true; fi');
  lines.push(
    'mv -f "$tmp" "$dest"',
    `trap - EXIT INT TERM HUP PIPE`,
    'echo "status:${code:-}"',
    'echo "sha1:$(sha1sum < "$dest" | cut -d \' \' -f 1)"',
    'echo "size:$(wc -c < "$dest")"',
    'echo "elapsed:$(( $(date +%s) - t0 ))"',
  );
  return { kind: 'exec', cmd: lines.join('\n'), description: `download ${p.url} to ${path}`, touches: [`file:${path}`] };
}

function planHost(p: Params, f: HostFacts): Plan {
  const destIsDir = f.dest.exists && f.dest.kind === 'directory';
  if (p.dest.endsWith('/') && !destIsDir) return failPlan(`get_url: folder ${p.dest} does not exist`);
  const path = destIsDir ? namedPath(p) : normPath(p.dest);
  const cur = destIsDir ? f.named : f.dest;
  if (cur.exists && cur.kind !== 'file') return failPlan(`get_url: ${path} exists and is not a regular file (${cur.kind})`);
  const client: 'curl' | 'wget' | undefined = f.client.curl ? 'curl' : f.client.wget ? 'wget' : undefined;
  const base = { url: p.url, dest: path };
  const want = wanted(p);

  let why: string | undefined;
  if (!cur.exists) why = `download ${p.url} to ${path}`;
  else if (want && cur.checksum !== want.digest) why = `download ${p.url} to ${path} (its ${want.algorithm} differs from checksum)`;
  else if (!want && p.force) {
    const r = f.remote;
    if (!r || !r.fetched) return failPlan(`get_url: the digest of ${p.url} was not read`);
    if ('error' in r) return failPlan(`get_url: could not download ${p.url} on the host: ${r.error}`);
    if (r.digest !== cur.checksum) why = `download ${p.url} to ${path} (the URL serves other content)`;
  }

  if (why) {
    if (!client) return failPlan(`get_url: the host has neither curl nor wget to download ${p.url}; install one (e.g. the package module with name: curl) or use via: controller`);
    const existing = cur.exists ? toStat(cur) : undefined;
    const mode = p.mode ? (resolveMode(p.mode, existing?.mode, false) ?? p.mode) : (existing?.mode ?? '0644');
    const after: StatFact = {
      exists: true, type: 'file', mode, owner: p.owner ?? existing?.owner ?? 'root', group: p.group ?? existing?.group ?? 'root', uid: -1, gid: -1, size: -1,
    };
    return change(why, [downloadStep(p, path, client, existing)], {
      assume: {
        [keys.stat(path)]: after,
        ...(want ? { [`pathinfo:${want.algorithm}:${path}`]: { ...(existing ? cur : { exists: true, kind: 'file', uid: -1, gid: -1, owner: null, group: null, size: -1 }), checksum: want.digest, mode } } : {}),
      },
      output: { ...base, msg: 'downloaded' },
    });
  }
  const st = toStat(cur as Extract<PathInfoFact, { exists: true }>);
  const attrs = planAttrs(path, p, st);
  const reason = want ? `${path} matches the checksum` : p.force ? `${path} has what ${p.url} serves` : `${path} exists (force is false)`;
  if (!attrs.steps.length) return noop(reason, { output: { ...base, msg: reason } });
  return change(attrs.changes, attrs.steps, {
    assume: { [keys.stat(path)]: { ...st, mode: attrs.mode ?? st.mode, owner: attrs.owner ?? st.owner, group: attrs.group ?? st.group } },
    output: { ...base, msg: reason },
  });
}

function hostResult(results: ExecResult[]): Record<string, unknown> {
  const out = results[results.length - 1]?.stdout ?? '';
  const tag = (t: string) => new RegExp(`^${t}:(.*)$`, 'm').exec(out)?.[1]?.trim();
  const r: Record<string, unknown> = {};
  const status = Number(tag('status'));
  if (tag('status') && Number.isInteger(status)) r.status_code = status;
  if (tag('sha1')) r.checksum_dest = tag('sha1');
  if (tag('size')) r.size = Number(tag('size'));
  if (tag('elapsed')) r.elapsed = Number(tag('elapsed'));
  return r;
}

// ---- controller-side download ---------------------------------------------------------------

async function download(p: Params): Promise<Buffer> {
  if (!p.validate_certs) throw new Error('validate_certs: false is not supported with via: controller');
  if (p.url.startsWith('ftp:')) throw new Error('ftp URLs need via: host');
  const headers: Record<string, string> = { 'user-agent': p.http_agent, ...(p.headers ?? {}) };
  if (p.url_username !== undefined) headers.authorization = `Basic ${Buffer.from(`${p.url_username}:${p.url_password ?? ''}`).toString('base64')}`;
  let res: Response;
  try {
    res = await fetch(p.url, { headers, signal: AbortSignal.timeout(p.timeout * 1000), redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new Error(`could not download ${p.url} on the controller: ${cause ?? (e as Error).message}`);
  }
  if (!res.ok) throw new Error(`could not download ${p.url} on the controller: HTTP ${res.status} ${res.statusText}`);
  const body = Buffer.from(await res.arrayBuffer());
  const want = wanted(p);
  if (want) {
    const { createHash } = await import('node:crypto');
    const got = createHash(want.algorithm).update(body).digest('hex');
    if (got !== want.digest) throw new Error(`checksum mismatch: the download's ${want.algorithm} is ${got}, expected ${want.digest}`);
  }
  return body;
}

function probeController(p: Params) {
  const named = probeWrite(namedPath(p));
  return { ...probeWrite(p.dest), namedStat: named.stat, namedContent: named.content };
}

function planController(p: Params, f: ControllerFacts, ctx: Parameters<typeof planWrite>[2]): Plan {
  if (p.fetched === undefined) return failPlan(`get_url: ${p.url} was not downloaded on the controller`);
  const destIsDir = f.stat.exists && f.stat.type === 'directory';
  if (p.dest.endsWith('/') && !destIsDir) return failPlan(`get_url: folder ${p.dest} does not exist`);
  const path = destIsDir ? namedPath(p) : normPath(p.dest);
  const facts: WriteFacts = destIsDir ? { stat: f.namedStat, content: f.namedContent } : f;
  const bytes = Buffer.from(p.fetched, 'base64');
  const text = decodeUtf8(bytes);
  // Without force or checksum an existing file stays; with a checksum it is replaced when it differs.
  const plan = planWrite({ path, content: text ?? bytes, mode: p.mode, owner: p.owner, group: p.group, backup: p.backup, force: p.force || !!p.checksum }, facts, ctx);
  if ('failed' in plan) return plan;
  const msg = plan.changed ? 'downloaded on the controller' : plan.reason;
  return { ...plan, output: { url: p.url, dest: path, msg, ...(plan.changed ? { size: bytes.length } : {}) } };
}

export default defineModule<typeof params, Facts>({
  name: 'get_url',
  summary: 'Download a URL to a file on the host, only when it is missing or differs.',
  description:
    'Like Ansible: without `force` an existing dest is kept as is (unless `checksum` says it differs); with `checksum` the download must match ' +
    'and a matching file is not downloaded again; with `force` the URL is read and the file replaced only if the content differs (check mode ' +
    'reads the URL too, so it reports exactly what a run would do). The host downloads with curl or wget (the task fails, naming them, when it has ' +
    'neither) into a temp file beside dest, which is checked and renamed into place. `via: controller` (a tsplay addition) downloads on the ' +
    'controller and writes the file like `copy` (atomic, conditional, with a diff). A folder as dest gets the last part of the URL as file name ' +
    '(tsplay does not read Content-Disposition). Not supported: checksum URLs, client certificates, proxies settings beyond the environment.',
  examples: [
    {
      title: 'A release binary, verified',
      task: {
        name: 'Download node_exporter',
        get_url: {
          url: 'https://github.com/prometheus/node_exporter/releases/download/v1.8.2/node_exporter-1.8.2.linux-amd64.tar.gz',
          dest: '/opt/',
          checksum: 'sha256:6809dd0b3ec45fd6e992c19071d6b5253aed3ead7bf0686885a51d85c6643c66',
          mode: '0644',
        },
      },
    },
    { title: 'Always the latest file, replaced only when it changed', task: { name: 'Blocklist', get_url: { url: 'http://mirror.internal/blocklist.txt', dest: '/etc/app/blocklist.txt', force: true } } },
    { title: 'Download on the controller (the host has no access)', task: { name: 'Config bundle', get_url: { url: 'http://10.0.0.5/bundle.conf', dest: '/etc/app/bundle.conf', via: 'controller' } } },
  ],
  params,
  output,
  secretParams: ['url_password'],
  prepare: async (p: Params) => (p.via === 'controller' ? { ...p, fetched: (await download(p)).toString('base64') } : p),
  probe: (p: Params) => (p.via === 'controller' ? probeController(p) : probeHost(p)) as never,
  plan: (p: Params, f, ctx) => (p.via === 'controller' ? planController(p, f as ControllerFacts, ctx) : planHost(p, f as HostFacts)),
  result: (p: Params, _f, results) => (p.via === 'host' ? hostResult(results) : {}),
});

