/**
 * `package`: the package manager-neutral front of Ansible roles. On hosts whose package manager
 * is apt it is the `apt` module itself (composed: same facts, plan, check-mode assumptions);
 * anywhere else it fails with the name of the manager it found, before changing anything.
 */
import { z } from 'zod';
import { defineModule, failPlan, fact, type Fact, type Plan } from '../../core/module.js';
import { packageManager, type PackageManagerFact } from '../../facts/package-manager.js';
import { part, planPart, probePart } from '../lib/compose.js';
import apt from './apt.js';

const params = z.object({
  name: z
    .union([z.string(), z.array(z.string()).min(1, 'give at least one package name')])
    .describe('Package name or list of names, as the host\'s package manager spells them; "name=version" pins a version (apt)'),
  state: z.enum(['present', 'absent', 'latest']).default('present').describe('present: installed; latest: installed at the newest available version; absent: removed'),
  use: z
    .enum(['auto', 'apt'])
    .default('auto')
    .describe('auto: the package manager found on the host; apt: require apt. tsplay drives apt only, other managers are reported as an error'),
});

type Params = z.output<typeof params>;
type Facts = Record<string, unknown> & { pkg_mgr: PackageManagerFact };

const aptPart = (p: Params) => part(apt, { name: p.name, state: p.state });

/** An apt fact that reads null instead of failing on a host without dpkg (the plan then names the manager). */
function onlyWithDpkg<T>(f: Fact<T>): Fact<T | null> {
  const command = `if command -v dpkg-query >/dev/null 2>&1; then ${f.command}\nelse echo tsplay-no-dpkg; fi`;
  return fact(f.key, command, (out) => (out.stdout.startsWith('tsplay-no-dpkg') ? null : f.parse(out)));
}

export default defineModule<typeof params, Facts>({
  name: 'package',
  summary: 'Install, upgrade or remove packages with the host\'s package manager (apt).',
  description:
    'Ansible\'s generic package module. On apt hosts it runs the apt module with the same name and state (see `tsplay doc apt`); ' +
    'tsplay does not drive dnf, yum, zypper, pacman or apk yet: on such a host the task fails, naming the manager, and changes nothing. ' +
    'For a cache update or apt-only options use the apt module.',
  examples: [
    { title: 'Install packages', task: { name: 'Tools', package: { name: ['curl', 'rsync'], state: 'present' } } },
    { title: 'Remove a package', task: { name: 'No telnet', package: { name: 'telnet', state: 'absent' } } },
  ],
  params,
  output: apt.output,
  probe: (p) => {
    const facts: Record<string, Fact<unknown>> = { pkg_mgr: packageManager() };
    for (const [key, f] of Object.entries(probePart(aptPart(p)))) facts[key] = onlyWithDpkg(f);
    return facts as never;
  },
  plan: (p, f, ctx): Plan => {
    const mgr = f.pkg_mgr.name;
    if (mgr !== 'apt') {
      return failPlan(
        mgr === null
          ? 'package: no known package manager on this host (looked for apt-get, dnf, yum, zypper, pacman, apk)'
          : `package: this host's package manager is ${mgr}; tsplay's package module drives apt only — use command/shell with ${mgr} for now`,
      );
    }
    return planPart(aptPart(p), f, ctx);
  },
});
