/**
 * `user`: a local account present (useradd/usermod) or absent (userdel). The password is a
 * crypted hash, compared by its sha256 (user fact) and set with `chpasswd -e` on stdin, so it
 * never appears in a command line.
 */
import { z } from 'zod';
import { change, defineModule, noop, type Plan, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys } from '../../facts/keys.js';
import { sha256 } from '../../facts/file-content.js';
import { user as userFact, type UserFact } from '../../facts/user.js';
import { group as groupFact, type GroupFact } from '../../facts/group.js';

export const ACCOUNT = /^[a-z_][a-z0-9_.-]*\$?$/;

const params = z.object({
  name: z.string().regex(ACCOUNT, 'a user name is lower case letters, digits, _ . - and starts with a letter or _').describe('User name'),
  state: z.enum(['present', 'absent']).default('present').describe('Whether the account should exist'),
  uid: z.number().int().min(0).optional().describe('User id'),
  group: z.string().optional().describe('Primary group (name or gid); it must exist. Default for a new user: the group named like the user (created when it does not exist yet)'),
  groups: z.array(z.string()).optional().describe('Supplementary groups; see append'),
  append: z.boolean().default(false).describe('Add the user to groups and keep other memberships; false: groups is the exact list'),
  shell: z.string().optional().describe('Login shell, e.g. /bin/bash or /usr/sbin/nologin'),
  home: z.string().optional().describe('Home folder (an existing home is not moved)'),
  create_home: z.boolean().default(true).describe('Create the home folder when the user is created'),
  system: z.boolean().default(false).describe('Create a system account (low uid, no aging) when the user is created'),
  comment: z.string().optional().describe('The GECOS field (full name)'),
  password: z.string().optional().describe('Crypted password hash (e.g. from `mkpasswd -m sha-512`), not the clear text; use !secret'),
  update_password: z.enum(['always', 'on_create']).default('always').describe('always: set the password when it differs; on_create: only for new users'),
  remove: z.boolean().default(false).describe('state: absent: also remove the home folder and mail spool (userdel -r)'),
});

type Params = z.output<typeof params>;
/** namesake: the group named like the user, probed when no primary group is given (a new user joins it). */
type Facts = { user: UserFact; namesake?: GroupFact };

const output = z.object({
  name: z.string().describe('User name'),
  state: z.string().describe('The state asked for'),
});

export default defineModule<typeof params, Facts>({
  name: 'user',
  summary: 'Create, change or remove a local user account.',
  examples: [
    {
      title: 'A deploy user',
      task: { name: 'deploy user', user: { name: 'deploy', shell: '/bin/bash', groups: ['sudo', 'docker'], append: true, password: '{{ deploy_password_hash }}' } },
    },
    { title: 'A service account', task: { name: 'app account', user: { name: 'app', system: true, create_home: false, shell: '/usr/sbin/nologin' } } },
  ],
  params,
  output,
  secretParams: ['password'],
  probe: (p) => (p.state === 'present' && p.group === undefined ? { user: userFact(p.name), namesake: groupFact(p.name) } : { user: userFact(p.name) }),
  plan: (p, f) => {
    const plan = planUser(p, f.user, f.namesake);
    return 'failed' in plan ? plan : { ...plan, output: { name: p.name, state: p.state } };
  },
});

function passwordStep(p: Params): Step {
  return { kind: 'exec', cmd: 'chpasswd -e', stdin: `${p.name}:${p.password}\n`, description: `set the password of ${p.name}` };
}

function planUser(p: Params, u: UserFact, namesake: GroupFact | undefined): Plan {
  if (p.state === 'absent') {
    if (!u.exists) return noop(`user ${p.name} does not exist`);
    return change(`remove user ${p.name}${p.remove ? ' and its home' : ''}`, [{ kind: 'exec', cmd: sh`userdel ${[...(p.remove ? ['-r'] : []), p.name]}` }], {
      assume: { [keys.user(p.name)]: { exists: false } },
    });
  }

  if (!u.exists) {
    const args: string[] = [];
    if (p.uid !== undefined) args.push('-u', String(p.uid));
    // useradd refuses to create the user's own group when it exists ("group NAME exists"): join it, as Ansible does.
    const group = p.group ?? (namesake?.exists ? p.name : undefined);
    if (group !== undefined) args.push('-g', group);
    if (p.groups?.length) args.push('-G', p.groups.join(','));
    if (p.shell !== undefined) args.push('-s', p.shell);
    if (p.home !== undefined) args.push('-d', p.home);
    if (p.comment !== undefined) args.push('-c', p.comment);
    args.push(p.create_home ? '-m' : '-M');
    if (p.system) args.push('-r');
    const steps: Step[] = [{ kind: 'exec', cmd: sh`useradd ${[...args, p.name]}` }];
    if (p.password !== undefined) steps.push(passwordStep(p));
    return change(`create user ${p.name}${p.uid !== undefined ? ` (uid ${p.uid})` : ''}`, steps, {
      assume: {
        [keys.user(p.name)]: {
          exists: true,
          name: p.name,
          uid: p.uid ?? -1,
          gid: -1,
          comment: p.comment ?? '',
          home: p.home ?? `/home/${p.name}`,
          shell: p.shell ?? '/bin/sh',
          group: p.group ?? p.name,
          groups: [...(p.groups ?? [])].sort(),
          passwordSha256: p.password !== undefined ? sha256(p.password) : null,
        },
      },
    });
  }

  const args: string[] = [];
  const changes: string[] = [];
  const next = { ...u };
  if (p.uid !== undefined && p.uid !== u.uid) {
    args.push('-u', String(p.uid));
    changes.push(`uid of ${p.name}: ${u.uid} -> ${p.uid}`);
    next.uid = p.uid;
  }
  if (p.group !== undefined && p.group !== u.group && p.group !== String(u.gid)) {
    args.push('-g', p.group);
    changes.push(`primary group of ${p.name}: ${u.group} -> ${p.group}`);
    next.group = p.group;
  }
  if (p.groups !== undefined) {
    const want = [...new Set(p.groups.filter((g) => g !== u.group))].sort();
    const missing = want.filter((g) => !u.groups.includes(g));
    if (p.append && missing.length) {
      args.push('-a', '-G', missing.join(','));
      changes.push(`add ${p.name} to ${missing.join(', ')}`);
      next.groups = [...u.groups, ...missing].sort();
    } else if (!p.append && want.join(',') !== u.groups.join(',')) {
      args.push('-G', want.join(','));
      changes.push(`groups of ${p.name}: ${u.groups.join(',') || '(none)'} -> ${want.join(',') || '(none)'}`);
      next.groups = want;
    }
  }
  for (const [key, flag, label] of [
    ['shell', '-s', 'shell'],
    ['home', '-d', 'home'],
    ['comment', '-c', 'comment'],
  ] as const) {
    const want = p[key];
    if (want !== undefined && want !== u[key]) {
      args.push(flag, want);
      changes.push(`${label} of ${p.name}: ${u[key]} -> ${want}`);
      next[key] = want;
    }
  }
  const steps: Step[] = args.length ? [{ kind: 'exec', cmd: sh`usermod ${args} ${p.name}` }] : [];
  if (p.password !== undefined && p.update_password === 'always' && sha256(p.password) !== u.passwordSha256) {
    steps.push(passwordStep(p));
    changes.push(`set the password of ${p.name}${u.passwordSha256 === null ? ' (the current one could not be read)' : ''}`);
    next.passwordSha256 = sha256(p.password);
  }
  if (!steps.length) return noop(`user ${p.name} exists as wanted (uid ${u.uid})`);
  return change(changes, steps, { assume: { [keys.user(p.name)]: next } });
}
