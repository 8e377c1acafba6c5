/** Role resolution (./roles, roles path, npm packages), dependencies, argument specs, project modules. */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import type { IncludeTask, ModuleTask } from '../../src/playbook/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { evaluate } from '../../src/vars/expr.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-roles-'));
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), content);
  }
  return dir;
}

const roleTasks = (t: IncludeTask) => t.tasks.map((x) => (x as ModuleTask).name);

describe('roles', () => {
  it('finds roles beside the playbook, in a roles path, and in npm packages that declare themselves roles', async () => {
    const dir = project({
      'site.yml': '- hosts: localhost\n  roles: [local, shared, nginx]\n',
      'roles/local/tasks/main.yml': '- name: from local\n  debug: {msg: a}\n',
      'elsewhere/shared/tasks/main.yml': '- name: from roles path\n  debug: {msg: b}\n',
      'node_modules/@acme/tsplay-role-nginx/package.json': JSON.stringify({ name: '@acme/tsplay-role-nginx', tsplay: { role: 'nginx' } }),
      'node_modules/@acme/tsplay-role-nginx/tasks/main.yml': '- name: from npm\n  debug: {msg: c}\n',
      'node_modules/not-a-role/package.json': JSON.stringify({ name: 'not-a-role' }),
    });
    const { playbook } = await loadPlaybook(join(dir, 'site.yml'), { rolesPath: [join(dir, 'elsewhere')] });
    const names = playbook.plays[0]!.tasks.map((t) => roleTasks(t as IncludeTask)[0]);
    expect(names).to.deep.equal(['from local', 'from roles path', 'from npm']);
    expect(playbook.plays[0]!.roles.map((r) => r.name)).to.deep.equal(['local', 'shared', 'nginx']);
  });

  it('expands meta dependencies first and runs a role with the same parameters once', async () => {
    const dir = project({
      'site.yml': '- hosts: localhost\n  roles: [app, web]\n',
      'roles/common/tasks/main.yml': '- name: common\n  debug: {msg: c}\n',
      'roles/app/meta/main.yml': 'dependencies: [common]\n',
      'roles/app/tasks/main.yml': '- name: app\n  debug: {msg: a}\n',
      'roles/web/meta/main.yml': 'dependencies: [common]\n',
      'roles/web/tasks/main.yml': '- name: web\n  debug: {msg: w}\n',
    });
    const { playbook } = await loadPlaybook(join(dir, 'site.yml'));
    expect(playbook.plays[0]!.roles.map((r) => r.name)).to.deep.equal(['common', 'app', 'web']);
  });

  it('argument spec: defaults apply, wrong types and missing required arguments are errors', async () => {
    const spec = 'argument_specs:\n  main:\n    options:\n      port: {type: int, default: 80}\n      name: {type: str, required: true}\n      mode: {type: str, choices: [a, b]}\n';
    const ok = project({
      'site.yml': '- hosts: localhost\n  roles:\n    - role: app\n      name: x\n',
      'roles/app/meta/argument_specs.yml': spec,
      'roles/app/tasks/main.yml': '- debug: {msg: "{{ name }}:{{ port }}"}\n',
    });
    const { playbook } = await loadPlaybook(join(ok, 'site.yml'));
    expect(playbook.plays[0]!.roles[0]!.defaults.vars.port).to.equal(80);
    const bad = project({
      'site.yml': '- hosts: localhost\n  roles:\n    - role: app\n      port: eighty\n      mode: c\n',
      'roles/app/meta/argument_specs.yml': spec,
      'roles/app/tasks/main.yml': '- debug: {msg: "{{ name }}"}\n',
    });
    const err = await loadPlaybook(join(bad, 'site.yml')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(UserError);
    const msgs = (err as UserError).diagnostics.map((d) => d.message);
    expect(msgs).to.include('role app: missing required argument "name"');
    expect(msgs.some((m) => m.startsWith('role app: argument "port":'))).to.equal(true);
    expect(msgs.some((m) => m.includes('must be one of: a, b'))).to.equal(true);
  });

  it("argument spec: accepts what Ansible's type checks convert (\"10\" for int, false for str, yes for bool), values unchanged", async () => {
    const spec = 'argument_specs:\n  main:\n    options:\n      rounds: {type: int}\n      show: {type: int}\n      match: {type: str}\n      on: {type: bool}\n      ratio: {type: float}\n';
    const dir = project({
      'site.yml': '- hosts: localhost\n  roles: [app]\n',
      'roles/app/meta/argument_specs.yml': spec,
      'roles/app/defaults/main.yml': 'rounds: "640000"\nshow: true\nmatch: false\n"on": "yes"\nratio: "0.5"\n',
      'roles/app/tasks/main.yml': '- debug: {msg: "{{ rounds }}"}\n',
    });
    const { playbook } = await loadPlaybook(join(dir, 'site.yml'));
    expect(playbook.plays[0]!.roles[0]!.defaults.vars).to.deep.include({ rounds: '640000', show: true, match: false });
    const bad = project({
      'site.yml': '- hosts: localhost\n  roles: [app]\n',
      'roles/app/meta/argument_specs.yml': spec,
      'roles/app/defaults/main.yml': 'rounds: "many"\n"on": "maybe"\n',
      'roles/app/tasks/main.yml': '- debug: {msg: "{{ rounds }}"}\n',
    });
    const err = await loadPlaybook(join(bad, 'site.yml')).then(() => undefined, (e: unknown) => e);
    const msgs = (err as UserError).diagnostics.map((d) => d.message);
    expect(msgs.some((m) => m.startsWith('role app: default of "rounds"'))).to.equal(true);
    expect(msgs.some((m) => m.startsWith('role app: default of "on"'))).to.equal(true);
  });

  it('loads TypeScript modules from modules/ and roles/NAME/modules without a build step', async () => {
    const mod = (name: string) => `import { z, defineModule, noop } from '${join(import.meta.dirname, '..', '..', 'src', 'index.ts')}';
const params: z.ZodObject<{ greeting: z.ZodString }> = z.object({ greeting: z.string().describe('what to say') });
export default defineModule({
  name: '${name}', summary: 'says hello', examples: [{ title: 'hi', task: { ${name}: { greeting: 'hi' } } }],
  params,
  plan: (p: { greeting: string }) => noop(p.greeting),
});
`;
    const dir = project({
      'site.yml': '- hosts: localhost\n  roles: [r]\n  tasks:\n    - project_hello: {greeting: hi}\n    - name: bad param\n      project_hello: {greting: hi}\n',
      'modules/hello.ts': mod('project_hello'),
      'roles/r/modules/rhello.ts': mod('role_hello'),
      'roles/r/tasks/main.yml': '- role_hello: {greeting: hey}\n',
    });
    // Expressions have already run in this process (the sandbox has started) when the
    // project's modules load their own copy of tsplay's expression code.
    expect(evaluate('1 + 1', {})).to.equal(2);
    const err = await loadPlaybook(join(dir, 'site.yml')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the misspelt parameter is caught by the TS module schema').to.be.instanceOf(UserError);
    expect((err as UserError).diagnostics.map((d) => d.message)).to.have.members(['project_hello: unknown parameter "greting"; did you mean "greeting"?', 'project_hello: missing required parameter "greeting"']);
    writeFileSync(join(dir, 'site.yml'), '- hosts: localhost\n  roles: [r]\n  tasks:\n    - project_hello: {greeting: hi}\n');
    const { registry } = await loadPlaybook(join(dir, 'site.yml'));
    expect(registry.origin('project_hello')).to.equal(join(dir, 'modules', 'hello.ts'));
    expect(registry.has('role_hello')).to.equal(true);
  });
});
