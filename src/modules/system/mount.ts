/**
 * `mount` (ansible.posix.mount): an entry of /etc/fstab (or another fstab file) and, for
 * mounted/unmounted/remounted, what the kernel has mounted on the path. The fstab is edited
 * here, as Ansible edits it (every line for the path is set, a missing one appended), and
 * written with the conditional atomic put; the kernel's state is read from /proc/self/mounts.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type ExecStep, type Plan, type PlanContext, type Step } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { normPath } from '../../facts/keys.js';
import { escapeMountField, mountKey, mountState, unescapeMountField, type MountFact } from '../../facts/mount.js';
import type { StatFact } from '../../facts/stat.js';
import { stat } from '../../facts/stat.js';
import { splitLines, bare } from '../files/lib/text.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

const num = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform(String)
    .refine((v) => /^\d+$/.test(v), { message: `${what} is a number, e.g. 0` })
    .default('0');

const params = z
  .object({
    path: z.string().min(1).refine((v) => v.startsWith('/') || v === 'none' || v === 'swap', 'path is an absolute path (or none/swap for a swap entry)').describe('The mount point (Ansible\'s alias `name` is not accepted: write path)'),
    src: z.string().min(1).optional().describe('The device, label (LABEL=...), UUID=..., remote share or, for a bind mount, the folder; needed by present and mounted'),
    fstype: z.string().min(1).optional().describe('The filesystem type (ext4, tmpfs, nfs, none for a bind mount, ...); needed by present and mounted'),
    opts: z.string().min(1).optional().describe('Mount options, comma separated; default "defaults"'),
    dump: num('dump').describe('The fifth fstab field (dump)'),
    passno: num('passno').describe('The sixth fstab field (fsck order)'),
    state: z
      .enum(['present', 'absent', 'absent_from_fstab', 'mounted', 'unmounted', 'remounted'])
      .describe('present: only the fstab entry; mounted: the entry and mounted (the mount point is created); unmounted: not mounted, fstab untouched; ' +
        'remounted: remount (always changed); absent: no entry, not mounted, mount point removed if empty; absent_from_fstab: only no entry'),
    fstab: z.string().min(1).default('/etc/fstab').describe('The fstab file to edit'),
    backup: z.boolean().default(false).describe('Keep a timestamped copy of the previous fstab'),
    boot: z.boolean().default(true).describe('false adds noauto to opts, so the entry is not mounted at boot'),
  })
  .refine((p) => !['present', 'mounted'].includes(p.state) || (p.src !== undefined && p.fstype !== undefined), { message: 'state present and mounted need src and fstype', path: ['src'] });

type Params = z.output<typeof params>;
type Facts = Partial<WriteFacts> & { mount?: MountFact; dir?: StatFact };

const output = z.object({
  name: z.string().describe('The mount point'),
  src: z.string().optional().describe('The device'),
  fstype: z.string().optional().describe('The filesystem type'),
  opts: z.string().describe('The options written'),
  dump: z.string().describe('dump'),
  passno: z.string().describe('passno'),
  fstab: z.string().describe('The fstab file'),
});

/** The options the entry gets: opts (or defaults), with noauto when boot is false. */
export function entryOpts(p: Pick<Params, 'opts' | 'boot'>): string {
  const opts = p.opts ?? 'defaults';
  if (p.boot) return opts;
  // As Ansible: defaults goes, noauto is added.
  const list = opts.split(',').filter((o) => o !== 'defaults');
  return (list.includes('noauto') ? list : [...list, 'noauto']).join(',');
}

/** The fstab line of the entry, fields escaped as fstab wants them. */
export function fstabLine(p: Params): string {
  return [p.src!, p.path.startsWith('/') ? normPath(p.path) : p.path, p.fstype!, entryOpts(p), p.dump, p.passno].map((f) => escapeMountField(f)).join(' ');
}

/** Whether an fstab line (without its ending) is the entry of this path (a swap entry: of this src). */
function isEntry(line: string, p: Params): boolean {
  const t = line.trim();
  if (!t || t.startsWith('#')) return false;
  const f = t.split(/\s+/).map(unescapeMountField);
  if (f.length < 2) return false;
  if (p.fstype === 'swap' || p.path === 'none' || p.path === 'swap') return f[2] === 'swap' && f[0] === p.src;
  return normPath(f[1]!) === normPath(p.path);
}

/** Same fields, whatever the spacing (Ansible compares field by field). */
const sameFields = (a: string, b: string) => a.trim().split(/\s+/).join(' ') === b.trim().split(/\s+/).join(' ');

/** The fstab with the entry set (line) or removed (undefined); msg is '' when nothing changed (pure). */
export function editFstab(text: string, p: Params, line: string | undefined): { text: string; msg: string } {
  const lines = splitLines(text);
  let found = false;
  let msg = '';
  const out: string[] = [];
  for (const l of lines) {
    if (!isEntry(bare(l), p)) {
      out.push(l);
      continue;
    }
    found = true;
    if (line === undefined) msg = 'entry removed';
    else if (sameFields(bare(l), line)) out.push(l);
    else {
      out.push(`${line}\n`);
      msg = 'entry updated';
    }
  }
  if (!found && line !== undefined) {
    const last = out[out.length - 1];
    if (last !== undefined && !last.endsWith('\n')) out[out.length - 1] = `${last}\n`;
    out.push(`${line}\n`);
    msg = 'entry added';
  }
  return msg ? { text: out.join(''), msg } : { text, msg };
}

const mountCmd = (p: Params) => (normPath(p.fstab) === '/etc/fstab' ? sh`mount` : sh`mount -T ${p.fstab}`);

function exec(cmd: string, description: string, p: Params): ExecStep {
  return { kind: 'exec', cmd, description, touches: [`file:${normPath(p.path)}`] };
}

const mounted = (p: Params): MountFact => ({ mounted: true, src: p.src ?? '', fstype: p.fstype ?? '', opts: entryOpts(p) });

export default defineModule<typeof params, Facts>({
  name: 'mount',
  summary: 'Manage an fstab entry and whether it is mounted (ansible.posix.mount).',
  description:
    'The fstab is edited as Ansible edits it: every line for the path is set to the wanted fields (a swap entry is found by its src), a missing ' +
    'one is appended, and the file is written atomically only if it is still what was read. mounted creates the mount point, then mounts with ' +
    '`mount PATH` (the fstab entry; `mount -T FSTAB` for another file); when the entry changed while mounted, it remounts (`mount -o remount`, ' +
    'else umount and mount). What is mounted is read from /proc/self/mounts. The kernel must allow the mount (a container needs CAP_SYS_ADMIN; ' +
    'nfs needs the nfs client). Differs from Ansible: absent also unmounts a path that is mounted without an fstab entry, and removes the mount ' +
    'point only when it is empty (a folder with files in it is left); a mounted path whose source or type differs from src/fstype is ' +
    'reported as a warning, not remounted. Not supported: ephemeral, opts_no_log, the BSD/Solaris fstabs.',
  examples: [
    { title: 'A tmpfs mounted now and at boot', task: { name: 'tmpfs on /mnt/scratch', mount: { path: '/mnt/scratch', src: 'tmpfs', fstype: 'tmpfs', opts: 'size=64m,mode=1777', state: 'mounted' } } },
    { title: 'Only the fstab entry', task: { name: 'data disk at boot', mount: { path: '/srv/data', src: 'UUID=0a3407de-014b-458b-b5c1-848e92a327a3', fstype: 'ext4', opts: 'noatime', state: 'present' } } },
    { title: 'Gone', task: { name: 'no old share', mount: { path: '/mnt/old', state: 'absent' } } },
  ],
  params,
  output,
  probe: (p) => {
    const f: Record<string, unknown> = {};
    if (p.state !== 'unmounted' && p.state !== 'remounted') Object.assign(f, probeWrite(p.fstab));
    if (p.state !== 'present' && p.state !== 'absent_from_fstab' && p.path.startsWith('/')) f.mount = mountState(p.path);
    if (p.state === 'absent' && p.path.startsWith('/')) f.dir = stat(p.path);
    return f as never;
  },
  plan: (p, f, ctx) => plan(p, f, ctx),
});

function result(p: Params) {
  return { name: p.path, ...(p.src !== undefined ? { src: p.src } : {}), ...(p.fstype !== undefined ? { fstype: p.fstype } : {}), opts: entryOpts(p), dump: p.dump, passno: p.passno, fstab: p.fstab };
}

function plan(p: Params, f: Facts, ctx: PlanContext): Plan {
  const path = normPath(p.path);
  const out = result(p);
  if (p.state === 'unmounted') {
    if (!f.mount!.mounted) return noop(`${path} is not mounted`, { output: out });
    return change([`unmount ${path}`], [exec(sh`umount -- ${path}`, `unmount ${path}`, p)], { output: out, assume: { [mountKey(path)]: { mounted: false } } });
  }
  if (p.state === 'remounted') {
    if (!f.mount!.mounted) return failPlan(`${path} is not mounted: remounted needs a mounted path (use state: mounted)`);
    return change([`remount ${path}`], [exec(remountCmd(p, path), `remount ${path}`, p)], { output: out });
  }

  // present, mounted, absent, absent_from_fstab: the fstab first.
  const fstab = normPath(p.fstab);
  const wf = f as WriteFacts;
  let before = '';
  if (wf.content.exists) {
    if (wf.content.type !== 'file' || wf.content.content === undefined) return failPlan(`${fstab} is not a readable text file`);
    before = wf.content.content;
  }
  const wantEntry = p.state === 'present' || p.state === 'mounted';
  const edit = editFstab(before, p, wantEntry ? fstabLine(p) : undefined);
  const changes: string[] = [];
  const steps: Step[] = [];
  const diffs = [];
  const assume: Record<string, unknown> = {};
  const warnings: string[] = [];
  if (edit.msg) {
    const w = planWrite({ path: fstab, content: edit.text, backup: p.backup, ...(wf.stat.exists ? {} : { mode: '0644' }) }, wf, ctx);
    if ('failed' in w) return w;
    if (w.changed) {
      changes.push(`${edit.msg} for ${path} in ${fstab}`, ...w.changes.slice(1));
      steps.push(...w.steps);
      diffs.push(...(w.diffs ?? []));
      Object.assign(assume, w.assume);
    }
  }

  if (p.state === 'mounted') {
    const m = f.mount!;
    if (!m.mounted) {
      changes.push(`mount ${path}`);
      steps.push(exec(sh`mkdir -p -- ${path} && ` + `${mountCmd(p)} -- ${sh`${path}`}`, `mount ${path}`, p));
      assume[mountKey(path)] = mounted(p);
    } else if (edit.msg) {
      changes.push(`remount ${path} (its entry changed)`);
      steps.push(exec(remountCmd(p, path), `remount ${path}`, p));
      assume[mountKey(path)] = mounted(p);
    } else if (!sameSource(m, p)) {
      warnings.push(`${path} is mounted from ${m.src} (${m.fstype}), not ${p.src} (${p.fstype}): left as is; unmount it or use state: remounted after changing it`);
    }
  }

  if (p.state === 'absent') {
    const m = f.mount!;
    if (m.mounted) {
      // Unmount before the entry goes, so a failed umount leaves the fstab as it was.
      changes.unshift(`unmount ${path}`);
      steps.unshift(exec(sh`umount -- ${path}`, `unmount ${path}`, p));
      assume[mountKey(path)] = { mounted: false };
    }
    const dir = f.dir!;
    if ((edit.msg || m.mounted) && dir.exists && dir.type === 'directory') {
      changes.push(`remove the mount point ${path} if empty`);
      steps.push({ kind: 'exec', cmd: sh`rmdir -- ${path} 2>/dev/null || [ -n "$(ls -A -- ${path})" ] || rmdir -- ${path}`, description: `remove ${path} if empty`, touches: [`file:${path}`] });
    }
  }

  if (!changes.length) {
    const what = wantEntry ? `${fstab} has the entry for ${path}` : `${fstab} has no entry for ${path}`;
    const extra = p.state === 'mounted' ? ' and it is mounted' : p.state === 'absent' ? ' and it is not mounted' : '';
    return noop(`${what}${extra}`, { output: out, ...(warnings.length ? { warnings } : {}) });
  }
  return change(changes, steps, { output: out, diffs, assume, ...(warnings.length ? { warnings } : {}) });
}

function remountCmd(p: Params, path: string): string {
  const m = mountCmd(p);
  return `${m} -o remount -- ${sh`${path}`} || { ${sh`umount -- ${path}`} && ${m} -- ${sh`${path}`}; }`;
}

/** The mounted source and type are the wanted ones (a bind mount shows the device, so none/bind are not compared). */
function sameSource(m: Extract<MountFact, { mounted: true }>, p: Params): boolean {
  const bind = entryOpts(p).split(',').some((o) => o === 'bind' || o === 'rbind');
  if (bind || p.fstype === 'none') return true;
  if (p.fstype !== m.fstype) return false;
  if (/^(UUID|LABEL|PARTUUID|PARTLABEL)=/.test(p.src ?? '')) return true;
  return normPath(p.src ?? '') === normPath(m.src) || p.src === m.src;
}
