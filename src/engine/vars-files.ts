/**
 * vars_files entries chosen per host (a list: the first file found; or a templated name): the
 * candidates are rendered with what the host knows before the play's vars files (inventory,
 * facts, play vars, extra vars, magic names) and the first that exists is read. As in Ansible,
 * a name that cannot be rendered before the play's facts are gathered is skipped until they
 * are; after (or in a play that gathers none), it is an error. The choice is kept per host
 * until its facts change.
 */
import { join, isAbsolute } from 'node:path';
import { existsSync } from 'node:fs';
import { collectSecrets } from '../core/secret.js';
import { formatPos, UserError } from '../core/errors.js';
import type { VarsLayer } from '../playbook/model.js';
import { loadVarsFile } from '../playbook/vars-file.js';
import { render } from '../vars/expr.js';
import { buildScope, type VarsSource } from '../vars/precedence.js';
import type { HostState } from './host.js';
import type { PlayRun, RunState } from './state.js';

const layerOf = (l: VarsLayer): VarsSource => ({ vars: l.vars, label: l.label, file: l.file, pos: l.pos });

interface Chosen {
  facts: unknown;
  layer: VarsSource | undefined;
}

const chosen = new WeakMap<HostState, Map<VarsLayer, Chosen>>();

/** The layers of the play's vars_files for host `h`, in order. */
export function playVarsFiles(run: RunState, ctx: PlayRun, h: HostState): VarsSource[] {
  const out: VarsSource[] = [];
  for (const l of ctx.play.varsFiles) {
    if (!l.choice) {
      out.push(layerOf(l));
      continue;
    }
    let byLayer = chosen.get(h);
    if (!byLayer) chosen.set(h, (byLayer = new Map()));
    let c = byLayer.get(l);
    if (!c || c.facts !== h.facts) {
      const layer = choose(run, ctx, h, l, out);
      if (layer === null) continue; // not renderable before facts: skipped, asked again later
      c = { facts: h.facts, layer };
      byLayer.set(l, c);
    }
    if (c.layer) out.push(c.layer);
  }
  return out;
}

/** The chosen file's layer; null when a name cannot be rendered yet (no facts). */
function choose(run: RunState, ctx: PlayRun, h: HostState, l: VarsLayer, before: VarsSource[]): VarsSource | null {
  const { candidates, pos } = l.choice!;
  const scope = buildScope({
    inventoryLayers: h.inventoryLayers,
    facts: h.facts,
    playVars: layerOf(ctx.play.vars),
    varsFiles: before,
    extraVars: run.extraVars,
    magic: { inventory_hostname: h.name, groups: run.opts.inventory.groupsVar(), playbook_dir: run.pb.dir },
  });
  const tried: string[] = [];
  for (const c of candidates) {
    let name: string;
    try {
      name = String(render(c, scope));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      if (!h.facts && ctx.play.gatherFacts) return null;
      throw new UserError(`${formatPos(pos)}: vars_files: cannot render ${JSON.stringify(c)}: ${e.diagnostics[0]?.message ?? e.message}`);
    }
    const path = isAbsolute(name) ? name : join(run.pb.dir, name);
    tried.push(name);
    if (!existsSync(path)) continue;
    const vars = loadVarsFile(path);
    collectSecrets(vars.vars, run.env.secrets);
    return { vars: vars.vars, label: `vars file ${name}`, file: path, pos: vars.pos };
  }
  throw new UserError(`${formatPos(pos)}: vars_files: none of these files exists for ${h.name}: ${tried.join(', ')}`);
}
