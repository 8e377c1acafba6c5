/**
 * Templated `ignore_errors: "{{ expr }}"` and `no_log: "{{ expr }}"` on fake connections: evaluated
 * per host, each must give a boolean.
 */
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

describe('engine: templated no_log', () => {
  it('hides the output on the hosts where it gives true', async () => {
    const r = await run(`
- hosts: all
  gather_facts: false
  tasks:
    - name: talk
      fake_run: echo topsecret
      no_log: "{{ inventory_hostname === 'h2' }}"
`);
    const hidden = Object.fromEntries(r.results('talk').map((x) => [x.host, !!x.hidden]));
    expect(hidden).to.deep.equal({ h1: false, h2: true, h3: false });
    expect(JSON.stringify(r.results('talk').find((x) => x.host === 'h1'))).to.include('topsecret');
    expect(JSON.stringify(r.results('talk').find((x) => x.host === 'h2'))).to.not.include('topsecret');
  });

  it('a value that is not a boolean fails the host without showing the value', async () => {
    const r = await run(`
- hosts: h1
  gather_facts: false
  tasks:
    - name: read a setting
      fake_run: echo hush
      register: setting
    - name: keep it
      set_fact: {quiet: "{{ setting.stdout.split(' ')[0] }}"}
    - name: talk
      fake_run: write /x spoken
      no_log: "{{ quiet }}"
`);
    const [res] = r.results('talk');
    expect(res!.status).to.equal('failed');
    expect(res!.msg).to.match(/^no_log: `quiet` did not give a boolean; the task did not run/);
    expect(res!.msg).to.not.include('hush');
    expect(r.world.host('h1').files.has('/x')).to.equal(false);
  });
});
