/**
 * auditInventory without hosts: the playbooks' declarations rendered per host, one exec per
 * host through an injected connection answering with the lab snapshot fixture, an unreachable
 * host as a report entry, exit codes, and bad input refused before any host is contacted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { auditExitCode, auditInventory } from '../../src/audit/audit.js';
import { declarationsFor } from '../../src/audit/declared.js';
import { UnreachableError, type Connection } from '../../src/connection/types.js';
import { UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';

const LAB = readFileSync(join(import.meta.dirname, '../fixtures/audit/lab-ufw-and-docker.out'), 'utf8');

const INVENTORY = `
[docker]
d1 ansible_host=10.0.0.1 metrics_level=localhost
d2 ansible_host=10.0.0.2 metrics_level=public
[other]
o1 ansible_host=10.0.0.3
`;

const PLAYBOOK = `
- hosts: docker
  gather_facts: false
  vars: {project: tsplay-audit}
  tasks:
    - name: firewall
      install-ufw:
        rules: [{action: allow, port: 22/tcp}, {action: allow, port: "7070/tcp"}]
    - block:
        - name: stack
          compose-deploy:
            project_src: /srv/{{ project }}
            definition: {services: {web: {image: "x:1", ports: ["8080:8080"]}}}
            exposure: {web: public, metrics: "{{ metrics_level }}", db: internal}
    - name: level
      command: echo public
      register: registered_thing
    - name: needs a run
      compose-deploy:
        project_src: /srv/other
        definition: {services: {a: {image: "x:1"}}}
        exposure: {a: "{{ registered_thing.stdout }}"}
`;

describe('audit of an inventory (fake connections)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-audit-'));
    writeFileSync(join(dir, 'hosts.ini'), INVENTORY);
    writeFileSync(join(dir, 'site.yml'), PLAYBOOK);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders each host\'s declarations with its variables; a task that needs a run is a note', async () => {
    const inventory = loadInventory([join(dir, 'hosts.ini')]);
    const { playbook } = await loadPlaybook(join(dir, 'site.yml'), { inventory });
    const d = declarationsFor([playbook], inventory, ['d1', 'd2', 'o1']);
    expect(d.get('d1')!.compose.map((c) => [c.project, c.policy?.services])).to.deep.equal([['tsplay-audit', { web: 'public', metrics: 'localhost', db: 'internal' }]]);
    expect(d.get('d2')!.compose[0]!.policy?.services.metrics).to.equal('public');
    expect(d.get('d1')!.compose[0]!.where).to.match(/site\.yml:10:11 \(task "stack"\)$/);
    expect(d.get('d1')!.firewall[0]!.rules.map((r) => `${r.action} ${r.dport}/${r.proto}`)).to.deep.equal(['allow 22/tcp', 'allow 7070/tcp']);
    expect(d.get('d1')!.notes).to.have.length(1);
    expect(d.get('d1')!.notes[0]).to.match(/site\.yml:\d+:\d+ \(task "needs a run"\): not counted: .*registered_thing/);
    expect(d.get('o1')).to.deep.equal({ compose: [], firewall: [], notes: [] });
  });

  it('one exec per host; the snapshot judged against the declarations; unreachable hosts reported; exit codes', async () => {
    const scripts: Record<string, number> = {};
    const connect = (cv: { name: string }): Connection => ({
      host: cv.name,
      stats: { connects: 0, execs: 0 },
      connect: async () => undefined,
      close: async () => undefined,
      run: async () => {
        scripts[cv.name] = (scripts[cv.name] ?? 0) + 1;
        if (cv.name === 'o1') throw new UnreachableError('connect ECONNREFUSED 10.0.0.3:22');
        return { stdout: LAB, stderr: '', code: 0 };
      },
    });
    const report = await auditInventory({ inventory: [join(dir, 'hosts.ini')], playbooks: [join(dir, 'site.yml')], connect });
    expect(scripts).to.deep.equal({ d1: 1, d2: 1, o1: 1 });
    expect(report.hosts.map((h) => [h.host, h.address, h.error ?? ''])).to.deep.equal([
      ['d1', '10.0.0.1', ''],
      ['d2', '10.0.0.2', ''],
      ['o1', '10.0.0.3', 'unreachable: connect ECONNREFUSED 10.0.0.3:22'],
    ]);
    const d1 = report.hosts[0]!;
    expect(d1.rows.filter((r) => r.undeclared).map((r) => r.port)).to.deep.equal([8081]);
    expect(d1.rows.find((r) => r.port === 7070)!.declared?.by).to.match(/^install-ufw rule "allow 7070\/tcp"/);
    expect(d1.notes.some((n) => n.includes('needs a run'))).to.equal(true);
    expect(report).to.deep.include({ undeclared: 2, unreadable: 1, probed: false });
    expect(auditExitCode(report)).to.equal(3);
    expect(auditExitCode({ ...report, undeclared: 0 })).to.equal(4);
    expect(auditExitCode({ ...report, undeclared: 0, unreadable: 0 })).to.equal(0);

    const limited = await auditInventory({ inventory: [join(dir, 'hosts.ini')], limit: 'd2', connect });
    expect(limited.hosts.map((h) => h.host)).to.deep.equal(['d2']);
  });

  it('bad input is a UserError before any host is contacted', async () => {
    let contacted = false;
    const connect = (): Connection => {
      contacted = true;
      throw new Error('no');
    };
    const fails = async (o: Parameters<typeof auditInventory>[0], msg: RegExp) => {
      const e = await auditInventory({ ...o, connect }).then(() => undefined, (x: unknown) => x);
      expect(e).to.be.instanceOf(UserError);
      expect((e as Error).message).to.match(msg);
    };
    await fails({ inventory: [join(dir, 'hosts.ini')], limit: 'nope' }, /host pattern 'nope': no host or group named 'nope'/);
    await fails({ inventory: [join(dir, 'missing.ini')] }, /inventory not found/);
    writeFileSync(join(dir, 'bad.yml'), '- hosts: docker\n  tasks:\n    - compose-deploy: {project_src: relative}\n');
    await fails({ inventory: [join(dir, 'hosts.ini')], playbooks: [join(dir, 'bad.yml')] }, /bad\.yml:3:\d+: .*project_src must be an absolute path/);
    expect(contacted).to.equal(false);
  });
});
