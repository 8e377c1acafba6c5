/**
 * What the playbooks declare about exposure, per host: the `exposure` policy of every
 * compose-deploy task (by compose project) and the rules of every install-ufw task. Parameters
 * are rendered with the host's variables the way a run would see them before any task ran
 * (role defaults, inventory, play vars and vars_files, role vars, block and task vars, role
 * params, extra vars, magic variables); a task whose parameters need something only a run
 * produces (a registered result, a fact) is reported as a note and skipped. `when:` is not
 * evaluated: a policy counts as declared even when its task is conditional.
 */
import { formatPos, UserError } from '../core/errors.js';
import type { UfwRule } from '../facts/ufw.js';
import type { Inventory } from '../inventory/model.js';
import type { ExposurePolicy } from '../modules/docker/lib/exposure.js';
import { ruleTuples, type RuleParams } from '../modules/ufw/lib/ufw-rules.js';
import { posOf, type LoadedRole, type Play, type Playbook, type Task, type VarsLayer } from '../playbook/model.js';
import { render } from '../vars/expr.js';
import { buildScope, type VarsSource } from '../vars/precedence.js';
import type { Layer } from '../vars/scope.js';

export interface ComposeDeclaration {
  project: string;
  policy?: ExposurePolicy;
  /** `playbook.yml:12:7 (task "stack")`. */
  where: string;
}

export interface FirewallDeclaration {
  /** The declared rules as ufw stores them (IPv4 tuples), in order. */
  rules: UfwRule[];
  state: 'enabled' | 'disabled';
  where: string;
}

export interface HostDeclarations {
  compose: ComposeDeclaration[];
  firewall: FirewallDeclaration[];
  /** Tasks that could not be rendered for this host, and why. */
  notes: string[];
}

export const emptyDeclarations = (): HostDeclarations => ({ compose: [], firewall: [], notes: [] });

const layerOf = (l: VarsLayer): VarsSource => ({ vars: l.vars, label: l.label, file: l.file, pos: l.pos });

/** The inventory layers of a host as variable layers (what the engine stacks too). */
export function inventoryLayers(inventory: Inventory, host: string): Layer[] {
  return inventory.hostVars(host).layers.map((l) => ({ label: l.label, vars: l.vars, kind: 'template', file: l.file, pos: l.pos }));
}

interface Walk {
  play: Play;
  blockVars: VarsLayer[];
}

/** Every module task of a task list (blocks and includes opened), with the block vars above it. */
function* moduleTasks(tasks: Task[], w: Walk): Generator<{ task: Extract<Task, { kind: 'module' }>; blockVars: VarsLayer[] }> {
  for (const t of tasks) {
    if (t.kind === 'module') yield { task: t, blockVars: w.blockVars };
    else if (t.kind === 'block') {
      const inner = { ...w, blockVars: t.vars ? [...w.blockVars, t.vars] : w.blockVars };
      yield* moduleTasks([...t.block, ...t.rescue, ...t.always], inner);
    } else yield* moduleTasks(t.tasks, { ...w, blockVars: t.vars ? [...w.blockVars, t.vars] : w.blockVars });
  }
}

const projectOf = (p: { project_name?: string; project_src: string }) =>
  p.project_name ?? p.project_src.replace(/\/+$/, '').split('/').pop()!.toLowerCase().replace(/[^a-z0-9_-]/g, '');

/**
 * The declarations of every host in `hosts` from the loaded playbooks. Play host patterns are
 * rendered with extra vars and play vars only (like the engine does).
 */
export function declarationsFor(playbooks: Playbook[], inventory: Inventory, hosts: string[], extraVars: Record<string, unknown> = {}): Map<string, HostDeclarations> {
  const out = new Map(hosts.map((h) => [h, emptyDeclarations()]));
  const extra: VarsSource[] = Object.keys(extraVars).length ? [{ vars: extraVars, label: 'extra vars (-e)' }] : [];
  const groups = inventory.groupsVar();
  for (const pb of playbooks) {
    for (const play of pb.plays) {
      let pattern = play.hosts;
      if (pattern.includes('{{')) {
        pattern = String(render(pattern, buildScope({ inventoryLayers: [], playVars: layerOf(play.vars), extraVars: extra, magic: { inventory_hostname: '', groups } })));
      }
      const playHosts = new Set(inventory.select(pattern, posOf(play.src, 'hosts')));
      const targets = hosts.filter((h) => playHosts.has(h));
      if (!targets.length) continue;
      const all = [...play.preTasks, ...play.tasks, ...play.postTasks, ...play.handlers];
      for (const { task, blockVars } of moduleTasks(all, { play, blockVars: [] })) {
        if (task.moduleName !== 'compose-deploy' && task.moduleName !== 'install-ufw') continue;
        const where = `${formatPos(posOf(task.src))}${task.name ? ` (task "${task.name}")` : ''}`;
        for (const host of targets) {
          const decl = out.get(host)!;
          const params = renderParams(task.args, host, play, task.role, blockVars, task.vars, inventory, extra, pb.dir);
          if (typeof params === 'string') {
            decl.notes.push(`${where}: not counted: ${params}`);
            continue;
          }
          const parsed = task.module.params.safeParse(params);
          if (!parsed.success) {
            decl.notes.push(`${where}: not counted: invalid parameters for ${host}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
            continue;
          }
          if (task.moduleName === 'compose-deploy') {
            const p = parsed.data as { project_name?: string; project_src: string; exposure?: ExposurePolicy; state: string };
            if (p.state === 'absent') continue;
            decl.compose.push({ project: projectOf(p), ...(p.exposure ? { policy: p.exposure } : {}), where });
          } else {
            const p = parsed.data as { rules?: RuleParams[]; state: 'enabled' | 'disabled' };
            decl.firewall.push({ rules: (p.rules ?? []).flatMap((r) => ruleTuples(r, false)), state: p.state, where });
          }
        }
      }
    }
  }
  return out;
}

function renderParams(
  args: unknown,
  host: string,
  play: Play,
  role: LoadedRole | undefined,
  blockVars: VarsLayer[],
  taskVars: VarsLayer | undefined,
  inventory: Inventory,
  extraVars: VarsSource[],
  playbookDir: string,
): unknown {
  const scope = buildScope({
    roleDefaults: role ? layerOf(role.defaults) : undefined,
    inventoryLayers: inventoryLayers(inventory, host),
    playVars: layerOf(play.vars),
    varsFiles: play.varsFiles.map(layerOf),
    roleVars: role ? layerOf(role.vars) : undefined,
    blockVars: blockVars.map(layerOf),
    taskVars: taskVars ? layerOf(taskVars) : undefined,
    roleParams: role ? layerOf(role.params) : undefined,
    extraVars,
    magic: {
      ...inventory.magicVars(host),
      groups: inventory.groupsVar(),
      playbook_dir: playbookDir,
      role_name: role?.name,
      ansible_role_name: role?.name,
      role_path: role?.dir,
    },
  });
  try {
    return render(args, scope);
  } catch (e) {
    if (e instanceof UserError) return e.diagnostics[0]?.message ?? e.message;
    throw e;
  }
}
