/**
 * `gitCheckout(dest, opts)`: what the `git` module compares, in one exec. The checkout at dest
 * (HEAD, branch, the remote's URL, whether it is shallow, tracked files changed) and, when the
 * module will need it, what the remote's refs for `version` point at (`git ls-remote --symref`,
 * read-only). Key `git:DEST:REPO:VERSION`.
 */
import { fact, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import { normPath } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type GitLocal =
  | { kind: 'absent' | 'empty' | 'notdir' | 'notrepo' }
  | { kind: 'repo'; head: string | null; branch: string | null; url: string | null; shallow: boolean; modified: string[] };

export type GitRemote =
  | { read: false }
  | { read: true; ok: false; error: string }
  | { read: true; ok: true; refs: Record<string, string>; headBranch: string | null };

export type GitFact = { installed: false } | { installed: true; local: GitLocal; remote: GitRemote };

export interface GitProbe {
  repo: string;
  version: string;
  remote: string;
  /** Read the remote when dest is already a checkout (update) / when it is not (clone). */
  update: boolean;
  clone: boolean;
  /** GIT_SSH_COMMAND for accept_hostkey / accept_newhostkey / key_file. */
  sshCommand?: string;
}

/** Lines of `git status --porcelain` read at most (the message shows a few). */
const MAX_MODIFIED = 20;

export function gitCheckout(dest: string, o: GitProbe): Fact<GitFact> {
  const d = normPath(dest);
  const env = sh`GIT_TERMINAL_PROMPT=0; export GIT_TERMINAL_PROMPT; ` + (o.sshCommand ? sh`GIT_SSH_COMMAND=${o.sshCommand}; export GIT_SSH_COMMAND; ` : '');
  const patterns = o.version === 'HEAD' ? ['HEAD'] : ['HEAD', `refs/heads/${o.version}`, `refs/tags/${o.version}`, `refs/tags/${o.version}^{}`];
  const command =
    `if ! command -v git >/dev/null 2>&1; then echo nogit; exit 0; fi; ${env}need=0; echo '--local--'; ` +
    sh`if [ -e ${d}/.git ]; then ` +
    sh`echo repo; echo "head:$(git -C ${d} rev-parse --verify -q HEAD)"; echo "branch:$(git -C ${d} symbolic-ref -q --short HEAD)"; ` +
    sh`echo "url:$(git -C ${d} config --get remote.${o.remote}.url)"; echo "shallow:$(git -C ${d} rev-parse --is-shallow-repository)"; ` +
    sh`echo '--status--'; git -C ${d} status --porcelain --untracked-files=no | head -n ${MAX_MODIFIED}; ` +
    (o.update ? 'need=1; ' : '') +
    sh`elif [ -d ${d} ] && [ -n "$(ls -A -- ${d})" ]; then echo notrepo; elif [ -d ${d} ]; then echo empty; ${raw(o.clone ? 'need=1; ' : '')}` +
    sh`elif [ -e ${d} ] || [ -L ${d} ]; then echo notdir; else echo absent; ${raw(o.clone ? 'need=1; ' : '')}fi; ` +
    sh`if [ $need = 1 ]; then echo '--remote--'; out=$(git ls-remote --symref -- ${o.repo} ${patterns} 2>&1); echo "rc:$?"; printf '%s\\n' "$out"; fi`;
  const key = `git:${d}:${o.repo}:${o.version}:${o.remote}`;
  return fact(key, command, (out) => parseGit(d, out));
}

function parseGit(dest: string, out: { stdout: string; stderr: string; code: number }): GitFact {
  const lines = outputLines(out);
  if (lines[0] === 'nogit') return { installed: false };
  if (lines[0] !== '--local--' || !lines[1]) throw factFailed(`the git checkout ${dest}`, out);
  const r = lines.indexOf('--remote--');
  const localLines = lines.slice(1, r < 0 ? undefined : r);
  const kind = localLines[0]!;
  let local: GitLocal;
  if (kind === 'repo') {
    const get = (k: string) => {
      const l = localLines.find((x) => x.startsWith(`${k}:`));
      if (l === undefined) throw factFailed(`the git checkout ${dest}`, out);
      return l.slice(k.length + 1) || null;
    };
    const s = localLines.indexOf('--status--');
    if (s < 0) throw factFailed(`the git checkout ${dest}`, out);
    local = { kind: 'repo', head: get('head'), branch: get('branch'), url: get('url'), shallow: get('shallow') === 'true', modified: localLines.slice(s + 1) };
  } else if (['absent', 'empty', 'notdir', 'notrepo'].includes(kind)) {
    local = { kind: kind as 'absent' };
  } else throw factFailed(`the git checkout ${dest}`, out);
  let remote: GitRemote = { read: false };
  if (r >= 0) {
    const rc = /^rc:(\d+)$/.exec(lines[r + 1] ?? '');
    if (!rc) throw factFailed(`the git remote of ${dest}`, out);
    const body = lines.slice(r + 2);
    if (rc[1] !== '0') {
      const msgs = body.filter((l) => l.trim());
      remote = { read: true, ok: false, error: (msgs.filter((l) => /fatal|error|denied|not found|could not/i.test(l)).slice(-2).join(' | ') || msgs.slice(-2).join(' | ')) || `git ls-remote exit ${rc[1]}` };
    } else {
      const refs: Record<string, string> = {};
      let headBranch: string | null = null;
      for (const l of body) {
        const sym = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(l);
        if (sym) headBranch = sym[1]!;
        const m = /^([0-9a-f]{40,64})\t(.+)$/.exec(l);
        if (m) refs[m[2]!] = m[1]!;
      }
      remote = { read: true, ok: true, refs, headBranch };
    }
  }
  return { installed: true, local, remote };
}
