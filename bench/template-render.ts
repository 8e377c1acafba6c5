/**
 * Cost of rendering an EJS template: the old way (a function of the controller's realm made
 * by ejs.compile, given every variable resolved) against the sandboxed one (templates.ts).
 *   node --import tsx bench/template-render.ts [renders] [rounds]
 * 200-line templates reading 8 variables (with and without a loop), rendered for a fresh host scope each time (30
 * group_vars, some of them templates); old and new alternate in each round.
 */
import ejs from 'ejs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTemplate } from '../src/playbook/templates.js';
import { Scope } from '../src/vars/scope.js';

const RENDERS = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 5);

/** 200 lines reading 8 variables; `loop` adds a for loop (which needs the watchdog: see analyze.ts analyzeTemplateCode). */
function template(loop: boolean): string {
  const lines: string[] = ['# <%= inventory_hostname %> -- generated, do not edit'];
  while (lines.length < 190) {
    const i = lines.length;
    lines.push(i % 10 === 0 ? `[section_${i}]` : `key_${i} = <%= ${i % 3 ? 'app_port' : 'app_url'} %> <%= vars.motd.length %>`);
  }
  if (loop) lines.push('<% for (const u of users) { %>', 'user <%= u.name %> groups=<%= u.groups.join(",") %>', '<% } %>');
  else lines.push('user <%= users[0].name %> groups=<%= users[0].groups.join(",") %>', 'user <%= users[1].name %>');
  lines.push('<% if (enabled) { %>enabled = yes<% } else { %>enabled = no<% } %>');
  while (lines.length < 200) lines.push(`tail_${lines.length} = <%= packages.join(' ') %>`);
  return lines.join('\n') + '\n';
}

const groupVars: Record<string, unknown> = {
  app_port: 8080,
  app_url: 'http://{{ inventory_hostname }}:{{ app_port }}/',
  motd: 'Welcome to {{ inventory_hostname }}\n',
  packages: ['nginx', 'curl', '{{ extra_pkg }}'],
  extra_pkg: 'jq',
  enabled: true,
  users: [{ name: 'alice', groups: ['adm', 'sudo'] }, { name: 'bob', groups: [] }],
};
for (let i = 0; i < 23; i++) groupVars[`unused_${i}`] = i % 2 ? `{{ app_port + ${i} }}` : `v${i}`;

let host = 0;
const scope = () =>
  new Scope([
    { label: 'group_vars/all.yml', kind: 'template', vars: groupVars },
    { label: 'magic', kind: 'data', vars: { inventory_hostname: `web${host++ % 100}` } },
  ]);

const verbatim = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const dir = mkdtempSync(join(tmpdir(), 'tsplay-bench-'));

async function time(fn: (s: Scope) => Promise<string>): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < RENDERS; i++) await fn(scope());
  return ((performance.now() - t) * 1000) / RENDERS;
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => `median ${median(xs).toFixed(0)} µs (rounds: ${xs.map((x) => x.toFixed(0)).join(', ')})`;

console.log(`200-line templates, ${RENDERS} renders x ${ROUNDS} rounds, a fresh host scope each render, old and new alternating`);
for (const loop of process.env.LOOP === "0" ? [false] : [true, false]) {
  const text = template(loop);
  /** templates.ts before the sandbox: compiled once in the controller's realm, async. */
  const oldFn = ejs.compile(text, { async: true, strict: false, _with: true, rmWhitespace: false, escape: verbatim });
  /** What task.ts did: every variable resolved into a plain object, then the function. */
  const oldRender = (s: Scope) => {
    const vars = s.toObject();
    return oldFn({ ...vars, vars });
  };
  const file = join(dir, `app-${loop}.conf.ejs`);
  writeFileSync(file, text);
  const newRender = (s: Scope) => renderTemplate(file, s);

  const a = await oldRender(scope());
  const b = await newRender(scope());
  if (a.replace(/web\d+/g, '') !== b.replace(/web\d+/g, '')) throw new Error('old and new render differently');
  for (let i = 0; i < 100; i++) {
    await oldRender(scope());
    await newRender(scope());
  }
  const olds: number[] = [];
  const news: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    olds.push(await time(oldRender));
    news.push(await time(newRender));
  }
  console.log(loop ? 'with a for loop (rendered under the watchdog):' : 'without loops (known to finish quickly, no watchdog):');
  console.log(`  old (controller realm, every variable resolved): ${fmt(olds)}`);
  console.log(`  new (sandbox, variables read lazily):            ${fmt(news)}`);
}
rmSync(dir, { recursive: true, force: true });
