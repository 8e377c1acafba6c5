/**
 * Cost of evaluating `{{ expressions }}` on the controller.
 *   node --import tsx bench/expr-eval.ts [rounds]
 * Prints the cost per evaluation of typical expressions (plain variables, a fresh scope each
 * time) and the time to render the parameters and conditions of a converged run: 100 hosts x
 * 20 tasks with group_vars templates, a loop and `when:`.
 */
import { evaluate, evaluateCondition, render } from '../src/vars/expr.js';
import { Scope } from '../src/vars/scope.js';

const ROUNDS = Number(process.argv[2] ?? 3);

const vars = {
  inventory_hostname: 'web17', port: 8080, item: 'nginx', enabled: true,
  users: [{ name: 'alice', groups: ['adm'] }, { name: 'bob', groups: [] }],
  groups: { all: Array.from({ length: 100 }, (_, i) => `web${i}`), web: Array.from({ length: 50 }, (_, i) => `web${i}`) },
};
const EXPRS = [
  'item',
  'port + 1',
  "inventory_hostname === 'web17' && enabled",
  'groups.web.length',
  'defaultTo(vars.missing, 80)',
  "users.map(u => u.name).join(',')",
];

function perEval(code: string, n: number): number {
  for (let i = 0; i < 200; i++) evaluate(code, vars); // warm up
  const t = performance.now();
  for (let i = 0; i < n; i++) evaluate(code, vars);
  return ((performance.now() - t) * 1000) / n;
}

function convergedRun(): { ms: number; evals: number } {
  let evals = 0;
  const count = (s: string) => (evals += (s.match(/\{\{/g) ?? []).length);
  const groupVars = {
    app_port: 8080,
    app_url: 'http://{{ inventory_hostname }}:{{ app_port }}/',
    packages: ['nginx', 'curl', '{{ extra_pkg }}'],
    extra_pkg: 'jq',
    motd: 'Welcome to {{ inventory_hostname }} ({{ app_url }})\n',
  };
  const tasks = Array.from({ length: 20 }, (_, i) => ({
    args: { dest: `/etc/app/{{ inventory_hostname }}-${i}.conf`, content: 'url={{ app_url }}\nport={{ app_port }}\n', mode: '0644' },
    when: i % 3 === 0 ? 'app_port > 1024' : i % 3 === 1 ? "packages.includes('nginx')" : undefined,
  }));
  const t = performance.now();
  for (let h = 0; h < 100; h++) {
    const base = new Scope([
      { label: 'group_vars/all.yml', kind: 'template', vars: groupVars },
      { label: 'magic', kind: 'data', vars: { inventory_hostname: `web${h}`, groups: vars.groups } },
    ]);
    for (const task of tasks) {
      const scope = base.child({ label: 'task', kind: 'data', vars: {} });
      if (task.when) {
        evaluateCondition(task.when, scope);
        evals++;
      }
      render(task.args, scope);
      count(task.args.dest);
      count(task.args.content);
    }
    evals += 4; // app_url (2), packages (1), motd is not read
  }
  return { ms: performance.now() - t, evals };
}

for (let r = 0; r < ROUNDS; r++) {
  const cells = EXPRS.map((c) => `${perEval(c, 20000).toFixed(2)} us  ${c}`);
  const run = convergedRun();
  console.log(`round ${r + 1}\n  ${cells.join('\n  ')}\n  converged run, 100 hosts x 20 tasks: ${run.ms.toFixed(1)} ms for ~${run.evals} evaluations`);
}
