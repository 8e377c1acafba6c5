/**
 * `git` (ansible.builtin.git): a checkout of a repository at a branch, tag or commit. The probe
 * reads the checkout and what the remote's refs point at (`git ls-remote`, read-only); the plan
 * clones, or fetches and checks out, only when HEAD is not the wanted commit. Local changes to
 * tracked files are never discarded without `force: true`, nor local commits a branch reset
 * would drop; the update step re-checks HEAD and the changes just before it moves anything.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type ExecResult, type ExecStep, type Plan, type PlanContext, type Step } from '../../core/module.js';
import { quote, sh } from '../../core/quote.js';
import { gitCheckout, type GitFact, type GitLocal } from '../../facts/git.js';
import { normPath } from '../../facts/keys.js';

const params = z
  .object({
    repo: z.string().min(1).describe('The repository: a URL (https://, ssh://, git@host:path, file://) or a path on the host'),
    dest: z.string().min(1).refine((v) => v.startsWith('/'), 'dest is an absolute path').describe('Absolute path of the checkout on the host'),
    version: z.string().min(1).default('HEAD').describe('A branch, a tag or a commit (SHA-1, at least 7 hex digits); HEAD: the remote\'s default branch'),
    remote: z.string().min(1).default('origin').describe('The name of the remote'),
    update: z.boolean().default(true).describe('false: an existing checkout is left as it is (only cloned when missing)'),
    clone: z.boolean().default(true).describe('false: do not clone when dest is missing'),
    force: z.boolean().default(false).describe('Discard changes to tracked files (and local commits of the branch) to get to version; without it such a checkout fails'),
    depth: z.number().int().positive().optional().describe('A shallow clone/fetch of this many commits (branches, tags and HEAD; ignored for a commit, as in Ansible)'),
    accept_hostkey: z.boolean().default(false).describe('ssh: accept an unknown or changed host key (StrictHostKeyChecking=no)'),
    accept_newhostkey: z.boolean().default(false).describe('ssh: accept the host key of a host not yet known, never a changed one (StrictHostKeyChecking=accept-new)'),
    key_file: z.string().optional().describe('ssh: the private key to use (a path on the host)'),
    ssh_opts: z.string().optional().describe('ssh: more options, e.g. "-o ConnectTimeout=10"'),
  })
  .refine((p) => !(p.accept_hostkey && p.accept_newhostkey), { message: 'accept_hostkey and accept_newhostkey exclude each other', path: ['accept_newhostkey'] });

type Params = z.output<typeof params>;
type Facts = { git: GitFact };

const output = z.object({
  before: z.string().nullable().describe('The commit checked out before the task (null: there was no checkout)'),
  after: z.string().nullable().describe('The commit checked out after the task'),
  remote_url_changed: z.boolean().describe('The remote\'s URL was changed to repo'),
  warnings: z.array(z.string()).optional().describe('Notes such as an ignored depth'),
});

const SHA = /^[0-9a-f]{7,64}$/;

/** GIT_SSH_COMMAND for the ssh options, if any. */
export function sshCommand(p: Pick<Params, 'accept_hostkey' | 'accept_newhostkey' | 'key_file' | 'ssh_opts'>): string | undefined {
  const opts = [
    ...(p.accept_hostkey ? ['-o StrictHostKeyChecking=no'] : p.accept_newhostkey ? ['-o StrictHostKeyChecking=accept-new'] : []),
    ...(p.key_file ? [`-i ${quote(p.key_file)} -o IdentitiesOnly=yes`] : []),
    ...(p.ssh_opts ? [p.ssh_opts] : []),
  ];
  return opts.length ? `ssh ${opts.join(' ')}` : undefined;
}

type Target =
  | { kind: 'branch'; name: string; sha: string }
  | { kind: 'tag'; name: string; sha: string }
  | { kind: 'commit'; sha: string };

/** What version is on the remote (pure). */
export function resolveVersion(version: string, refs: Record<string, string>, headBranch: string | null): Target | string {
  if (version === 'HEAD') {
    const sha = refs.HEAD;
    if (!sha) return 'the remote has no HEAD (an empty repository?)';
    const name = headBranch ?? Object.entries(refs).find(([r, s]) => r.startsWith('refs/heads/') && s === sha)?.[0].slice('refs/heads/'.length);
    return name ? { kind: 'branch', name, sha } : { kind: 'commit', sha };
  }
  if (refs[`refs/heads/${version}`]) return { kind: 'branch', name: version, sha: refs[`refs/heads/${version}`]! };
  const tag = refs[`refs/tags/${version}^{}`] ?? refs[`refs/tags/${version}`];
  if (tag) return { kind: 'tag', name: version, sha: tag };
  if (SHA.test(version)) return { kind: 'commit', sha: version };
  return `version ${version} is not a branch, a tag or a commit of the repository`;
}

const atTarget = (head: string | null, t: Target) => head !== null && (t.sha.length >= 40 ? head === t.sha : head.startsWith(t.sha));

export default defineModule<typeof params, Facts>({
  name: 'git',
  summary: 'Check out a git repository at a branch, tag or commit (ansible.builtin.git).',
  description:
    'The probe reads the checkout at dest and what the remote\'s refs point at (`git ls-remote`), so check mode reports the real before/after ' +
    'commits. When HEAD is not the wanted commit, tsplay clones, or fetches and checks out (a branch is reset to the remote\'s, as Ansible does). ' +
    'Changes to tracked files fail the task unless `force: true` (then they are discarded), as in Ansible; unlike Ansible, a local branch ' +
    'with commits that are not on the remote is not reset either without `force: true` (found when the update runs: check mode cannot see it). Untracked files are kept unless a checked out file ' +
    'replaces them. git must be installed on the host. Not supported: bare, refspec, submodules (recursive/track_submodules), ' +
    'separate_git_dir, verify_commit, archive, single_branch, umask, executable.',
  examples: [
    { title: 'A release tag', task: { name: 'app source', git: { repo: 'https://git.example.org/app.git', dest: '/opt/app', version: 'v1.4.2' } } },
    { title: 'A branch over ssh, the host key accepted on first use', task: { name: 'config repo', git: { repo: 'git@git.example.org:ops/config.git', dest: '/srv/config', version: 'main', accept_newhostkey: true, key_file: '/root/.ssh/deploy' } } },
    { title: 'Only clone, never update', task: { name: 'dotfiles', git: { repo: 'https://git.example.org/dotfiles.git', dest: '/home/app/.dotfiles', update: false } } },
  ],
  params,
  output,
  probe: (p) => ({ git: gitCheckout(p.dest, { repo: p.repo, version: p.version, remote: p.remote, update: p.update, clone: p.clone, sshCommand: sshCommand(p) }) }),
  plan: (p, f, ctx) => plan(p, f.git, ctx),
  result: (_p, _f, results: ExecResult[]) => {
    const m = /^after:([0-9a-f]{40,64})$/m.exec(results[results.length - 1]?.stdout ?? '');
    return m ? { after: m[1] } : {};
  },
});

const env = (p: Params) => {
  const ssh = sshCommand(p);
  return `GIT_TERMINAL_PROMPT=0; export GIT_TERMINAL_PROMPT; ${ssh ? sh`GIT_SSH_COMMAND=${ssh}; export GIT_SSH_COMMAND; ` : ''}`;
};

function plan(p: Params, g: GitFact, ctx: PlanContext): Plan {
  const dest = normPath(p.dest);
  if (!g.installed) {
    if (ctx.check && ctx.pending.length) return change([`check out ${p.repo} at ${p.version} in ${dest} (pending: git is not installed yet; earlier tasks in this run would change that)`], []);
    return failPlan('git is not installed on this host: install it first (package: {name: git})');
  }
  const local = g.local;
  const out = (before: string | null, after: string | null, urlChanged = false, warnings: string[] = []) => ({ before, after, remote_url_changed: urlChanged, ...(warnings.length ? { warnings } : {}) });
  if (local.kind === 'notdir') return failPlan(`dest ${dest} exists and is not a folder`);
  if (local.kind === 'notrepo') return failPlan(`dest ${dest} exists, is not empty and is not a git checkout (no ${dest}/.git)`);
  if (local.kind !== 'repo') {
    if (!p.clone) return noop(`${dest} is not there and clone is false`, { output: out(null, null) });
    const t = target(p, g);
    if (typeof t === 'string') return failPlan(t);
    return planClone(p, dest, t, out);
  }
  if (!p.update) return noop(`${dest} is a checkout at ${short(local.head)} (update is false)`, { output: out(local.head, local.head) });
  const t = target(p, g);
  if (typeof t === 'string') return failPlan(t);
  return planUpdate(p, dest, local, t, out);
}

function target(p: Params, g: Extract<GitFact, { installed: true }>): Target | string {
  const r = g.remote;
  if (!r.read) return `the remote ${p.repo} was not read`;
  if (!r.ok) return `cannot read the remote ${p.repo}: ${r.error}`;
  return resolveVersion(p.version, r.refs, r.headBranch);
}

const short = (sha: string | null) => (sha ? sha.slice(0, 12) : 'no commit');
const describe = (t: Target) => (t.kind === 'commit' ? `commit ${short(t.sha)}` : `${t.kind} ${t.name} (${short(t.sha)})`);
type Out = (before: string | null, after: string | null, urlChanged?: boolean, warnings?: string[]) => Record<string, unknown>;

function depthWarning(p: Params, t: Target): string[] {
  return p.depth && t.kind === 'commit' && p.version !== 'HEAD' ? [`depth ${p.depth} is ignored: a shallow clone is only made of HEAD, a branch or a tag`] : [];
}

function planClone(p: Params, dest: string, t: Target, out: Out): Plan {
  const warnings = depthWarning(p, t);
  const depth = p.depth && !warnings.length ? ['--depth', String(p.depth)] : [];
  const branch = t.kind !== 'commit' && p.version !== 'HEAD' ? ['--branch', t.name] : [];
  const checkout = t.kind === 'commit' ? sh` && git -C ${dest} -c advice.detachedHead=false checkout -q --force ${t.sha}` : '';
  const cmd = env(p) + sh`git clone -q ${depth} ${branch} --origin ${p.remote} -- ${p.repo} ${dest}` + checkout + sh` && echo "after:$(git -C ${dest} rev-parse HEAD)"`;
  const step: ExecStep = { kind: 'exec', cmd, description: `clone ${p.repo} into ${dest}`, touches: [`file:${dest}`] };
  return change([`clone ${p.repo} at ${describe(t)} into ${dest}`], [step], { output: out(null, t.sha, false, warnings), ...(warnings.length ? { warnings } : {}) });
}

function planUpdate(p: Params, dest: string, local: Extract<GitLocal, { kind: 'repo' }>, t: Target, out: Out): Plan {
  const urlChanged = local.url !== p.repo;
  const mods = local.modified;
  if (mods.length && !p.force) {
    const shown = mods.slice(0, 5).map((l) => l.trim()).join(', ');
    return failPlan(`local modifications exist in ${dest} (force is false): ${shown}${mods.length > 5 ? ', ...' : ''}; commit or revert them, or set force: true to discard them`);
  }
  const move = !atTarget(local.head, t) || (t.kind === 'branch' && local.branch !== t.name && p.version !== 'HEAD');
  if (!move && !mods.length && !urlChanged) return noop(`${dest} is at ${describe(t)}`, { output: out(local.head, local.head) });

  const changes: string[] = [];
  const steps: Step[] = [];
  const touches = [`file:${dest}`];
  if (urlChanged) {
    changes.push(`set the URL of ${p.remote} in ${dest} to ${p.repo}${local.url ? ` (was ${local.url})` : ''}`);
    steps.push({ kind: 'exec', cmd: local.url === null ? sh`git -C ${dest} remote add ${p.remote} ${p.repo}` : sh`git -C ${dest} remote set-url ${p.remote} ${p.repo}`, description: `set the URL of ${p.remote}`, touches });
  }
  // The checkout must still be what the plan read: same HEAD, and no changes unless they may go.
  const guard =
    sh`cd -- ${dest} || exit 1; [ "$(git rev-parse --verify -q HEAD)" = ${local.head ?? ''} ] || { echo 'HEAD of the checkout moved since tsplay read it: run again' >&2; exit 1; }; ` +
    (p.force ? '' : `[ -z "$(git status --porcelain --untracked-files=no)" ] || { echo 'files of the checkout were changed since tsplay read it: run again' >&2; exit 1; }; `);
  if (mods.length) {
    changes.push(`discard the changes to ${mods.length === 1 ? '1 tracked file' : `${mods.length} tracked files`} in ${dest} (force)`);
  }
  if (move || mods.length) {
    const warnings = depthWarning(p, t);
    const depth = p.depth && !warnings.length ? ['--depth', String(p.depth)] : [];
    let fetch: string;
    let checkout: string;
    if (t.kind === 'branch') {
      const rb = `refs/remotes/${p.remote}/${t.name}`;
      fetch = sh`git fetch -q ${depth} --force ${p.remote} ${`+refs/heads/${t.name}:${rb}`}`;
      const lost = p.force
        ? ''
        : sh`if git show-ref --verify -q ${`refs/heads/${t.name}`} && [ -n "$(git rev-list -n 1 ${`refs/heads/${t.name}`} --not ${rb} --)" ]; then echo ${`the local branch ${t.name} has commits that are not on ${p.remote}/${t.name}: they would be lost (force: true discards them)`} >&2; exit 1; fi; `;
      checkout = lost + sh`git checkout -q --force -B ${t.name} ${rb} && git branch -q --set-upstream-to=${`${p.remote}/${t.name}`} ${t.name}`;
    } else if (t.kind === 'tag') {
      fetch = sh`git fetch -q ${depth} --force ${p.remote} ${`+refs/tags/${t.name}:refs/tags/${t.name}`}`;
      checkout = sh`git -c advice.detachedHead=false checkout -q --force ${`refs/tags/${t.name}`}`;
    } else {
      fetch = sh`{ git cat-file -e ${`${t.sha}^{commit}`} 2>/dev/null || git fetch -q --tags --force ${p.remote} ${`+refs/heads/*:refs/remotes/${p.remote}/*`}; }`;
      checkout = sh`git -c advice.detachedHead=false checkout -q --force ${t.sha}`;
    }
    if (move) changes.push(`update ${dest} from ${short(local.head)} to ${describe(t)}`);
    steps.push({
      kind: 'exec',
      cmd: env(p) + guard + `${fetch} && ${checkout} && echo "after:$(git rev-parse HEAD)"`,
      description: `check out ${describe(t)} in ${dest}`,
      touches,
    });
    return change(changes, steps, { output: out(local.head, t.sha, urlChanged, warnings), ...(warnings.length ? { warnings } : {}) });
  }
  return change(changes, steps, { output: out(local.head, local.head, urlChanged) });
}
