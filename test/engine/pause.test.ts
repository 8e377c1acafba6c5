/**
 * `pause` in the engine: every host waits at once (the play pauses once, not once per host),
 * on the controller (no connection, no exec), also in check mode; a prompt is a warning, never
 * waited for; the free form `pause: seconds=1` is coerced like Ansible's.
 */
import { expect } from 'chai';
import { run, statusOf } from '../helpers/engine-run.js';

const play = (task: string) => `
- hosts: all
  gather_facts: false
  tasks:
    - name: wait
      ${task}
      register: p
    - name: after
      debug: {msg: "{{ p.delta }} {{ p.stdout }}"}
`;

describe('pause (engine)', function () {
  this.timeout(20_000);

  it('waits once for all hosts, on the controller, and registers Ansible\'s result', async () => {
    const t0 = Date.now();
    const r = await run(play('pause: seconds=1'), { check: true });
    const ms = Date.now() - t0;
    expect(ms).to.be.within(1000, 2500);
    expect(statusOf(r, 'wait')).to.deep.equal({ h1: 'ok', h2: 'ok', h3: 'ok' });
    expect(r.results('after').map((x) => x.msg)).to.deep.equal(['1 Paused for 1 seconds', '1 Paused for 1 seconds', '1 Paused for 1 seconds']);
    expect(r.summary.stats.execs).to.equal(0);
  });

  it('a prompt is a warning per host and does not wait without a time', async () => {
    const t0 = Date.now();
    const r = await run(play('pause: {prompt: Check the dashboard}'));
    expect(Date.now() - t0).to.be.below(1000);
    const warnings = r.events.filter((e) => e.type === 'warning');
    expect(warnings.map((w) => (w as { host: string }).host).sort()).to.deep.equal(['h1', 'h2', 'h3']);
    expect((warnings[0] as { msg: string }).msg).to.equal('pause: Check the dashboard (not waiting for input: tsplay runs non-interactively; no time given, so no pause)');
  });
});
