/**
 * End to end: a role's Jinja template (`.j2`, as Ansible roles ship them) written to a real lab
 * host by the template module: rendered on the controller (includes from the role's templates/
 * folder, ansible_managed, Ansible's filters), check mode plans the write and leaves the host
 * untouched, the first run writes, the second changes nothing; a change of a variable is a
 * change with a diff.
 */
import { expect } from 'chai';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const HOST = 'e2e1';
const DEST = '/srv/e2e-jinja/app.conf';

const ROLE = {
  'roles/app/tasks/main.yml': `
- name: app config
  template:
    src: app.conf.j2
    dest: ${DEST}
    mode: "0640"
`,
  'roles/app/defaults/main.yml': `
app_port: 8080
app_users: [{name: alice, admin: true}, {name: bob, admin: false}]
app_options: {workers: 4, debug: false}
`,
  'roles/app/templates/app.conf.j2': `# {{ ansible_managed }}
{% from 'macros/kv.j2' import kv %}
[server]
{{ kv('host', inventory_hostname) }}
{{ kv('port', app_port) }}
admins = {{ app_users | selectattr('admin') | map(attribute='name') | join(', ') }}
{% for name, value in app_options | dictsort %}
{{ name }} = {{ value | lower if value is boolean else value }}
{% endfor %}
{% if tls_cert is defined %}
cert = {{ tls_cert }}
{% endif %}
json = {{ app_options | to_json }}
`,
  'roles/app/templates/macros/kv.j2': '{% macro kv(k, v) %}{{ k }} = {{ v }}{% endmacro %}\n',
};

const PLAYBOOK = `
- hosts: ${HOST}
  gather_facts: false
  roles: [app]
`;

const EXPECTED = (port: number) => `# Ansible managed
[server]
host = ${HOST}
port = ${port}
admins = alice
debug = false
workers = 4
json = {"workers": 4, "debug": false}
`;

describe('Jinja templates on a lab host (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    lab = await sharedLab();
    await lab.sh(HOST, 'rm -rf /srv/e2e-jinja && mkdir -p /srv/e2e-jinja');
  });
  after(() => lab?.sh(HOST, 'rm -rf /srv/e2e-jinja'));

  const status = (r: LabRun) => r.result('app config', HOST).status;
  const failures = (r: LabRun) => r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [e.result.msg ?? ''] : []));
  const content = async () => (await lab.sh(HOST, `cat ${DEST} 2>/dev/null; stat -c %a ${DEST} 2>/dev/null || true`)).stdout;

  it('check mode plans the file, the first run writes it as Ansible would render it, the second changes nothing', async () => {
    const check = await lab.run(PLAYBOOK, { files: ROLE, check: true, diff: true });
    expect(failures(check)).to.deep.equal([]);
    expect(status(check)).to.equal('changed');
    expect(await content(), 'check mode leaves the host untouched').to.equal('');

    const first = await lab.run(PLAYBOOK, { files: ROLE });
    expect(failures(first)).to.deep.equal([]);
    expect(status(first)).to.equal('changed');
    expect(await content()).to.equal(`${EXPECTED(8080)}640\n`);

    const second = await lab.run(PLAYBOOK, { files: ROLE });
    expect(status(second)).to.equal('ok');
    expect(second.summary.changed).to.equal(false);
  });

  it('a changed variable is a change with a diff of the rendered text', async () => {
    const r = await lab.run(PLAYBOOK, { files: ROLE, diff: true, extraVars: { app_port: 9090 } });
    expect(status(r)).to.equal('changed');
    const diff = r.result('app config', HOST).diffs?.[0];
    expect(diff?.before).to.equal(EXPECTED(8080));
    expect(diff?.after).to.equal(EXPECTED(9090));
    expect(await content()).to.equal(`${EXPECTED(9090)}640\n`);
  });
});
