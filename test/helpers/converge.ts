/**
 * What the e2e tests of the everyday modules check on one lab host: each task's status, and that
 * a playbook converges (check mode changes nothing, the first run changes, the second does not).
 */
import { expect } from 'chai';
import type { LabRun, SharedLab } from './lab.js';

/** A play of `tasks` (YAML, indented by the caller's lines) on `host`, without facts. */
export const playOn = (host: string) => (tasks: string) => `
- hosts: ${host}
  gather_facts: false
  tasks:
${tasks.replace(/^/gm, '    ')}
`;

/** `{task name: status}` on `host` (and failure messages, so a failing run explains itself). */
export function outcome(r: LabRun, host: string): Record<string, string> {
  const names = new Map<number, string>();
  const out: Record<string, string> = {};
  for (const e of r.events) {
    if (e.type === 'task:start') names.set(e.id, e.name);
    if (e.type === 'task:host' && e.result.host === host && e.result.item === undefined) {
      out[names.get(e.id)!] = e.result.status === 'failed' ? `failed: ${e.result.msg}` : e.result.status;
    }
  }
  return out;
}

/** Every task of the run with the same status. */
export const every = (r: LabRun, host: string, status: string) => Object.fromEntries(Object.keys(outcome(r, host)).map((n) => [n, status]));

/** Check mode (host untouched, every task changed), first run (changed), second run (ok). */
export async function converges(lab: SharedLab, host: string, playbook: string, inspect: () => Promise<string>, opts: { files?: Record<string, string | Buffer> } = {}) {
  const before = await inspect();
  const check = await lab.run(playbook, { check: true, diff: true, ...opts });
  expect(outcome(check, host), 'check mode').to.deep.equal(every(check, host, 'changed'));
  expect(await inspect(), 'check mode left the host untouched').to.equal(before);
  const first = await lab.run(playbook, opts);
  expect(outcome(first, host), 'first run').to.deep.equal(every(check, host, 'changed'));
  const second = await lab.run(playbook, opts);
  expect(outcome(second, host), 'second run').to.deep.equal(every(check, host, 'ok'));
  expect(second.summary.hosts[host]).to.include({ changed: 0, failed: 0 });
  return { check, first, second };
}

/** The value `debug: {var: NAME}` printed. */
export function debugged(r: LabRun, task: string, host: string): Record<string, unknown> {
  const msg = r.result(task, host).msg ?? '';
  return JSON.parse(msg.slice(msg.indexOf('{'))) as Record<string, unknown>;
}
