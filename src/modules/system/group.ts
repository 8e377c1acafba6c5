/** `group`: a local group present (groupadd, groupmod -g) or absent (groupdel). */
import { z } from 'zod';
import { change, defineModule, noop, type Plan } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys } from '../../facts/keys.js';
import { group as groupFact, type GroupFact } from '../../facts/group.js';
import { ACCOUNT } from './user.js';

const params = z.object({
  name: z.string().regex(ACCOUNT, 'a group name is lower case letters, digits, _ . - and starts with a letter or _').describe('Group name'),
  gid: z.number().int().min(0).optional().describe('Group id'),
  system: z.boolean().default(false).describe('Create a system group (low gid) when the group is created'),
  state: z.enum(['present', 'absent']).default('present').describe('Whether the group should exist'),
});

type Params = z.output<typeof params>;

const output = z.object({ name: z.string().describe('Group name'), state: z.string().describe('The state asked for') });

export default defineModule<typeof params, { group: GroupFact }>({
  name: 'group',
  summary: 'Create, change or remove a local group.',
  examples: [{ title: 'A group with a fixed gid', task: { name: 'app group', group: { name: 'app', gid: 2000 } } }],
  params,
  output,
  probe: (p) => ({ group: groupFact(p.name) }),
  plan: (p, f) => {
    const plan = planGroup(p, f.group);
    return 'failed' in plan ? plan : { ...plan, output: { name: p.name, state: p.state } };
  },
});

function planGroup(p: Params, g: GroupFact): Plan {
  if (p.state === 'absent') {
    if (!g.exists) return noop(`group ${p.name} does not exist`);
    return change(`remove group ${p.name}`, [{ kind: 'exec', cmd: sh`groupdel ${p.name}` }], { assume: { [keys.group(p.name)]: { exists: false } } });
  }
  if (!g.exists) {
    const args = [...(p.gid !== undefined ? ['-g', String(p.gid)] : []), ...(p.system ? ['-r'] : [])];
    return change(`create group ${p.name}${p.gid !== undefined ? ` (gid ${p.gid})` : ''}`, [{ kind: 'exec', cmd: sh`groupadd ${[...args, p.name]}` }], {
      assume: { [keys.group(p.name)]: { exists: true, name: p.name, gid: p.gid ?? -1, members: [] } },
    });
  }
  if (p.gid !== undefined && p.gid !== g.gid) {
    return change(`gid of ${p.name}: ${g.gid} -> ${p.gid}`, [{ kind: 'exec', cmd: sh`groupmod -g ${p.gid} ${p.name}` }], {
      assume: { [keys.group(p.name)]: { ...g, gid: p.gid } },
    });
  }
  return noop(`group ${p.name} exists (gid ${g.gid})`);
}
