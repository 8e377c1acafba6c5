/**
 * Mode and ownership of an existing path: compares the wanted attributes with a stat fact and
 * returns the chmod/chown steps, the change lines and the diff fields. Used by file, copy,
 * template, lineinfile and blockinfile.
 */
import type { ExecStep, FileDiff } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import type { StatFact } from '../../facts/stat.js';
import { resolveMode, sameId } from './mode.js';

export interface AttrSpec {
  mode?: string;
  owner?: string;
  group?: string;
}

export interface AttrPlan {
  steps: ExecStep[];
  changes: string[];
  /** Mode after the steps ("0644"), or the symbolic spec when it could not be resolved. */
  mode?: string;
  owner?: string;
  group?: string;
  /** Mode/owner fields for a FileDiff (only those that change). */
  diff: Pick<FileDiff, 'beforeMode' | 'afterMode' | 'beforeOwner' | 'afterOwner'>;
}

type Existing = Extract<StatFact, { exists: true }>;

/** Plans chmod/chown for a path that exists (`recurse` adds -R; links are chowned with -h and never chmod'ed). */
export function planAttrs(path: string, want: AttrSpec, cur: Existing, opts: { recurse?: boolean } = {}): AttrPlan {
  const plan: AttrPlan = { steps: [], changes: [], mode: cur.mode, owner: cur.owner, group: cur.group, diff: {} };
  const R = opts.recurse ? ['-R'] : [];
  const isLink = cur.type === 'link';

  if (want.mode !== undefined && !isLink) {
    const target = resolveMode(want.mode, cur.mode, cur.type === 'directory') ?? want.mode;
    if (target !== cur.mode || opts.recurse) {
      plan.steps.push({ kind: 'exec', cmd: sh`chmod ${[...R, target]} -- ${path}`, touches: [`file:${path}`] });
      plan.mode = target;
      if (target !== cur.mode) {
        plan.changes.push(`change mode of ${path}: ${cur.mode} -> ${target}`);
        plan.diff.beforeMode = cur.mode;
        plan.diff.afterMode = target;
      } else plan.changes.push(`set mode ${target} recursively under ${path}`);
    }
  }

  const ownerOff = want.owner !== undefined && !sameId(want.owner, cur.owner, cur.uid);
  const groupOff = want.group !== undefined && !sameId(want.group, cur.group, cur.gid);
  const recurseOwn = opts.recurse && (want.owner !== undefined || want.group !== undefined);
  if (ownerOff || groupOff || recurseOwn) {
    const h = isLink ? ['-h'] : [];
    const owner = want.owner ?? cur.owner;
    const group = want.group ?? cur.group;
    const spec = want.owner !== undefined ? (want.group !== undefined ? `${want.owner}:${want.group}` : want.owner) : `:${want.group}`;
    plan.steps.push({ kind: 'exec', cmd: sh`chown ${[...h, ...R, spec]} -- ${path}`, touches: [`file:${path}`] });
    plan.owner = owner;
    plan.group = group;
    if (ownerOff || groupOff) {
      plan.changes.push(`change owner of ${path}: ${cur.owner}:${cur.group} -> ${owner}:${group}`);
      plan.diff.beforeOwner = `${cur.owner}:${cur.group}`;
      plan.diff.afterOwner = `${owner}:${group}`;
    } else plan.changes.push(`set owner ${spec} recursively under ${path}`);
  }
  return plan;
}
