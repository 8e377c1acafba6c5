/** Templated `ignore_errors: "{{ expr }}"` on fake connections: evaluated per host, must give a boolean. */
import { expect } from 'chai';
import { run, statusOf } from '../helpers/engine-run.js';

describe('engine: templated ignore_errors', () => {
  it('is evaluated per host: the failure is ignored where it gives true', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: breaks
      fake_run: exit 1
      ignore_errors: "{{ inventory_hostname !== 'h2' }}"
    - name: after
      fake_file: {path: /a, content: x}
`);
    const ignored = Object.fromEntries(r.results('breaks').map((x) => [x.host, !!x.ignored]));
    expect(ignored).to.deep.equal({ h1: true, h2: false, h3: true });
    expect(statusOf(r, 'after')).to.deep.equal({ h1: 'changed', h3: 'changed' });
    expect(r.summary.hosts.h1).to.include({ ignored: 1, failed: 0 });
    expect(r.summary.hosts.h2).to.include({ failed: 1 });
  });

  it('on a block: its tasks ignore their failures where it gives true', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  vars: {lenient: true}
  tasks:
    - block:
        - name: breaks
          fake_run: exit 1
      ignore_errors: "{{ lenient }}"
    - name: after
      fake_file: {path: /a, content: x}
`);
    expect(statusOf(r, 'after')).to.deep.equal({ h1: 'changed' });
  });

  it("a value that is not a boolean fails the host in the style of when's message", async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - name: read a setting
      fake_run: echo yes
      register: setting
    - name: keep it
      set_fact: {lenient: "{{ setting.stdout.split(' ')[0] }}"}
    - name: breaks
      fake_run: exit 1
      ignore_errors: "{{ lenient }}"
`);
    const [res] = r.results('breaks');
    expect(res!.status).to.equal('failed');
    expect(res!.ignored).to.not.equal(true);
    expect(res!.msg).to.match(/^ignore_errors: `lenient` gave the string "yes", not a boolean/);
    expect(r.summary.hosts.h1).to.include({ failed: 1, ignored: 0 });
  });
});
