/**
 * Writing a whole file: the plan shared by copy, template, lineinfile and blockinfile. The
 * module computes the wanted content on the controller; this compares it with the fetched
 * facts and plans one atomic `put` (content, mode, owner) or chmod/chown steps only, with the
 * diff and the facts that hold afterwards (for check mode). The put expects the file to be what
 * the facts say (its sha256, or absent), so it never replaces a change made after they were read.
 */
import { change, failPlan, noop, type FileDiff, type Plan, type PlanContext, type PutStep } from '../../core/module.js';
import { keys, normPath } from '../../facts/keys.js';
import { sha256, type FileContentFact } from '../../facts/file-content.js';
import type { StatFact } from '../../facts/stat.js';
import { fileContent } from '../../facts/file-content.js';
import { stat } from '../../facts/stat.js';
import { planAttrs, type AttrSpec } from './attrs.js';
import { resolveMode, sameId } from './mode.js';

export interface WriteSpec extends AttrSpec {
  path: string;
  content: string | Buffer;
  backup?: boolean;
  validate?: string;
  /** false: leave an existing file alone. Default true. */
  force?: boolean;
}

export type WriteFacts = {
  stat: StatFact;
  content: FileContentFact;
};

/** The probe for a file that will be written. */
export function probeWrite(path: string) {
  return { stat: stat(path), content: fileContent(path) };
}

/** Refuses to write where a file cannot go; undefined when the path is a file or absent. */
export function checkWritable(path: string, st: StatFact): string | undefined {
  if (!st.exists || st.type === 'file') return undefined;
  if (st.type === 'link') return `${path} is a symlink to ${st.target}: tsplay does not write through links; use the real path`;
  if (st.type === 'directory') return `${path} is a directory: give the full path of the file to write`;
  return `${path} exists and is not a regular file`;
}

/** What the current file looks like in a diff. */
export function diffText(f: FileContentFact): string | null {
  if (!f.exists) return null;
  if (f.type !== 'file') return `<${f.type}>`;
  if (f.content !== undefined) return f.content;
  return f.binary ? `<binary file, ${f.size} bytes>` : `<${f.size} bytes, too large to show>`;
}

export function planWrite(spec: WriteSpec, facts: WriteFacts, ctx: PlanContext): Plan {
  const path = normPath(spec.path);
  const st = facts.stat;
  const refuse = checkWritable(path, st);
  if (refuse) return failPlan(refuse);

  const data = typeof spec.content === 'string' ? Buffer.from(spec.content, 'utf8') : spec.content;
  const newSha = sha256(data);
  const cur = facts.content.exists && facts.content.type === 'file' ? facts.content : undefined;

  if (st.exists && spec.force === false) return noop(`${path} exists and force is false: left as is`);
  const textAfter = typeof spec.content === 'string' ? spec.content : `<binary file, ${data.length} bytes>`;
  const afterContent: FileContentFact = { exists: true, type: 'file', size: data.length, sha256: newSha };
  if (typeof spec.content === 'string') afterContent.content = spec.content;
  else afterContent.binary = true;

  if (!st.exists || !cur || cur.sha256 !== newSha) {
    const owner = spec.owner ?? (st.exists ? st.owner : undefined);
    const group = spec.group ?? (st.exists ? st.group : undefined);
    const mode = spec.mode
      ? (resolveMode(spec.mode, st.exists ? st.mode : undefined, false) ?? spec.mode)
      : st.exists
        ? st.mode
        : undefined;
    // Unset attributes are kept by the engine's put (chmod/chown --reference to the old file).
    const put: PutStep = { kind: 'put', path, content: spec.content };
    if (spec.mode !== undefined) put.mode = mode;
    if (spec.owner !== undefined) put.owner = spec.owner;
    if (spec.group !== undefined) put.group = spec.group;
    if (spec.validate) put.validate = spec.validate;
    if (spec.backup && st.exists) put.backup = true;
    // The write only lands if the file is still what this plan was made from.
    if (!facts.content.exists) put.expect = 'absent';
    else if (cur) put.expect = { sha256: cur.sha256 };

    const changes = [st.exists ? `update ${path}` : `create ${path} (${data.length} bytes)`];
    const diff: FileDiff = { path, before: st.exists ? diffText(facts.content) : null, after: textAfter };
    if (st.exists && mode !== undefined && mode !== st.mode) {
      changes.push(`change mode of ${path}: ${st.mode} -> ${mode}`);
      Object.assign(diff, { beforeMode: st.mode, afterMode: mode });
    }
    if (st.exists && (!sameId(owner!, st.owner, st.uid) || !sameId(group!, st.group, st.gid))) {
      changes.push(`change owner of ${path}: ${st.owner}:${st.group} -> ${owner}:${group}`);
      Object.assign(diff, { beforeOwner: `${st.owner}:${st.group}`, afterOwner: `${owner}:${group}` });
    }
    const afterStat: StatFact = {
      exists: true,
      type: 'file',
      mode: mode && /^[0-7]{4}$/.test(mode) ? mode : '0644',
      owner: owner ?? ctx.connection.user ?? 'root',
      group: group ?? ctx.connection.user ?? 'root',
      uid: st.exists && owner === st.owner ? st.uid : -1,
      gid: st.exists && group === st.group ? st.gid : -1,
      size: data.length,
    };
    return change(changes, [put], {
      diffs: [diff],
      assume: { [keys.stat(path)]: afterStat, [keys.content(path)]: afterContent, ...unitAssumption(path, st, ctx) },
    });
  }

  if (!st.exists) throw new Error('unreachable');
  const attrs = planAttrs(path, spec, st);
  if (attrs.steps.length === 0) return noop(`${path} is up to date`);
  const afterStat: StatFact = { ...st, mode: attrs.mode ?? st.mode, owner: attrs.owner ?? st.owner, group: attrs.group ?? st.group };
  return change(attrs.changes, attrs.steps, {
    diffs: [{ path, before: diffText(facts.content), after: diffText(facts.content), ...attrs.diff }],
    assume: { [keys.stat(path)]: afterStat },
  });
}

/**
 * A new unit file under a systemd folder makes the unit exist: later `service` tasks in a
 * check run then plan against it instead of reporting it missing (only when the gathered
 * facts say systemd is init).
 */
function unitAssumption(path: string, st: StatFact, ctx: PlanContext): Record<string, unknown> {
  const m = /^\/(?:etc|lib|usr\/lib)\/systemd\/system\/([^/]+\.(?:service|socket|timer|mount|path|target))$/.exec(path);
  if (!m || st.exists || ctx.hostFacts.init !== 'systemd') return {};
  return {
    [keys.unit(m[1]!)]: {
      systemd: true,
      unit: m[1],
      exists: true,
      loadState: 'loaded',
      activeState: 'inactive',
      subState: 'dead',
      unitFileState: 'disabled',
      needDaemonReload: false,
    },
  };
}
