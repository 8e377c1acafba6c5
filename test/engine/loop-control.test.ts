/** loop_control: index_var names the item's index; pause waits between items (not before the first). */
import { expect } from 'chai';
import { run } from '../helpers/engine-run.js';

describe('engine: loop_control index_var and pause', () => {
  it('index_var gives each item its index', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - name: numbered
      debug: {msg: "{{ idx }}-{{ item }}"}
      loop: [a, b, c]
      loop_control: {index_var: idx}
`);
    expect(r.summary.failed).to.equal(false);
    expect(r.results('numbered').map((x) => x.msg)).to.include.members(['0-a', '1-b', '2-c']);
  });

  it('pause waits between items', async () => {
    const t0 = Date.now();
    const r = await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - name: slow
      debug: {msg: "{{ item }}"}
      loop: [1, 2, 3]
      loop_control: {pause: 0.2}
`);
    expect(r.summary.failed).to.equal(false);
    expect(Date.now() - t0).to.be.at.least(400);
  });

  it('a pause that is not a number is a validation error', async () => {
    let err: Error | undefined;
    try {
      await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - debug: {msg: hi}
      loop: [1]
      loop_control: {pause: soon}
`);
    } catch (e) {
      err = e as Error;
    }
    expect(String(err?.message ?? (err as { diagnostics?: Array<{ message: string }> })?.diagnostics?.[0]?.message)).to.match(/pause/);
  });
});
