/**
 * A `!secret` never leaves the process: not in task names (also under no_log), not in diffs
 * (raw, JSON-, HTML-, shell-escaped, base64, line by line), not in expression errors, not in
 * loop labels; in every renderer (terminal, plain, -v, --json) and in the CLI's final error.
 * Drives the real CLI against the local connection.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

/** Has every character an escaper changes: & " < > ' */
const TOKEN = `Zq9&"tok<en>-42'x`;
const MULTI = 'first-secret-line\nsecond-secret-line\n';

/** Every form of the secrets that must not be printed, spelled out by hand (not by the code under test). */
const LEAKS = [
  TOKEN,
  `Zq9&\\"tok<en>-42'x`, // JSON
  'Zq9&amp;&#34;tok&lt;en&gt;-42&#39;x', // HTML, as EJS escapes
  `Zq9&"tok<en>-42'\\''x`, // inside a single-quoted shell word
  Buffer.from(TOKEN).toString('base64'),
  'Zq9&', // a prefix, as a cut-off loop label would show it
  'first-secret-line',
  'second-secret-line',
];

function project(): { dir: string; playbook: string; notify: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-secrets-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'templates', 'page.ejs'), '<p><%= token %></p>\n');
  const vars = `  vars:
    token: !secret ${JSON.stringify(TOKEN)}
    multi: !secret ${JSON.stringify(MULTI)}
    nothing: null
`;
  const playbook = join(dir, 'site.yml');
  writeFileSync(
    playbook,
    `- hosts: localhost
  gather_facts: false
${vars}  tasks:
    - name: "deploy with {{ token }}"
      copy: { dest: ${dir}/config.json, content: "{{ toJson({ token: token }) }}\\n" }
    - name: "hidden {{ token }}"
      copy: { dest: ${dir}/hidden.txt, content: "{{ token }}" }
      no_log: true
    - name: html page
      template: { src: page.ejs, dest: ${dir}/page.html }
    - name: base64
      copy: { dest: ${dir}/token.b64, content: "{{ b64encode(token) }}\\n" }
    - name: indented multi-line secret
      copy: { dest: ${dir}/key.yml, content: "key:\\n{{ multi.split(String.fromCharCode(10)).map(l => '  ' + l).join(String.fromCharCode(10)) }}" }
    - name: shell command
      shell: "echo {{ quote(token) }}; exit 3"
      ignore_errors: true
    - name: failing expression
      debug: { msg: "{{ nothing[token] }}" }
      ignore_errors: true
    - name: long loop label
      debug: { msg: "{{ item.length }}" }
      loop: ["{{ 'a'.repeat(48) + token }}"]
`,
  );
  const notify = join(dir, 'notify.yml');
  writeFileSync(
    notify,
    `- hosts: localhost
  gather_facts: false
${vars}  tasks:
    - name: changes
      copy: { dest: ${dir}/n.txt, content: "x" }
      notify: "{{ nothing[token] }}"
  handlers:
    - name: h
      debug: { msg: hi }
`,
  );
  return { dir, playbook, notify };
}

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function expectNoLeak(text: string): void {
  for (const leak of LEAKS) expect(text, `output shows ${JSON.stringify(leak)}`).to.not.include(leak);
}

describe('secrets in output', function () {
  this.timeout(60000);
  before(function () {
    if (!existsSync(cli)) this.skip();
  });

  it('plain and -v output: names, diffs, commands, errors and labels are masked', () => {
    for (const flags of [[], ['-v']]) {
      const { playbook } = project();
      const r = run([playbook, '--diff', ...flags]);
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.include('TASK [deploy with ********]');
      expect(r.out).to.include('TASK [hidden ********]');
      expect(r.out).to.include('+{"token":"********"}');
      expect(r.out).to.include('+  ********');
      expect(r.out).to.include('expression {{ nothing[token] }} failed');
      expectNoLeak(r.out + r.err);
    }
  });

  it('--json: every event is masked', () => {
    const { playbook } = project();
    const r = run([playbook, '--diff', '--json']);
    expect(r.code, r.err).to.equal(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'task:start').map((e) => e.name)).to.include.members(['deploy with ********', 'hidden ********']);
    expectNoLeak(r.out + r.err);
    expectNoLeak(events.map((e) => JSON.stringify(e, null, 1)).join('\n').replace(/\\\\/g, '\\')); // decoded once more
  });

  it('on a terminal (listr): task rows and details are masked', function () {
    if (spawnSync('script', ['--version']).status !== 0) this.skip();
    const { playbook } = project();
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TERM: 'xterm' };
    delete env.CI;
    const r = spawnSync('script', ['-qec', `stty cols 200 rows 50; node ${cli} run ${playbook} --diff`, '/dev/null'], { encoding: 'utf8', env });
    const out = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(out).to.match(/deploy with \*{8}\s+1 changed \/ 1/);
    expect(out).to.match(/hidden \*{8}\s+1 changed \/ 1/);
    expectNoLeak(out);
  });

  it('an expression error that ends the run names the expression, not the secret', () => {
    const { notify } = project();
    const r = run([notify]);
    expect(r.code).to.equal(1);
    expect(r.err).to.include('nothing[token]');
    expectNoLeak(r.out + r.err);
  });
});
