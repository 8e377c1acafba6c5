/**
 * `tsplay run` flags for CI and scripting, run as a user runs the built CLI: --list-hosts,
 * --list-tasks, --list-tags (nothing contacted), --junit, the --json schema version, -v levels,
 * and -u / --private-key / -b / --become-user under the inventory's own settings.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, countingListener, tsplayAsync } from '../helpers/cli.js';

const PLAYBOOK = `- name: web servers
  hosts: web
  tags: [webplay]
  tasks:
    - name: install nginx
      apt: { name: nginx }
      tags: [pkg]
    - block:
        - name: write config
          copy: { dest: /tmp/x, content: "x" }
      tags: [cfg]
    - name: only when asked
      command: "true"
      tags: [never, debug]
    - include_role: { name: base }
      tags: [base]
- name: "{{ target }}"
  hosts: "{{ target }}"
  gather_facts: true
  tasks:
    - command: "true"
`;

describe('tsplay run: CI and scripting flags', function () {
  this.timeout(60000);
  let dir: string;
  before(function () {
    if (!existsSync(cli)) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-flags-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('--list-hosts, --list-tasks, --list-tags', () => {
    let listener: Awaited<ReturnType<typeof countingListener>>;
    beforeEach(async () => {
      listener = await countingListener();
      // TEST-NET-1 addresses (RFC 5737): a connect there would hang until its timeout. `spy` is a
      // listener here that sees any connection attempt.
      writeFileSync(
        join(dir, 'inv.yml'),
        `all:
  vars: { connect_timeout: 2 }
  children:
    web:
      hosts:
        web1: { ansible_host: 192.0.2.10 }
        web2: { ansible_host: 192.0.2.11 }
        spy: { ansible_host: 127.0.0.1, ansible_port: ${listener.port} }
    db:
      hosts:
        db1: { ansible_host: 192.0.2.20 }
`,
      );
      writeFileSync(join(dir, 'site.yml'), PLAYBOOK);
      const role = join(dir, 'roles', 'base', 'tasks');
      mkdirSync(role, { recursive: true });
      writeFileSync(join(role, 'main.yml'), '- name: base packages\n  apt: { name: curl }\n  tags: [pkgs]\n');
    });
    afterEach(() => listener.close());

    it('list hosts, tasks with inherited tags, and tags, contacting nothing', async () => {
      const r = await tsplayAsync(['run', 'site.yml', '-i', 'inv.yml', '-e', 'target=db', '--list-hosts', '--list-tasks', '--list-tags'], dir);
      expect(r.err).to.equal('');
      expect(r.code).to.equal(0);
      expect(r.out).to.equal(`playbook: site.yml

  play #1 (web): web servers\tTAGS: [webplay]
    pattern: ['web']
    hosts (3):
      web1
      web2
      spy
      TASK TAGS: [base, cfg, pkg, pkgs, webplay]
    tasks:
      install nginx\tTAGS: [pkg, webplay]
      write config\tTAGS: [cfg, webplay]
      base : base packages\tTAGS: [base, pkgs, webplay]

  play #2 (db): db\tTAGS: []
    pattern: ['db']
    hosts (1):
      db1
      TASK TAGS: []
    tasks:
      command\tTAGS: []
`);
      expect(listener.accepted(), 'connections made to a listed host').to.equal(0);
      expect(r.ms, 'no connect timeout waited for').to.be.below(15000);
    });

    it('apply --limit, --tags and --skip-tags', async () => {
      const r = await tsplayAsync(['run', 'site.yml', '-i', 'inv.yml', '-e', 'target=db', '--list-hosts', '--list-tasks', '-l', 'web1,db1', '--tags', 'debug,base', '--skip-tags', 'pkgs'], dir);
      expect(r.code).to.equal(0);
      expect(r.out).to.include("pattern: ['web']\n    hosts (1):\n      web1\n    tasks:\n      only when asked\tTAGS: [debug, never, webplay]\n\n  play #2");
      expect(r.out).to.include("hosts (1):\n      db1\n    tasks:\n");
      expect(listener.accepted()).to.equal(0);
    });

    it('(the listener sees a run that does connect)', async () => {
      const r = await tsplayAsync(['run', 'site.yml', '-i', 'inv.yml', '-e', 'target=db', '-l', 'spy'], dir);
      expect(r.code).to.equal(4);
      expect(listener.accepted()).to.be.above(0);
    });
  });

  describe('on the local connection', () => {
    beforeEach(() => {
      writeFileSync(
        join(dir, 'local.yml'),
        `- hosts: localhost
  gather_facts: false
  vars:
    token: !secret "s3cr3t-t0ken"
  tasks:
    - name: write a file
      copy: { dest: "${dir}/out.txt", content: "hello\\n" }
    - name: quiet one
      command: "echo nolog-marker {{ token }}"
      no_log: true
    - name: says <&> "things"
      command: sh -c 'echo "token {{ token }} & <more>"; echo oops >&2; exit 3'
      ignore_errors: true
    - name: skipped one
      command: "true"
      when: false
    - name: fails
      command: "false"
`,
      );
    });

    it('--junit writes the report next to the usual output; secrets masked', async () => {
      const r = await tsplayAsync(['run', 'local.yml', '--junit', 'junit.xml'], dir);
      expect(r.code).to.equal(2);
      expect(r.out).to.include('PLAY RECAP');
      const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
      expect(xml).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="local.yml" tests="5" failures="1" errors="0" skipped="1"/);
      expect(xml).to.include('<testcase name="[localhost] says &lt;&amp;&gt; &quot;things&quot;"');
      expect(xml).to.include('<property name="status" value="failed (ignored)"/>');
      expect(xml).to.include('<property name="status" value="changed"/>');
      expect(xml).to.include('<skipped message="condition was false"/>');
      expect(xml).to.match(/<failure message="command failed with exit code 1[^"]*" type="failed">/);
      expect(xml).to.include('token ******** &amp; &lt;more&gt;');
      expect(xml).not.to.include('s3cr3t');
      expect(xml).not.to.include('nolog-marker');
    });

    it('--junit into a folder that does not exist: a one-line error', async () => {
      const r = await tsplayAsync(['run', 'local.yml', '--junit', 'nope/junit.xml'], dir);
      expect(r.code).to.equal(1);
      expect(r.err).to.include('--junit nope/junit.xml: cannot write the report: folder nope does not exist');
      expect(r.out, 'nothing ran').to.equal('');
      expect(r.err).not.to.match(/\n\s+at /);
    });

    it('--json: every event carries the schema version', async () => {
      const r = await tsplayAsync(['run', 'local.yml', '--json'], dir);
      const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
      expect(events.length).to.be.above(5);
      for (const e of events) expect(e.schemaVersion, e.type).to.equal(1);
      expect(events.some((e) => e.type === 'trace')).to.equal(false);
    });

    it('-v shows reasons; -vv each command and its exit code; -vvv their output and the connection', async () => {
      const v1 = await tsplayAsync(['run', 'local.yml', '-v'], dir);
      expect(v1.out).to.include('skipped: [localhost] condition was false');
      expect(v1.out).not.to.include('<localhost> EXEC');

      const v2 = await tsplayAsync(['run', 'local.yml', '-vv'], dir);
      expect(v2.out).to.include(`<localhost> EXEC sh -c 'echo "token ******** & <more>"; echo oops >&2; exit 3'`);
      expect(v2.out).to.match(/<localhost> EXIT exit code 3 in \d+ ms/);
      expect(v2.out).to.include('<localhost> EXEC (command of a no_log task hidden)');
      expect(v2.out).not.to.include('<localhost> OUTPUT');
      expect(v2.out).not.to.include('<localhost> CONNECT');

      const v3 = await tsplayAsync(['run', 'local.yml', '-vvv'], dir);
      expect(v3.out).to.include('<localhost> CONNECT local connection');
      expect(v3.out).to.include('<localhost> OUTPUT stdout:\n    token ******** & <more>');
      expect(v3.out).to.include('<localhost> OUTPUT stderr:\n    oops');
      for (const r of [v2, v3]) {
        expect(r.out).not.to.include('s3cr3t');
        expect(r.out).not.to.include('nolog-marker');
      }
      // -vvv as separate flags, and in --json as trace events
      const json = await tsplayAsync(['run', 'local.yml', '-v', '-v', '-v', '--json'], dir);
      const traces = json.out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'trace');
      expect(traces.map((e) => e.kind)).to.include.members(['connect', 'exec', 'exit', 'output']);
      expect(json.out).not.to.include('s3cr3t');
    });
  });

  describe('--ssh-config', () => {
    it('reaches hosts by their Host alias through the ProxyJump of the file; one warning per ignored option, not per host', async () => {
      const bastion = await countingListener();
      const target = await countingListener();
      try {
        writeFileSync(
          join(dir, 'ssh_config'),
          `Host app*
  HostName 127.0.0.1
  Port ${target.port}
  User cfguser
  ProxyJump jumper@lab-bastion
  ForwardAgent yes
Host lab-bastion
  HostName 127.0.0.1
  Port ${bastion.port}
`,
        );
        writeFileSync(join(dir, 'inv.yml'), 'all:\n  vars: { connect_timeout: 2 }\n  hosts:\n    app1: {}\n    app2: { ansible_user: own }\n');
        writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
        const r = await tsplayAsync(['run', 'site.yml', '-i', 'inv.yml', '--ssh-config', 'ssh_config', '-vvv', '--json'], dir);
        const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
        const connect = Object.fromEntries(events.filter((e) => e.type === 'trace' && e.kind === 'connect').map((e) => [e.host, e.msg]));
        expect(connect.app1).to.match(new RegExp(`^ssh cfguser@127\\.0\\.0\\.1:${target.port} through jumper@127\\.0\\.0\\.1:${bastion.port}, `));
        expect(connect.app2).to.match(/^ssh own@127\.0\.0\.1:\d+ through jumper@/);
        const warnings = events.filter((e) => e.type === 'warning').map((e) => e.msg);
        expect(warnings).to.deep.equal([`${join(dir, 'ssh_config')}:6: ForwardAgent is ignored (tsplay does not support it)`]);
        // Only the bastion was contacted; the hosts are unreachable, and the message names it.
        expect(bastion.accepted()).to.be.greaterThan(0);
        expect(target.accepted()).to.equal(0);
        const failed = events.filter((e) => e.type === 'task:host').map((e) => e.result);
        expect(failed.map((x) => x.status)).to.deep.equal(['unreachable', 'unreachable']);
        expect(failed[0].msg).to.include(`jump host jumper@lab-bastion (jumper@127.0.0.1:${bastion.port})`);
        expect(r.code).to.equal(4);
      } finally {
        await bastion.close();
        await target.close();
      }
    });
  });

  describe('-u, --private-key, -b, --become-user', () => {
    it('apply where the inventory sets nothing; the inventory\'s own settings win (as in Ansible)', async () => {
      const listener = await countingListener();
      try {
        writeFileSync(
          join(dir, 'inv.yml'),
          `all:
  vars: { ansible_host: 127.0.0.1, ansible_port: ${listener.port}, connect_timeout: 2 }
  hosts:
    plain: {}
    own:
      ansible_user: invuser
      ansible_ssh_private_key_file: /keys/inv
      ansible_become: false
      ansible_become_user: invbecome
`,
        );
        writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "true"\n');
        const r = await tsplayAsync(['run', 'site.yml', '-i', 'inv.yml', '-u', 'cliuser', '--private-key', '/keys/cli', '-b', '--become-user', 'app', '-vvv', '--json'], dir);
        const connect = Object.fromEntries(
          r.out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'trace' && e.kind === 'connect').map((e) => [e.host, e.msg]),
        );
        expect(connect.plain).to.match(/^ssh cliuser@127\.0\.0\.1:\d+, key \/keys\/cli, .* become app \(sudo\)$/);
        expect(connect.own).to.match(/^ssh invuser@127\.0\.0\.1:\d+, key \/keys\/inv, .* become no$/);
        const plain = await tsplayAsync(['run', 'site.yml', '-i', 'inv.yml', '-vvv', '--json'], dir);
        expect(plain.out).to.match(/"msg":"ssh \(current user\)@127\.0\.0\.1:\d+, key \(agent\/default\), [^"]*become no"/);
      } finally {
        await listener.close();
      }
    });
  });
});

