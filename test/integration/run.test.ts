/**
 * `tsplay run` end to end against a real OpenSSH server on loopback (test/helpers/sshd.ts):
 * idempotency, check mode, diffs and secrets, host keys, unreachable hosts (wrong key, dropped
 * connection), one connection per host, Ctrl-C, become, and validation before any contact.
 * The target is this machine, reached as the throwaway user tsplay-t1. Needs root; skipped
 * otherwise.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForNoProcessMentioning, waitForProcessCount } from '../helpers/processes.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import {
  acceptedLogins,
  connectionsSeen,
  inventoryYaml,
  recapOf,
  runCli,
  runLib,
  snapshot,
  sshdSuite,
  sshVars,
  startCli,
  taskResults,
  type CliResult,
  type CliRun,
} from './harness.js';

/** The small playbook of the first tests: one task per core module kind. */
function sitePlaybook(dir: string): string {
  return `
- name: site
  hosts: all
  gather_facts: false
  vars:
    dir: ${dir}
  tasks:
    - name: conf folder
      file: { path: "{{ dir }}/conf", state: directory, mode: "0750" }
    - name: motd
      copy: { dest: "{{ dir }}/motd", content: "hello from {{ inventory_hostname }}\\n", mode: "0640" }
    - name: settings line
      lineinfile: { path: "{{ dir }}/settings", line: "managed=yes", create: true }
    - name: app config
      template: { src: app.conf.ejs, dest: "{{ dir }}/conf/app.conf" }
    - name: initialise once
      command: { cmd: "touch {{ dir }}/initialised", creates: "{{ dir }}/initialised" }
`;
}
const SITE_TASKS = ['conf folder', 'motd', 'settings line', 'app config', 'initialise once'];
const TEMPLATES = { 'templates/app.conf.ejs': 'host=<%= inventory_hostname %>\nport=<%= app_port %>\n' };

describe('integration: tsplay run against a real sshd', function () {
  this.timeout(30_000);
  const suite = sshdSuite();
  const { target, project } = suite;
  let server: Sshd;
  before(() => (server = suite.server));
  const site = (dir: string, hosts: Record<string, Record<string, unknown>> = { web1: sshVars(server, { app_port: 8080 }) }) =>
    project({ playbook: sitePlaybook(dir), inventory: inventoryYaml(hosts), extra: TEMPLATES });

  it('converges on the first run (exit 0, changes) and reports changed=0 on the second, over one connection', async () => {
    const dir = target();
    const p = site(dir);

    const first = await runCli(['run', p.playbook, '-i', p.inventory, '--json']);
    expect(first.code, first.stderr).to.equal(0);
    for (const task of SITE_TASKS) expect(taskResults(first.events, task).map((r) => r.status), task).to.deep.equal(['changed']);
    expect(recapOf(first.events).hosts.web1).to.include({ changed: 5, ok: 0, failed: 0, unreachable: 0 });

    const snap = snapshot(dir);
    expect(snap.conf).to.include({ type: 'dir', mode: '0750' });
    expect(snap.motd).to.include({ type: 'file', mode: '0640', content: 'hello from web1\n' });
    expect(snap.settings).to.include({ type: 'file', content: 'managed=yes\n' });
    expect(snap['conf/app.conf']).to.include({ type: 'file', content: 'host=web1\nport=8080\n' });
    expect(snap.initialised).to.include({ type: 'file', content: '' });
    const uid = Number(execFileSync('id', ['-u', server.user], { encoding: 'utf8' }).trim());
    for (const name of ['conf', 'motd', 'settings', 'conf/app.conf', 'initialised']) expect(snap[name]!.uid, name).to.equal(uid);

    const logins = acceptedLogins(server);
    const second = await runLib(p);
    expect(second.summary.changed).to.equal(false);
    expect(second.summary.hosts.web1).to.include({ changed: 0, ok: 5, failed: 0 });
    for (const task of SITE_TASKS) expect(second.statuses(task), task).to.deep.equal({ web1: 'ok' });
    expect(second.results('initialise once')[0]!.msg).to.match(/skipped, since .*initialised exists/);
    // One SSH connection for the whole run, seen from both ends.
    expect(second.summary.stats.connects).to.equal(1);
    expect(acceptedLogins(server) - logins).to.equal(1);
    // Nothing was rewritten.
    expect(snapshot(dir)).to.deep.equal(snap);

    // Drift detection: converged -> 0; after a manual edit -> 3, and check mode does not repair it.
    const clean = await runCli(['run', p.playbook, '-i', p.inventory, '--check', '--fail-on-change']);
    expect(clean.code, clean.stdout + clean.stderr).to.equal(0);
    writeFileSync(join(dir, 'motd'), 'edited by hand\n');
    const drift = await runCli(['run', p.playbook, '-i', p.inventory, '--check', '--fail-on-change']);
    expect(drift.code, drift.stdout + drift.stderr).to.equal(3);
    expect(drift.stdout).to.match(/changed: \[web1\] update .*\/motd/);
    expect(readFileSync(join(dir, 'motd'), 'utf8')).to.equal('edited by hand\n');
    // Without --fail-on-change a pending change is not an error.
    const lenient = await runCli(['run', p.playbook, '-i', p.inventory, '--check']);
    expect(lenient.code).to.equal(0);
  });

  it('check mode on a fresh target reports every change and leaves the target byte-for-byte untouched', async () => {
    const dir = target();
    writeFileSync(join(dir, 'motd'), 'old motd\n', { mode: 0o644 });
    execFileSync('chown', [`${server.user}:`, join(dir, 'motd')]);
    const p = site(dir);
    const before = snapshot(dir);

    const r = await runCli(['run', p.playbook, '-i', p.inventory, '--check', '--fail-on-change', '--json']);
    expect(r.code, r.stderr).to.equal(3);
    expect((r.events[0] as { check?: boolean }).check).to.equal(true);
    for (const task of SITE_TASKS) expect(taskResults(r.events, task).map((x) => x.status), task).to.deep.equal(['changed']);
    expect(taskResults(r.events, 'motd')[0]!.changes).to.deep.equal([`update ${dir}/motd`, `change mode of ${dir}/motd: 0644 -> 0640`]);
    // Later tasks plan against what earlier ones would have done: the template goes into the
    // folder that only exists in the plan.
    expect(taskResults(r.events, 'app config')[0]!.changes).to.deep.equal([`create ${dir}/conf/app.conf (20 bytes)`]);

    expect(snapshot(dir)).to.deep.equal(before);
    expect(readdirSync(dir).sort()).to.deep.equal(['motd']);
  });

  it('--diff prints unified diffs and mode changes, and masks a !secret everywhere in the output', async () => {
    const dir = target();
    writeFileSync(join(dir, 'app.env'), 'TOKEN=old\nDEBUG=1\n', { mode: 0o644 });
    execFileSync('chown', [`${server.user}:`, join(dir, 'app.env')]);
    const secretValue = 'Zq9-very-secret-8Xw';
    const p = project({
      inventory: inventoryYaml({ web1: sshVars(server) }),
      playbook: `
- hosts: all
  gather_facts: false
  vars:
    token: !secret ${secretValue}
  tasks:
    - name: env file
      copy: { dest: "${dir}/app.env", content: "TOKEN={{ token }}\\nDEBUG=0\\n", mode: "0600" }
    - name: new file
      copy: { dest: "${dir}/fresh.txt", content: "line one\\n" }
    - name: mentions the token
      command: "test {{ token }} = nope"
      ignore_errors: true
`,
    });

    const r = await runCli(['run', p.playbook, '-i', p.inventory, '--diff']);
    expect(r.code, r.stderr).to.equal(0);
    const out = r.stdout;
    expect(out).to.include(`--- ${dir}/app.env (before)\n+++ ${dir}/app.env (after)\n@@ -1,2 +1,2 @@\n-TOKEN=old\n-DEBUG=1\n+TOKEN=********\n+DEBUG=0\n`);
    expect(out).to.include(`mode: 0644 -> 0600   ${dir}/app.env`);
    expect(out).to.include(`--- /dev/null\n+++ ${dir}/fresh.txt (after)\n@@ -0,0 +1,1 @@\n+line one\n`);
    expect(out).to.match(/failed \(ignored\): \[web1\]/);
    expect(out).to.include('command: test ******** = nope');
    expect(out).not.to.match(/\x1b\[/, 'NO_COLOR output has no escape codes');
    expect(out + r.stderr).not.to.include(secretValue);
    // The secret really reached the host.
    expect(readFileSync(join(dir, 'app.env'), 'utf8')).to.equal(`TOKEN=${secretValue}\nDEBUG=0\n`);
    expect(statSync(join(dir, 'app.env')).mode & 0o777).to.equal(0o600);

    // The JSON stream (diffs included) masks it too.
    writeFileSync(join(dir, 'app.env'), 'TOKEN=x\n');
    const j = await runCli(['run', p.playbook, '-i', p.inventory, '--diff', '--json']);
    expect(j.code).to.equal(0);
    const diff = taskResults(j.events, 'env file')[0]!.diffs![0]!;
    expect(diff).to.include({ before: 'TOKEN=x\n', after: 'TOKEN=********\nDEBUG=0\n' });
    expect(j.stdout + j.stderr).not.to.include(secretValue);
  });

  it('an unknown host key fails the host with the ssh-keyscan hint and writes nothing; accept-new trusts and appends it', async () => {
    const dir = target();
    const known = join(mkdtempSync(join(tmpdir(), 'tsplay-it-kh-')), 'known_hosts');
    suite.removeLater(join(known, '..'));
    writeFileSync(known, '');
    const p = site(dir, { web1: sshVars(server, { known_hosts_file: known, app_port: 1 }) });

    const strict = await runCli(['run', p.playbook, '-i', p.inventory]);
    expect(strict.code, strict.stdout + strict.stderr).to.equal(4);
    expect(strict.stdout).to.include(`unreachable: [web1] host key for [127.0.0.1]:${server.port} is not known; to trust it run: ssh-keyscan -p ${server.port} 127.0.0.1 >> ${known}`);
    expect(strict.stdout).to.match(/web1 +: ok=0 +changed=0 +unreachable=1 +failed=0/);
    expect(readdirSync(dir)).to.deep.equal([]);
    expect(readFileSync(known, 'utf8')).to.equal('');

    const p2 = site(dir, { web1: sshVars(server, { known_hosts_file: known, host_key_checking: 'accept-new', app_port: 1 }) });
    const accept = await runCli(['run', p2.playbook, '-i', p2.inventory]);
    expect(accept.code, accept.stdout + accept.stderr).to.equal(0);
    expect(readFileSync(known, 'utf8')).to.equal(`${server.hostKeyLine}\n`);
    expect(readdirSync(dir).sort()).to.deep.equal(['conf', 'initialised', 'motd', 'settings']);

    // Strict checking now passes with the appended key, and nothing is appended twice.
    const again = await runCli(['run', p.playbook, '-i', p.inventory, '--check', '--fail-on-change']);
    expect(again.code, again.stdout + again.stderr).to.equal(0);
    expect(readFileSync(known, 'utf8')).to.equal(`${server.hostKeyLine}\n`);
  });

  it('a host with a wrong key file is unreachable (exit 4) while the others on the same sshd finish', async () => {
    const dir = target();
    const keys = mkdtempSync(join(tmpdir(), 'tsplay-it-key-'));
    suite.removeLater(keys);
    const wrongKey = join(keys, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    const p = project({
      inventory: inventoryYaml({ a: sshVars(server), b: sshVars(server, { ansible_ssh_private_key_file: wrongKey }), c: sshVars(server) }),
      playbook: `
- hosts: all
  gather_facts: false
  tasks:
    - name: one
      copy: { dest: "${dir}/{{ inventory_hostname }}-1", content: "1\\n" }
    - name: two
      copy: { dest: "${dir}/{{ inventory_hostname }}-2", content: "2\\n" }
`,
    });
    const logins = acceptedLogins(server);
    const r = await runCli(['run', p.playbook, '-i', p.inventory, '--json']);
    expect(r.code, r.stderr).to.equal(4);
    const recap = recapOf(r.events).hosts;
    expect(recap.b).to.include({ unreachable: 1, changed: 0, ok: 0, failed: 0 });
    expect(recap.a).to.include({ changed: 2, unreachable: 0, failed: 0 });
    expect(recap.c).to.include({ changed: 2, unreachable: 0, failed: 0 });
    const one = Object.fromEntries(taskResults(r.events, 'one').map((x) => [x.host, x]));
    expect(one.b!.status).to.equal('unreachable');
    expect(one.b!.msg).to.equal(`ssh to tsplay-t1@127.0.0.1:${server.port} failed: authentication failed for user tsplay-t1 (tried key ${wrongKey})`);
    expect(taskResults(r.events, 'two').map((x) => x.host).sort()).to.deep.equal(['a', 'c']);
    expect(readdirSync(dir).sort()).to.deep.equal(['a-1', 'a-2', 'c-1', 'c-2']);
    // One login per reachable host for the whole run.
    expect(acceptedLogins(server) - logins).to.equal(2);
  });

  it('a connection killed during a task marks that host unreachable and the run goes on for the others', async () => {
    const doomed = await startSshd();
    try {
      const dir = target();
      const p = project({
        inventory: inventoryYaml({ steady: sshVars(server), doomed: sshVars(doomed) }),
        playbook: `
- hosts: all
  gather_facts: false
  tasks:
    - name: before
      copy: { dest: "${dir}/{{ inventory_hostname }}-before", content: "x\\n" }
    - name: slow
      command: sleep 5
      when: inventory_hostname == 'doomed'
    - name: after
      copy: { dest: "${dir}/{{ inventory_hostname }}-after", content: "y\\n" }
`,
      });
      let killedAt = 0;
      const r = await runLib(p, {
        onEvent: (e) => {
          if (e.type === 'task:start' && e.name === 'slow') {
            setTimeout(() => {
              killedAt = Date.now();
              doomed.kill();
            }, 500);
          }
        },
      });
      const detectedIn = Date.now() - killedAt;
      expect(r.statuses('slow')).to.deep.equal({ doomed: 'unreachable', steady: 'skipped' });
      expect(r.results('slow').find((x) => x.host === 'doomed')!.msg).to.match(new RegExp(`^ssh connection to tsplay-t1@127\\.0\\.0\\.1:${doomed.port} lost: `));
      expect(r.statuses('after')).to.deep.equal({ steady: 'changed' });
      expect(r.summary.hosts.doomed).to.include({ unreachable: 1, changed: 1, failed: 0 });
      expect(r.summary.unreachable).to.equal(true);
      expect(readdirSync(dir).sort()).to.deep.equal(['doomed-before', 'steady-after', 'steady-before']);
      // Noticed when the connection dropped, not when `sleep 5` would have ended.
      expect(detectedIn).to.be.below(3000);
    } finally {
      await doomed.stop();
    }
  });

  /**
   * Starts a one-task write of `content` (from files/), sends SIGINT once the temp file exists
   * plus `delayMs`, and checks the promises of Ctrl-C: exit 130, recap, nothing new started, and
   * on the target either no file or the complete one, never a partial file or a temp file.
   */
  async function interruptWrite(opts: { content: string; validate?: string; become: boolean; delayMs: number }): Promise<void> {
    const dir = target();
    const p = project({
      inventory: inventoryYaml({ web1: sshVars(server) }),
      playbook: `
- hosts: all
  gather_facts: false
  become: ${opts.become}
  tasks:
    - name: big file
      copy: { src: big.txt, dest: "${dir}/big.txt"${opts.validate ? `, validate: "${opts.validate}"` : ''} }
    - name: never started
      copy: { dest: "${dir}/after.txt", content: "z\\n" }
`,
      extra: { 'files/big.txt': opts.content },
    });
    const run = startCli(['run', p.playbook, '-i', p.inventory]);
    await run.waitFor(/^TASK \[big file\]/);
    const deadline = Date.now() + 10_000;
    while (!readdirSync(dir).some((n) => n.includes('.tsplay-')) && Date.now() < deadline) await sleep(5);
    expect(readdirSync(dir).some((n) => n.includes('.tsplay-')), 'temp file appeared').to.equal(true);
    await sleep(opts.delayMs);
    const r = await interrupt(run, 'SIGINT', 130, 2500);
    expect(r.stderr).to.include('interrupt: finishing running commands');
    expect(r.stdout).to.match(/PLAY RECAP\nweb1 +: /);
    expect(r.stdout).to.include('interrupted by SIGINT (Ctrl-C): no new task was started');
    expect(r.stdout).not.to.include('TASK [never started]');

    // Whatever the remote side still does after the interrupt must not leave a partial file.
    expect(await waitForNoProcessMentioning(dir, 6000), 'remote processes still running').to.deep.equal([]);
    const names = readdirSync(dir);
    expect(names.filter((n) => n.includes('.tsplay-')), 'temp files left behind').to.deep.equal([]);
    expect(names.filter((n) => n !== 'big.txt'), 'other files').to.deep.equal([]);
    if (names.includes('big.txt')) {
      const size = statSync(join(dir, 'big.txt')).size;
      expect(size, 'big.txt is complete, not partial').to.equal(opts.content.length);
      expect(readFileSync(join(dir, 'big.txt'), 'utf8') === opts.content, 'big.txt content').to.equal(true);
    }
  }

  it('Ctrl-C during a slow validate leaves no temp file behind, prints the recap and exits 130', async () => {
    await interruptWrite({ content: 'x'.repeat(4 << 20), validate: 'sleep 3 && test -s %s', become: false, delayMs: 300 });
  });

  it('Ctrl-C while a large file is being sent through sudo never leaves a partial file', async () => {
    // Through sudo the ssh signal (sent as tsplay-t1) cannot stop root's script: it outlives the
    // channel and sees its stdin end early, so only the byte count check keeps it from renaming.
    await interruptWrite({ content: 'y'.repeat(32 << 20), become: true, delayMs: 0 });
  });

  describe('stopping remote commands (root login: sshd refuses to deliver signals to its sessions)', () => {
    let rootServer: Sshd;
    before(async () => {
      rootServer = await startSshd({ rootLogin: true });
    });
    after(async () => {
      await rootServer?.stop();
    });

    /** A project whose hosts run `sleep SECONDS` (a number unique to the test, to find it in ps) as root and as tsplay-t1 via sudo. */
    const sleeper = (seconds: string, more: Record<string, Record<string, unknown>> = {}) =>
      project({
        inventory: inventoryYaml({
          asroot: sshVars(rootServer, { ansible_user: 'root', secs: seconds }),
          viasudo: sshVars(server, { ansible_become: true, secs: seconds }),
          ...more,
        }),
        playbook: `
- hosts: all
  gather_facts: false
  tasks:
    - name: long
      command: sleep {{ secs }}
    - name: never started
      command: "true"
`,
      });

    it('SIGTERM stops like Ctrl-C: the remote commands end, the recap is printed, exit 143', async () => {
      const p = sleeper('77.301');
      const run = startCli(['run', p.playbook, '-i', p.inventory]);
      await run.waitFor(/^TASK \[long\]/);
      expect(await waitForProcessCount('sleep 77.301', 2, 10_000), 'both remote commands started').to.equal(2);
      const r = await interrupt(run, 'SIGTERM', 143, 5000);
      expect(r.stderr).to.include('interrupt (SIGTERM): finishing running commands');
      expect(r.stdout).to.match(/PLAY RECAP\n/);
      expect(r.stdout).to.match(/asroot +: /);
      expect(r.stdout).to.match(/viasudo +: /);
      expect(r.stdout).to.include('interrupted by SIGTERM: no new task was started');
      expect(r.stdout).not.to.include('Ctrl-C');
      expect(r.stdout).not.to.include('TASK [never started]');
      expect(await waitForNoProcessMentioning('sleep 77.301', 2000), 'remote commands still running').to.deep.equal([]);
    });

    it('a closed stdout (--json | head -1) ends the run quietly like an interrupt: no stack trace, remote commands gone', async () => {
      // The closed pipe is noticed at the next write: the result of host "quick", 1 s in.
      const p = sleeper('77.302', { quick: sshVars(server, { secs: 1 }) });
      const run = startCli(['run', p.playbook, '-i', p.inventory, '--json']);
      await run.waitFor(/"type":"task:start"/);
      expect(await waitForProcessCount('sleep 77.302', 2, 10_000), 'both remote commands started').to.equal(2);
      run.child.stdout!.destroy(); // what `head -1` does once it has its line
      const r = await run.done;
      expect(r.ms, 'stopped at the next write, not after sleep 77').to.be.below(20_000);
      expect(r.stderr).not.to.match(/Unhandled|EPIPE|\n\s+at /);
      expect(r.code, r.stderr).to.equal(141);
      expect(await waitForNoProcessMentioning('sleep 77.302', 2000), 'remote commands still running').to.deep.equal([]);
    });
  });

  it('become: true writes a root-owned file through NOPASSWD sudo; without become the same write fails (exit 2)', async () => {
    const rootDir = mkdtempSync(join(tmpdir(), 'tsplay-it-root-'));
    suite.removeLater(rootDir);
    chmodSync(rootDir, 0o755); // root's, so tsplay-t1 cannot write here by itself
    const play = (become: boolean) => `
- hosts: all
  gather_facts: false
  tasks:
    - name: whoami
      command: id -un
      register: who
      become: ${become}
    - name: root file
      copy: { dest: "${rootDir}/${become ? 'as-root' : 'as-user'}", content: "written by {{ who.stdout }}\\n", mode: "0600" }
      become: ${become}
    - name: not reached after a failure
      command: "true"
`;
    const inventory = inventoryYaml({ web1: sshVars(server) });
    const ok = await runLib(project({ playbook: play(true), inventory }));
    expect(ok.summary.hosts.web1).to.include({ changed: 3, failed: 0 });
    const st = statSync(join(rootDir, 'as-root'));
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o777 }).to.deep.equal({ uid: 0, gid: 0, mode: 0o600 });
    expect(readFileSync(join(rootDir, 'as-root'), 'utf8')).to.equal('written by root\n');

    const denied = project({ playbook: play(false), inventory });
    const r = await runCli(['run', denied.playbook, '-i', denied.inventory]);
    expect(r.code, r.stdout + r.stderr).to.equal(2);
    expect(r.stdout).to.match(/failed: \[web1\]/);
    expect(r.stdout).to.match(/Permission denied/);
    expect(r.stdout).to.match(/web1 +: ok=0 +changed=1 +unreachable=0 +failed=1/);
    expect(r.stdout).not.to.include('TASK [not reached after a failure]');
    expect(readdirSync(rootDir)).to.deep.equal(['as-root']);
  });

  it('a validation error exits 1 with file:line:col and contacts no host', async () => {
    const dir = target();
    const p = project({
      inventory: inventoryYaml({ web1: sshVars(server) }),
      playbook: `
- hosts: all
  gather_facts: false
  tasks:
    - name: fine
      copy: { dest: "${dir}/a", content: "a\\n" }
    - name: typo
      copy: { dest: "${dir}/b", contnet: "b\\n" }
`,
    });
    const seen = connectionsSeen(server);
    const r = await runCli(['run', p.playbook, '-i', p.inventory]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(new RegExp(`^${escapeRe(p.playbook)}:8:\\d+: error: copy: unknown parameter "contnet"; did you mean "content"\\?$`, 'm'));
    expect(r.stdout).not.to.include('PLAY');
    expect(r.stderr).not.to.match(/\n\s+at /, 'no stack trace');
    await sleep(100);
    expect(connectionsSeen(server)).to.equal(seen);
    expect(readdirSync(dir)).to.deep.equal([]);
  });
});

/** Sends `signal` to a running tsplay and checks its exit code and that it stopped within `ms`. */
async function interrupt(run: CliRun, signal: NodeJS.Signals, code: number, ms: number): Promise<CliResult> {
  const at = Date.now();
  run.child.kill(signal);
  const r = await run.done;
  expect(r.code, r.stdout + r.stderr).to.equal(code);
  expect(Date.now() - at, 'stops without waiting for the remote command').to.be.below(ms);
  return r;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
