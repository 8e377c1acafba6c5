/** Step helpers. */
import type { ExecStep, Step } from '../../core/module.js';

/** Merges consecutive plain exec steps into one `a && b` exec: fewer round trips, same effect. */
export function joinExecs(steps: Step[]): Step[] {
  const out: Step[] = [];
  for (const s of steps) {
    const prev = out[out.length - 1];
    if (s.kind === 'exec' && prev?.kind === 'exec' && plain(s) && plain(prev)) {
      out[out.length - 1] = { kind: 'exec', cmd: `${prev.cmd} && ${s.cmd}` };
    } else out.push(s);
  }
  return out;
}

const plain = (s: ExecStep) => s.stdin === undefined && s.okCodes === undefined && s.timeoutMs === undefined && s.description === undefined;
