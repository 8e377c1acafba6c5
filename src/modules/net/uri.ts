/**
 * `uri`: an HTTP request made from the host with curl, registered like Ansible's (status, url,
 * msg, redirected, elapsed, the response headers in lower case with `_`, json for a JSON
 * response, content with return_content). Like command it changes nothing it can know of: never
 * "changed" unless changed_when says so; not run in check mode (Ansible's uri does not support it).
 */
import { z } from 'zod';
import { defineModule, failPlan, noop, type ExecResult, type ExecStep } from '../../core/module.js';
import { quote, raw, sh } from '../../core/quote.js';
import { httpClient, type HttpClientFact } from '../../facts/http-client.js';
import { stat, type StatFact } from '../../facts/stat.js';

const params = z.object({
  url: z.string().regex(/^https?:\/\/[^\s]+$/, { message: 'url must start with http:// or https://' }).describe('The URL to request (http or https)'),
  method: z
    .string()
    .regex(/^[A-Z]+$/, { message: 'method must be a single word in uppercase, like GET or POST' })
    .default('GET')
    .describe('HTTP method, in uppercase: GET, POST, PUT, DELETE, PATCH, HEAD, ...'),
  body: z.unknown().optional().describe('The request body: a string, or (with body_format json or form-urlencoded) a value that is encoded'),
  body_format: z.enum(['raw', 'json', 'form-urlencoded']).default('raw').describe('How body is encoded: raw (as is), json (JSON; sets Content-Type), form-urlencoded (a mapping or list of pairs; sets Content-Type)'),
  headers: z.record(z.string(), z.union([z.string(), z.number()])).default({}).describe('Request headers'),
  status_code: z
    .union([z.number().int(), z.array(z.number().int()).min(1)])
    .default([200])
    .describe('Status codes that mean success (one or a list); any other fails the task'),
  return_content: z.boolean().default(false).describe('Register the response body as content (a JSON response is registered as json anyway)'),
  timeout: z.number().int().positive().default(30).describe('Seconds the request may take'),
  validate_certs: z.boolean().default(true).describe('Verify the server\'s TLS certificate'),
  follow_redirects: z
    .enum(['all', 'safe', 'none'])
    .default('safe')
    .describe('Follow redirects: all, safe (only for GET and HEAD, the default) or none'),
  url_username: z.string().optional().describe('User for HTTP basic authentication'),
  url_password: z.string().optional().describe('Password for HTTP basic authentication (masked in output)'),
  force_basic_auth: z.boolean().default(false).describe('Accepted for Ansible compatibility: credentials are always sent with the first request'),
  http_agent: z.string().default('tsplay-uri').describe('User-Agent header'),
  creates: z.string().optional().describe('Skip the request when this path exists on the host'),
  removes: z.string().optional().describe('Skip the request when this path does not exist on the host'),
});

type Params = z.output<typeof params>;
type Facts = { client: HttpClientFact; creates?: StatFact; removes?: StatFact };

const output = z
  .object({
    status: z.number().describe('HTTP status code (-1 when no response came)'),
    url: z.string().describe('The URL of the last response (after redirects)'),
    msg: z.string().describe('"OK (N bytes)", or why the request failed'),
    redirected: z.boolean().describe('Whether a redirect was followed'),
    elapsed: z.number().describe('Seconds the request took'),
    json: z.unknown().optional().describe('The body parsed, when the response is JSON (content type with json, javascript or text)'),
    content: z.string().optional().describe('The body, with return_content (or when the status was not expected)'),
  })
  .catchall(z.unknown())
  .describe('Also every response header, in lower case with "-" as "_" (content_type, content_length, location, ...)');

const statuses = (p: Params) => (Array.isArray(p.status_code) ? p.status_code : [p.status_code]);

/** The request body and the Content-Type it implies. */
export function encodeBody(p: Pick<Params, 'body' | 'body_format'>): { body?: string; type?: string } {
  if (p.body === undefined || p.body === null) return {};
  if (p.body_format === 'json') return { body: typeof p.body === 'string' ? p.body : JSON.stringify(p.body), type: 'application/json' };
  if (p.body_format === 'form-urlencoded') {
    if (typeof p.body === 'string') return { body: p.body, type: 'application/x-www-form-urlencoded' };
    const pairs: Array<[unknown, unknown]> = Array.isArray(p.body) ? (p.body as Array<[unknown, unknown]>) : Object.entries(p.body as object);
    const q = new URLSearchParams();
    for (const [k, v] of pairs) for (const x of Array.isArray(v) ? v : [v]) if (x !== null && x !== undefined) q.append(String(k), String(x));
    return { body: q.toString(), type: 'application/x-www-form-urlencoded' };
  }
  return { body: typeof p.body === 'string' ? p.body : JSON.stringify(p.body) };
}

/** The request: curl writes headers and body to temp files; the script prints them tagged, then checks the status. */
function requestStep(p: Params): ExecStep {
  const { body, type } = encodeBody(p);
  const headers: Record<string, string> = Object.fromEntries(Object.entries(p.headers).map(([k, v]) => [k, String(v)]));
  if (type && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = type;
  const args: string[] = ['-sS', '--max-time', String(p.timeout), '-A', p.http_agent];
  if (p.method === 'HEAD') args.push('-I');
  else if (p.method !== 'GET' || body !== undefined) args.push('-X', p.method);
  const follow = p.follow_redirects === 'all' || (p.follow_redirects === 'safe' && (p.method === 'GET' || p.method === 'HEAD'));
  if (follow) args.push('-L');
  if (!p.validate_certs) args.push('-k');
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (p.url_username !== undefined) args.push('-u', `${p.url_username}:${p.url_password ?? ''}`);
  if (body !== undefined) args.push('--data-binary', '@-');
  const want = statuses(p);
  const cmd = [
    'b=$(mktemp) && h=$(mktemp) || exit 1',
    `trap 'rm -f "$b" "$h" "$b.err"' EXIT INT TERM HUP`,
    sh`w=$(curl ${args} -D "$h" -o "$b" -w '%{http_code} %{num_redirects} %{time_total} %{url_effective}' -- ${p.url} ${raw(body === undefined ? '</dev/null ' : '')}2>"$b.err"); rc=$?`,
    'echo "curl:$rc $w"',
    '[ "$rc" -eq 0 ] || echo "error:$(tail -n 1 "$b.err")"',
    "echo '--headers--'; tr -d '\\r' < \"$h\"",
    "echo '--body--'; base64 -w 0 < \"$b\"; echo",
    'code=${w%% *}; [ "$rc" -eq 0 ] || code=-1',
    `case ${quote(` ${want.join(' ')} `)} in *" $code "*) exit 0 ;; esac`,
    `echo "Status code was $code and not [${want.join(', ')}]" >&2`,
    'exit 65',
  ].join('\n');
  const step: ExecStep = { kind: 'exec', cmd, description: `${p.method} ${p.url}`, touches: [] };
  if (body !== undefined) step.stdin = body;
  return step;
}

/** The registered result from the script's output (also on a failed status). */
export function uriResult(p: Params, out: string): Record<string, unknown> {
  const head = /^curl:(\d+) (\S+) (\d+) (\S+) ?(.*)$/m.exec(out);
  if (!head) return {};
  const rc = Number(head[1]);
  const error = /^error:(.*)$/m.exec(out)?.[1];
  const status = rc === 0 ? Number(head[2]) : -1;
  const r: Record<string, unknown> = {
    status,
    url: head[5] || p.url,
    redirected: Number(head[3]) > 0,
    elapsed: Math.round(Number(head[4])),
  };
  const hStart = out.indexOf('--headers--\n');
  const bStart = out.indexOf('\n--body--\n');
  if (hStart >= 0 && bStart > hStart) {
    // With redirects curl writes one block per response: the last one counts.
    const blocks = out.slice(hStart + 12, bStart).split(/\n\s*\n/).filter((b) => b.trim());
    const last = blocks[blocks.length - 1] ?? '';
    for (const line of last.split('\n').slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) r[line.slice(0, i).trim().toLowerCase().replace(/-/g, '_')] = line.slice(i + 1).trim();
    }
  }
  const bytes = bStart >= 0 ? Buffer.from(out.slice(bStart + 10).trim(), 'base64') : Buffer.alloc(0);
  const text = bytes.toString('utf8');
  const ctype = String(r.content_type ?? '');
  const sub = /\/([^;]+)/.exec(ctype)?.[1] ?? '';
  if (['json', 'javascript', 'text'].some((c) => sub.includes(c)) && text) {
    try {
      r.json = JSON.parse(text);
    } catch {
      // not JSON after all
    }
  }
  const expected = statuses(p).includes(status);
  if (p.return_content || !expected) r.content = text;
  const ok = rc === 0 ? `OK (${r.content_length ?? 'unknown'} bytes)` : `Request failed: ${error ?? `curl exit ${rc}`}`;
  r.msg = expected ? ok : `Status code was ${status} and not [${statuses(p).join(', ')}]: ${ok}`;
  return r;
}

export default defineModule<typeof params, Facts>({
  name: 'uri',
  summary: 'Make an HTTP request from the host and register the response (status, headers, json, content).',
  description:
    'Runs curl on the host (the task fails, naming it, when the host has none). A status outside `status_code` fails the task; the registered result ' +
    '(also on failure) has `status`, `url`, `msg`, `redirected`, `elapsed`, every response header in lower case with "_" (`content_type`), `json` ' +
    'for a JSON response and `content` with `return_content`. Never reports a change: use `changed_when` (e.g. on `result.status == 201`). ' +
    'Like Ansible, it does not run in check mode (give the task `check_mode: false` to make a read-only request there too). ' +
    'Not supported: dest, src, form-multipart, client certificates, unix_socket.',
  examples: [
    { title: 'Wait until a service answers', task: { name: 'Health', uri: { url: 'http://127.0.0.1:8080/health' }, register: 'health', until: 'health.status == 200', retries: 10, delay: 3 } },
    {
      title: 'Create a resource with a JSON body',
      task: {
        name: 'Create the admin user',
        uri: { url: 'http://127.0.0.1:3000/api/users', method: 'POST', body_format: 'json', body: { name: 'admin', role: 'owner' }, headers: { Authorization: 'Bearer {{ api_token }}' }, status_code: [201, 409] },
        register: 'created',
        changed_when: 'created.status == 201',
      },
    },
  ],
  params,
  output,
  secretParams: ['url_password'],
  probe: (p: Params) => {
    const f: { client: ReturnType<typeof httpClient>; creates?: ReturnType<typeof stat>; removes?: ReturnType<typeof stat> } = { client: httpClient() };
    if (p.creates) f.creates = stat(p.creates);
    if (p.removes) f.removes = stat(p.removes);
    return f as never;
  },
  plan: (p, f, ctx) => {
    if (p.creates && f.creates?.exists) return noop(`skipped, since ${p.creates} exists`, { output: { msg: `skipped, since ${p.creates} exists` } });
    if (p.removes && f.removes && !f.removes.exists) return noop(`skipped, since ${p.removes} does not exist`, { output: { msg: `skipped, since ${p.removes} does not exist` } });
    if (ctx.check) return noop(`${p.method} ${p.url}: not run in check mode (like Ansible's uri; check_mode: false runs it)`, { output: { msg: 'not run in check mode' } });
    if (!f.client.curl) return failPlan(`uri: the host has no curl to request ${p.url}; install it (e.g. the package module with name: curl)`);
    return noop(`${p.method} ${p.url}`, { steps: [requestStep(p)] });
  },
  result: (p, _f, results: ExecResult[]) => uriResult(p, results[results.length - 1]?.stdout ?? ''),
});
