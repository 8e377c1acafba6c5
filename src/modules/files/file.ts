/**
 * `file`: ensures a path is a directory, an existing file, a symlink, an empty file (touch) or
 * absent, with mode and owner. `recurse` applies owner/mode below a directory and is checked
 * with one `find` (tree fact), so it is idempotent too.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type FileDiff, type Plan, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys, normPath } from '../../facts/keys.js';
import { stat, type StatFact } from '../../facts/stat.js';
import { treeMismatch, type TreeMismatchFact } from '../../facts/tree.js';
import { fileTimes, type FileTimesFact } from '../../facts/file-times.js';
import { DEFAULT_TIME_FORMAT, parseTimestamp } from './lib/timestamp.js';
import { attrParams } from './lib/file-params.js';
import { planAttrs, type AttrPlan } from '../lib/attrs.js';
import { recursiveModes, resolveMode } from '../lib/mode.js';
import { joinExecs, touchingPath } from '../lib/steps.js';

const params = z
  .object({
    path: z.string().min(1).describe('Absolute path on the host'),
    state: z
      .enum(['file', 'directory', 'link', 'absent', 'touch'])
      .default('file')
      .describe('directory: create it (with parents); file: must exist, fix its attributes; link: a symlink to src; absent: remove (recursively); touch: create empty or update times'),
    src: z.string().optional().describe('Target of the symlink (state: link)'),
    force: z.boolean().default(false).describe('state: link: replace an existing file at path with the link'),
    recurse: z.boolean().default(false).describe('state: directory: apply owner, group and mode to everything below path too'),
    ...attrParams,
    modification_time: z
      .string()
      .optional()
      .describe('state: touch: "now" (the default for touch), "preserve" (keep it: an idempotent touch) or a timestamp in modification_time_format'),
    modification_time_format: z.string().default(DEFAULT_TIME_FORMAT).describe('Format of a modification_time timestamp (Python strptime: %Y %y %m %d %H %M %S), read in the host\'s time zone'),
    access_time: z.string().optional().describe('state: touch: "now" (the default for touch), "preserve" or a timestamp in access_time_format'),
    access_time_format: z.string().default(DEFAULT_TIME_FORMAT).describe('Format of an access_time timestamp (Python strptime: %Y %y %m %d %H %M %S)'),
  })
  .refine((p) => p.state === 'touch' || (p.modification_time === undefined && p.access_time === undefined), {
    message: 'modification_time and access_time work with state: touch in tsplay',
  })
  .superRefine((p, ctx) => {
    for (const what of ['modification_time', 'access_time'] as const) {
      const v = p[what];
      if (v === undefined || v === 'now' || v === 'preserve') continue;
      try {
        parseTimestamp(v, p[`${what}_format`], what);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message, path: [what] });
      }
    }
  })
  .refine((p) => p.state !== 'link' || p.src !== undefined, { message: 'state: link needs src (the link target)', path: ['src'] })
  .refine((p) => !p.recurse || p.state === 'directory', { message: 'recurse only works with state: directory', path: ['recurse'] });

type Params = z.output<typeof params>;
type Facts = { stat: StatFact; tree?: TreeMismatchFact; times?: FileTimesFact };

const output = z.object({
  path: z.string().describe('The path'),
  state: z.string().describe('The state asked for'),
});

export default defineModule<typeof params, Facts>({
  name: 'file',
  summary: 'Ensure a path is a directory, file, symlink or absent, with owner and mode.',
  examples: [
    { title: 'A directory owned by the app', task: { name: 'Data folder', file: { path: '/srv/app/data', state: 'directory', owner: 'app', group: 'app', mode: '0750' } } },
    { title: 'A symlink', task: { name: 'Enable the site', file: { path: '/etc/nginx/sites-enabled/app', src: '/etc/nginx/sites-available/app', state: 'link' } } },
    {
      title: 'Create a file once, never bump its times (idempotent touch)',
      task: { name: 'Log file', file: { path: '/var/log/app.log', state: 'touch', owner: 'app', mode: '0640', modification_time: 'preserve', access_time: 'preserve' } },
    },
    { title: 'Fix ownership of a tree', task: { name: 'Own the web root', file: { path: '/var/www/app', state: 'directory', owner: 'www-data', recurse: true, mode: 'u=rwX,g=rX,o=rX' } } },
  ],
  params,
  output,
  probe: (p) => {
    const facts: { stat: ReturnType<typeof stat>; tree?: ReturnType<typeof treeMismatch>; times?: ReturnType<typeof fileTimes> } = { stat: stat(p.path) };
    const stamps = wantedTimes(p).flatMap((t) => (t.stamp !== undefined ? [t.stamp] : []));
    if (stamps.length) facts.times = fileTimes(p.path, stamps);
    if (p.recurse && (p.owner !== undefined || p.group !== undefined || p.mode !== undefined)) {
      const modes = p.mode !== undefined ? recursiveModes(p.mode) : undefined;
      facts.tree = treeMismatch(p.path, { owner: p.owner, group: p.group, modes: p.mode !== undefined && modes ? modes : undefined });
    }
    return facts;
  },
  plan: (p, f) => {
    const path = normPath(p.path);
    // Every command of this module acts on `path` (and below it): facts of other paths stay.
    const plan = touchingPath(path, planFor(p, path, f));
    return 'failed' in plan ? plan : { ...plan, output: { path, state: p.state } };
  },
});

function planFor(p: Params, path: string, f: Facts): Plan {
  const st = f.stat;
  switch (p.state) {
    case 'absent':
      return planAbsent(path, st);
    case 'directory':
      return planDirectory(p, path, f);
    case 'file':
      if (!st.exists) return failPlan(`${path} does not exist: use state: touch to create an empty file, or copy/template to give it content`);
      if (st.type !== 'file') return failPlan(`${path} is a ${describe(st)}, not a file`);
      return attrsOnly(p, path, st, `${path} is a file with the wanted attributes`);
    case 'touch':
      return planTouch(p, path, st, f.times);
    case 'link':
      return planLink(p, path, st);
  }
}

const describe = (st: Extract<StatFact, { exists: true }>) => (st.type === 'link' ? `symlink to ${st.target}` : st.type);

function planAbsent(path: string, st: StatFact): Plan {
  if (!st.exists) return noop(`${path} is already absent`);
  if (path === '/') return failPlan('refusing to remove /');
  const what = st.type === 'directory' ? `directory ${path} and everything in it` : `${describe(st)} ${path}`;
  return change(`remove ${what}`, [{ kind: 'exec', cmd: sh`rm -rf -- ${path}` }], {
    diffs: [{ path, before: `<${describe(st)}>`, after: null }],
    assume: { [keys.stat(path)]: { exists: false }, [keys.content(path)]: { exists: false } },
  });
}

/** Attributes of an existing path, as steps or "in state". */
function attrsOnly(p: Params, path: string, st: Extract<StatFact, { exists: true }>, okReason: string, tree?: TreeMismatchFact): Plan {
  const top = planAttrs(path, p, st);
  let attrs: AttrPlan = top;
  if (p.recurse) {
    const symbolicRelative = p.mode !== undefined && recursiveModes(p.mode) === undefined;
    const below = tree?.first != null || tree?.unknown === true || symbolicRelative;
    if (below || top.steps.length) {
      attrs = planAttrs(path, p, st, { recurse: true });
      if (tree?.first && !tree.unknown) attrs.changes.push(`first difference below ${path}: ${tree.first}`);
      if (symbolicRelative) attrs.changes.push(`mode ${p.mode} is relative, so it is applied on every run`);
    }
  }
  if (attrs.steps.length === 0) return noop(okReason);
  const diff: FileDiff = { path, before: null, after: null, ...attrs.diff };
  return change(attrs.changes, joinExecs(attrs.steps), {
    diffs: Object.keys(attrs.diff).length ? [diff] : undefined,
    assume: { [keys.stat(path)]: { ...st, mode: attrs.mode ?? st.mode, owner: attrs.owner ?? st.owner, group: attrs.group ?? st.group } },
  });
}

/** Steps for attributes of a path that is being created now. */
function newAttrSteps(p: Params, path: string, isDir: boolean): { steps: Step[]; mode: string } {
  const steps: Step[] = [];
  const mode = p.mode !== undefined ? (resolveMode(p.mode, isDir ? '0755' : '0644', isDir) ?? p.mode) : isDir ? '0755' : '0644';
  if (p.mode !== undefined) steps.push({ kind: 'exec', cmd: sh`chmod ${resolveMode(p.mode, undefined, isDir) ?? p.mode} -- ${path}` });
  if (p.owner !== undefined || p.group !== undefined) {
    steps.push({ kind: 'exec', cmd: sh`chown ${ownerSpec(p)} -- ${path}` });
  }
  return { steps, mode };
}

function newStat(p: Params, type: 'file' | 'directory' | 'link', mode: string, target?: string): StatFact {
  const st: StatFact = { exists: true, type, mode, owner: p.owner ?? 'root', group: p.group ?? 'root', uid: -1, gid: -1, size: 0 };
  if (target !== undefined) st.target = target;
  return st;
}

function planDirectory(p: Params, path: string, f: Facts): Plan {
  const st = f.stat;
  if (st.exists) {
    if (st.type !== 'directory') return failPlan(`${path} exists and is a ${describe(st)}, not a directory`);
    return attrsOnly(p, path, st, `${path} is a directory with the wanted attributes`, f.tree);
  }
  const { steps, mode } = newAttrSteps(p, path, true);
  return change(`create directory ${path}`, joinExecs([{ kind: 'exec', cmd: sh`mkdir -p -- ${path}` }, ...steps]), {
    diffs: [{ path, before: null, after: '<directory>', afterMode: mode, ...(p.owner || p.group ? { afterOwner: `${p.owner ?? ''}:${p.group ?? ''}` } : {}) }],
    assume: { [keys.stat(path)]: newStat(p, 'directory', mode) },
  });
}

/** The times asked for (mtime, then atime): "now", "preserve" or a timestamp ("YYYY-MM-DD HH:MM:SS"). */
function wantedTimes(p: Params): Array<{ flag: '-m' | '-a'; what: string; mode: 'now' | 'preserve' | 'stamp'; stamp?: string }> {
  if (p.state !== 'touch') return [];
  const one = (flag: '-m' | '-a', what: string, v: string | undefined, format: string, param: string) => {
    if (v === undefined || v === 'now' || v === 'preserve') return { flag, what, mode: v ?? 'now' } as const;
    return { flag, what, mode: 'stamp', stamp: parseTimestamp(v, format, param) } as const;
  };
  return [
    one('-m', 'modification', p.modification_time, p.modification_time_format, 'modification_time'),
    one('-a', 'access', p.access_time, p.access_time_format, 'access_time'),
  ];
}

/**
 * Touch with Ansible's semantics: an existing file's times are set to now unless "preserve"d;
 * a timestamp is set only when the file's time differs (compared as epochs the host computed).
 */
function planTouch(p: Params, path: string, st: StatFact, times: FileTimesFact | undefined): Plan {
  if (st.exists && st.type !== 'file') return failPlan(`${path} is a ${describe(st)}: touch only creates regular files`);
  const wanted = wantedTimes(p);
  const epochs = times?.stamps ?? [];
  let k = 0;
  const stampSteps = (current: { atime: number; mtime: number } | undefined) => {
    const steps: Step[] = [];
    const changes: string[] = [];
    for (const t of wanted) {
      if (t.mode !== 'stamp') continue;
      const epoch = epochs[k++];
      const cur = current === undefined ? undefined : t.flag === '-m' ? current.mtime : current.atime;
      if (cur !== undefined && cur === epoch) continue;
      steps.push({ kind: 'exec', cmd: sh`touch ${t.flag} -d ${t.stamp} -- ${path}` });
      changes.push(`set the ${t.what} time of ${path} to ${t.stamp}`);
    }
    return { steps, changes };
  };
  if (st.exists) {
    const attrs = planAttrs(path, p, st);
    const now = wanted.filter((t) => t.mode === 'now');
    const steps: Step[] = [];
    const changes: string[] = [];
    if (now.length === 2) {
      steps.push({ kind: 'exec', cmd: sh`touch -- ${path}` });
      changes.push(`update the times of ${path}`);
    } else if (now.length === 1) {
      steps.push({ kind: 'exec', cmd: sh`touch ${now[0]!.flag} -- ${path}` });
      changes.push(`set the ${now[0]!.what} time of ${path} to now`);
    }
    const cur = times?.exists ? times : undefined;
    const stamped = stampSteps(cur);
    steps.push(...stamped.steps, ...attrs.steps);
    changes.push(...stamped.changes, ...attrs.changes);
    if (!steps.length) {
      const how = wanted.every((t) => t.mode === 'preserve') ? 'its times are preserved' : 'its times are as asked';
      return noop(`${path} exists; ${how}${p.mode !== undefined || p.owner !== undefined || p.group !== undefined ? ' and it has the wanted attributes' : ''}`);
    }
    return change(changes, joinExecs(steps), {
      assume: { [keys.stat(path)]: { ...st, mode: attrs.mode ?? st.mode, owner: attrs.owner ?? st.owner, group: attrs.group ?? st.group } },
    });
  }
  const { steps, mode } = newAttrSteps(p, path, false);
  const stamped = stampSteps(undefined);
  return change([`create empty file ${path}`, ...stamped.changes], joinExecs([{ kind: 'exec', cmd: sh`touch -- ${path}` }, ...stamped.steps, ...steps]), {
    diffs: [{ path, before: null, after: '', afterMode: mode }],
    assume: { [keys.stat(path)]: newStat(p, 'file', mode), [keys.content(path)]: { exists: true, type: 'file', size: 0, sha256: EMPTY_SHA, content: '' } },
  });
}

/** "owner:group", "owner" or ":group" for chown. */
function ownerSpec(p: { owner?: string; group?: string }): string {
  return p.owner !== undefined ? (p.group !== undefined ? `${p.owner}:${p.group}` : p.owner) : `:${p.group}`;
}

const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function planLink(p: Params, path: string, st: StatFact): Plan {
  const src = p.src!;
  const chown: Step[] =
    p.owner !== undefined || p.group !== undefined
      ? [{ kind: 'exec', cmd: sh`chown -h ${ownerSpec(p)} -- ${path}` }]
      : [];
  if (st.exists && st.type === 'link' && st.target === src) return attrsOnly(p, path, st, `${path} already links to ${src}`);
  if (st.exists && st.type === 'directory') return failPlan(`${path} is a directory; remove it first to put a link there`);
  if (st.exists && st.type !== 'link' && !p.force) return failPlan(`${path} exists and is a ${st.type}; set force: true to replace it with a link to ${src}`);
  const what = !st.exists ? `create link ${path} -> ${src}` : st.type === 'link' ? `repoint ${path}: ${st.target} -> ${src}` : `replace ${st.type} ${path} with a link to ${src}`;
  return change(what, joinExecs([{ kind: 'exec', cmd: sh`ln -sfn -- ${src} ${path}` }, ...chown]), {
    diffs: [{ path, before: st.exists ? `<${describe(st)}>` : null, after: `<symlink to ${src}>` }],
    assume: { [keys.stat(path)]: newStat(p, 'link', '0777', src) },
  });
}
