/**
 * `pip`: Python packages in a virtualenv (created with `python3 -m venv` when missing) or for a
 * given pip. What would change is read, not guessed: `pip install --dry-run --report` with the
 * task's own arguments says which packages an install would add or upgrade (so specifiers,
 * requirements files, `latest` and `--no-index --find-links` are exact), `pip list` which are
 * there to remove. Check mode therefore reports what a run would do.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type Plan, type Step } from '../../core/module.js';
import { quote, raw, sh } from '../../core/quote.js';
import { normName, pipState, type PipPackage, type PipQuery, type PipStateFact } from '../../facts/pip.js';

const params = z
  .object({
    name: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
      .refine((v) => v.every((n) => n.trim() !== '' && !n.trim().startsWith('-')), { message: 'a package name cannot be empty or start with "-" (options go in extra_args)' })
      .describe('Package names, with version specifiers if wanted ("requests", "flask>=2,<3", "pkg[extra]==1.2")'),
    version: z.string().optional().describe('Version of the single package in name (name==version)'),
    requirements: z.string().optional().describe('A requirements file on the host (relative to chdir)'),
    virtualenv: z.string().optional().describe('The virtualenv to install into; created with virtualenv_command when it does not exist'),
    virtualenv_command: z.string().default('python3 -m venv').describe('Command that creates the virtualenv, given its path (tsplay\'s default is python3 -m venv; Ansible\'s is virtualenv)'),
    virtualenv_python: z.string().optional().describe('The Python the virtualenv is made with: "PYTHON -m venv" for the venv command, "-p PYTHON" for virtualenv'),
    virtualenv_site_packages: z.boolean().default(false).describe('The virtualenv sees the system\'s site-packages'),
    state: z.enum(['present', 'absent', 'latest', 'forcereinstall']).default('present').describe('present: installed (specifiers satisfied); latest: upgraded to the newest the index offers; forcereinstall: reinstalled on every run; absent: uninstalled'),
    extra_args: z.string().optional().describe('More pip arguments, e.g. "--no-index --find-links /srv/wheels"'),
    executable: z.string().optional().describe('The pip to run (e.g. pip3.11, /usr/local/bin/pip) when there is no virtualenv; default python3 -m pip'),
    chdir: z.string().optional().describe('Folder to run pip in'),
    editable: z.boolean().default(false).describe('Install in editable mode (pip install -e)'),
    umask: z.string().regex(/^0?[0-7]{3}$/, { message: 'umask is an octal string like "0022"' }).optional().describe('umask while pip runs'),
  })
  .refine((p) => p.name.length > 0 || p.requirements, { message: 'give name or requirements', path: ['name'] })
  .refine((p) => !(p.virtualenv && p.executable), { message: 'virtualenv and executable are mutually exclusive', path: ['executable'] })
  .refine((p) => !p.version || p.name.length === 1, { message: 'version needs exactly one name', path: ['version'] });

type Params = z.output<typeof params>;
type Facts = { pip: PipStateFact };

const output = z.object({
  cmd: z.string().describe('The pip command run (or that would run)'),
  name: z.array(z.string()).describe('The names given'),
  requirements: z.string().nullable().describe('The requirements file'),
  version: z.string().nullable().describe('The version given'),
  virtualenv: z.string().nullable().describe('The virtualenv'),
  state: z.string().describe('The state asked for'),
  changes: z.array(z.string()).describe('Packages installed, upgraded or removed, as NAME==VERSION (from the dry run; empty when the virtualenv was created)'),
});

/** Splits extra_args like a shell would for plain words and quotes (no expansions). */
export function splitArgs(s: string | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const m of s.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

const specs = (p: Params) => (p.version ? [`${p.name[0]!.trim()}==${p.version}`] : p.name.map((n) => n.trim()));
/** The bare name of a requirement spec: "Flask[async]>=2" -> "flask". */
export const specName = (spec: string) => normName(/^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(spec.trim())?.[0] ?? spec);

function pipCommand(p: Params): string {
  if (p.virtualenv) return sh`${`${p.virtualenv}/bin/pip`}`;
  return p.executable ? quote(p.executable) : 'python3 -m pip';
}

/** The install arguments, for both the dry run and the real run. */
function installArgs(p: Params): string[] {
  const a: string[] = [];
  if (p.state === 'latest') a.push('--upgrade');
  if (p.state === 'forcereinstall') a.push('--upgrade', '--force-reinstall');
  a.push(...splitArgs(p.extra_args));
  if (p.requirements) a.push('-r', p.requirements);
  const s = specs(p);
  if (s.length) a.push(...(p.editable ? s.flatMap((x) => ['-e', x]) : ['--', ...s]));
  return a;
}

function query(p: Params): PipQuery {
  const q: PipQuery = { pip: pipCommand(p) };
  if (p.virtualenv) q.venv = p.virtualenv;
  if (p.chdir) q.chdir = p.chdir;
  if (p.state !== 'absent') q.install = installArgs(p);
  return q;
}

function prefix(p: Params): string {
  return [p.chdir ? sh`cd ${p.chdir} && ` : '', p.umask ? sh`umask ${p.umask} && ` : ''].join('');
}

function venvStep(p: Params): Step {
  const words = splitArgs(p.virtualenv_command);
  const isVenv = words.includes('venv') && words.includes('-m');
  let cmd: string;
  if (isVenv) {
    const python = p.virtualenv_python ?? words[0]!;
    cmd = sh`${python} ${raw(words.slice(1).map((w) => quote(w)).join(' '))}`;
  } else {
    cmd = words.map((w) => quote(w)).join(' ') + (p.virtualenv_python ? sh` -p ${p.virtualenv_python}` : '');
  }
  if (p.virtualenv_site_packages) cmd += ' --system-site-packages';
  return { kind: 'exec', cmd: `${prefix(p)}${cmd} ${sh`${p.virtualenv!}`}`, description: `create the virtualenv ${p.virtualenv}` };
}

const show = (pkgs: PipPackage[]) => pkgs.map((x) => `${x.name}==${x.version}`);

export default defineModule<typeof params, Facts>({
  name: 'pip',
  summary: 'Install, upgrade or remove Python packages with pip, in a virtualenv or for a given pip.',
  description:
    'Ansible\'s pip: name (with specifiers), version, requirements, virtualenv, state present/latest/forcereinstall/absent, extra_args, executable, chdir. ' +
    'Whether anything changes is read on the host before acting, with pip\'s own resolver: `pip install --dry-run --report -` with the task\'s arguments ' +
    '(pip 22.2 or newer; Debian 12 has 23.0) says what an install would add or upgrade, `pip list` what is there to remove; a dry run that fails (no such ' +
    'version, no index) fails the task with pip\'s message before anything changes. Differences from Ansible: virtualenv_command defaults to python3 -m venv ' +
    '(Debian\'s python3-venv) rather than virtualenv; without virtualenv or executable pip runs as python3 -m pip; forcereinstall also upgrades. ' +
    'Without a virtualenv, Debian 12\'s Python refuses installs into the system (PEP 668): use a virtualenv, or extra_args: --break-system-packages.',
  examples: [
    { title: 'An app\'s requirements in a virtualenv', task: { name: 'App dependencies', pip: { requirements: '/opt/app/requirements.txt', virtualenv: '/opt/app/venv' } } },
    {
      title: 'From local wheels only',
      task: { name: 'Offline install', pip: { name: ['mytool>=1.2'], virtualenv: '/opt/mytool', extra_args: '--no-index --find-links /srv/wheels' } },
    },
    { title: 'Remove a package', task: { name: 'No httpie', pip: { name: 'httpie', virtualenv: '/opt/tools', state: 'absent' } } },
  ],
  params,
  output,
  probe: (p) => ({ pip: pipState(query(p)) }),
  plan: (p, f) => planPip(p, f.pip),
});

function planPip(p: Params, f: PipStateFact): Plan {
  const pip = pipCommand(p);
  const base = { name: p.name, requirements: p.requirements ?? null, version: p.version ?? null, virtualenv: p.virtualenv ?? null, state: p.state };
  const what = [...specs(p), ...(p.requirements ? [`-r ${p.requirements}`] : [])].join(', ');

  if (p.state === 'absent') {
    if (!f.venv) return noop(`${what}: the virtualenv ${p.virtualenv} does not exist`, { output: { ...base, cmd: '', changes: [] } });
    if (!f.pip) return failPlan(`pip: ${pip} does not run on this host (is pip installed?)`);
    if (p.requirements) return failPlan('pip: state: absent takes names, not a requirements file');
    const want = new Set(specs(p).map(specName));
    const gone = f.installed.filter((x) => want.has(normName(x.name)));
    const cmd = `${prefix(p)}${pip} uninstall -y --disable-pip-version-check ${sh`${splitArgs(p.extra_args)}`} ${sh`${gone.map((x) => x.name)}`}`.replace(/ {2,}/g, ' ');
    if (!gone.length) return noop(`${[...want].join(', ')} ${want.size > 1 ? 'are' : 'is'} not installed`, { output: { ...base, cmd: '', changes: [] } });
    const key = pipState(query(p)).key;
    return change(gone.map((x) => `uninstall ${x.name} (${x.version})`), [{ kind: 'exec', cmd, description: `pip uninstall ${gone.map((x) => x.name).join(' ')}` }], {
      assume: { [key]: { ...f, installed: f.installed.filter((x) => !gone.includes(x)) } },
      output: { ...base, cmd, changes: show(gone) },
    });
  }

  const install = `${prefix(p)}${pip} install --disable-pip-version-check ${sh`${installArgs(p)}`}`;
  const key = pipState(query(p)).key;
  if (!f.venv) {
    const steps = [venvStep(p), { kind: 'exec' as const, cmd: install, description: `pip install ${what}` }];
    return change([`create the virtualenv ${p.virtualenv}`, `install ${what}`], steps, {
      assume: { [key]: { venv: true, pip: true, installed: [], wouldInstall: [] } },
      output: { ...base, cmd: install, changes: [] },
    });
  }
  if (!f.pip) return failPlan(`pip: ${pip} does not run on this host (is pip installed? for a virtualenv: is python3-venv?)`);
  if (f.error !== undefined) return failPlan(`pip: ${f.error.split('\n').filter(Boolean).slice(-2).join(' ')}`);
  if (f.wouldInstall === null) return failPlan('pip: the dry run of the install was not read');
  const todo = f.wouldInstall;
  if (p.state !== 'forcereinstall' && !todo.length) {
    const reason = p.state === 'latest' ? `${what}: at the newest version the index offers` : `${what}: already installed`;
    return noop(reason, { output: { ...base, cmd: '', changes: [] } });
  }
  const have = new Map(f.installed.map((x) => [normName(x.name), x.version]));
  const changes = todo.length
    ? todo.map((x) => {
        const cur = have.get(normName(x.name));
        return cur === undefined ? `install ${x.name} ${x.version}` : cur === x.version ? `reinstall ${x.name} ${x.version}` : `upgrade ${x.name}: ${cur} -> ${x.version}`;
      })
    : [`reinstall ${what}`];
  const after = new Map(have);
  for (const x of todo) after.set(normName(x.name), x.version);
  return change(changes, [{ kind: 'exec', cmd: install, description: `pip install ${what}` }], {
    assume: { [key]: { venv: true, pip: true, installed: [...after].map(([name, version]) => ({ name, version })), wouldInstall: [] } },
    output: { ...base, cmd: install, changes: show(todo) },
  });
}
