/**
 * `authorized_key`: SSH public keys in a user's ~/.ssh/authorized_keys. Keys are compared by
 * type and key data (options and comment may differ and are then updated). Creates ~/.ssh
 * (0700) and the file (0600), owned by the user.
 */
import { posix } from 'node:path';
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type FileDiff, type Plan, type PlanContext, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys } from '../../facts/keys.js';
import { authorizedKeys, type AuthorizedKeysFact } from '../../facts/authorized-keys.js';
import { sha256 } from '../../facts/file-content.js';
import { ACCOUNT } from './user.js';

const KEY = /(?:^|\s)((?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+[A-Za-z0-9+/]+=*)(?:\s|$)/;

/** "ssh-ed25519 AAAA..." (type and data) of an authorized_keys line, or undefined for comments and junk. */
export function keyId(line: string): string | undefined {
  const t = line.trim();
  if (!t || t.startsWith('#')) return undefined;
  return KEY.exec(t)?.[1]!.replace(/\s+/, ' ');
}

const keyLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

const params = z.object({
  user: z.string().regex(ACCOUNT, 'not a valid user name').describe('The account whose authorized_keys is managed'),
  key: z
    .string()
    .refine((k) => keyLines(k).length > 0 && keyLines(k).every((l) => keyId(l) !== undefined), {
      message: 'key must be one or more SSH public key lines, e.g. "ssh-ed25519 AAAAC3Nza... me@laptop"',
    })
    .describe('One or more public key lines (options before the key type are kept)'),
  state: z.enum(['present', 'absent']).default('present').describe('Whether the keys should be in the file'),
  exclusive: z.boolean().default(false).describe('state: present: remove every other key from the file'),
  manage_dir: z.boolean().default(true).describe('Create ~/.ssh (0700) and fix its mode and owner'),
});

type Params = z.output<typeof params>;
type Facts = { keys: AuthorizedKeysFact };

const output = z.object({ user: z.string().describe('The account'), path: z.string().describe('The authorized_keys file') });

export default defineModule<typeof params, Facts>({
  name: 'authorized_key',
  summary: "Add or remove SSH public keys in a user's authorized_keys.",
  examples: [
    { title: 'Allow a key', task: { name: 'deploy key', authorized_key: { user: 'deploy', key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGf0o deploy@ci' } } },
    { title: 'Only these keys', task: { name: 'admin keys', authorized_key: { user: 'root', key: '{{ admin_keys.join("\\n") }}', exclusive: true } } },
  ],
  params,
  output,
  probe: (p) => ({ keys: authorizedKeys(p.user) }),
  plan: (p, f, ctx) => planKeys(p, f.keys, ctx),
});

/** The new file content, from the current one. */
export function editKeys(current: string, p: Params): string {
  const wanted = keyLines(p.key);
  const wantedIds = new Map(wanted.map((l) => [keyId(l)!, l]));
  let lines = current.split('\n').filter((l, i, all) => i < all.length - 1 || l !== '');
  if (p.state === 'absent') {
    lines = lines.filter((l) => !wantedIds.has(keyId(l) ?? ''));
  } else if (p.exclusive) {
    lines = wanted;
  } else {
    const seen = new Set<string>();
    lines = lines.map((l) => {
      const id = keyId(l);
      if (id && wantedIds.has(id)) {
        seen.add(id);
        return wantedIds.get(id)!;
      }
      return l;
    });
    for (const [id, l] of wantedIds) if (!seen.has(id)) lines.push(l);
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

function planKeys(p: Params, f: AuthorizedKeysFact, ctx: PlanContext): Plan {
  if (!f.userExists) {
    if (ctx.check && ctx.pending.length) return change(`update the authorized keys of ${p.user} (pending: the user does not exist yet)`, []);
    return failPlan(`user ${p.user} does not exist`);
  }
  const dir = posix.join(f.home, '.ssh');
  const path = posix.join(dir, 'authorized_keys');
  const before = f.file?.content ?? '';
  if (p.state === 'absent' && !f.file) return noop(`${path} does not exist`);
  const after = editKeys(before, p);

  const steps: Step[] = [];
  const changes: string[] = [];
  if (p.manage_dir) {
    if (!f.dir) {
      steps.push({ kind: 'exec', cmd: sh`install -d -m 0700 -o ${p.user} -g ${f.group} -- ${dir}` });
      changes.push(`create ${dir}`);
    } else if (f.dir.mode !== '0700' || f.dir.owner !== p.user) {
      steps.push({ kind: 'exec', cmd: sh`chmod 0700 -- ${dir} && chown ${p.user}:${f.group} -- ${dir}` });
      changes.push(`fix mode/owner of ${dir}: ${f.dir.mode} ${f.dir.owner} -> 0700 ${p.user}`);
    }
  } else if (!f.dir && p.state === 'present') {
    return failPlan(`${dir} does not exist and manage_dir is false`);
  }

  const diffs: FileDiff[] = [];
  if (!f.file || after !== before) {
    steps.push({ kind: 'put', path, content: after, mode: '0600', owner: p.user, group: f.group, expect: f.file ? { sha256: f.file.sha256 } : 'absent' });
    const added = keyLines(after).filter((l) => !keyLines(before).includes(l)).length;
    const removed = keyLines(before).filter((l) => !keyLines(after).includes(l)).length;
    changes.push(
      `${!f.file ? 'create' : 'update'} ${path}` + (added || removed ? ` (${[added && `${added} added`, removed && `${removed} removed`].filter(Boolean).join(', ')})` : ''),
    );
    diffs.push({ path, before: f.file ? before : null, after });
  } else if (f.file.mode !== '0600' || f.file.owner !== p.user) {
    steps.push({ kind: 'exec', cmd: sh`chmod 0600 -- ${path} && chown ${p.user}:${f.group} -- ${path}` });
    changes.push(`fix mode/owner of ${path}: ${f.file.mode} ${f.file.owner} -> 0600 ${p.user}`);
  }
  if (!steps.length) return noop(`${path} already ${p.state === 'present' ? 'has' : 'lacks'} the key${keyLines(p.key).length > 1 ? 's' : ''}`, { output: { user: p.user, path } });
  const attrs = { mode: '0600', owner: p.user, group: f.group };
  return change(changes, steps, {
    diffs,
    output: { user: p.user, path },
    assume: {
      [keys.authorizedKeys(p.user)]: { ...f, dir: p.manage_dir ? { mode: '0700', owner: p.user, group: f.group } : f.dir, file: { ...attrs, content: after, sha256: sha256(after) } },
    },
  });
}
