/**
 * `apt`: Debian packages present, absent or latest, with an optional cache update.
 * `changed` comes from comparing dpkg's state (facts) with what is wanted, never from apt's
 * output; check mode then assumes the packages' new state for later tasks.
 */
import { z } from 'zod';
import { change, defineModule, noop, type Plan, type Step } from '../../core/module.js';
import { raw, sh } from '../../core/quote.js';
import { debName, keys } from '../../facts/keys.js';
import { aptCacheAge, debPackages, type AptCacheFact, type AptCandidateFact, type DebPackageFact } from '../../facts/deb.js';

const PKG = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?(=[A-Za-z0-9.+:~-]+)?$/;

const params = z
  .object({
    name: z
      .union([z.string(), z.array(z.string())])
      .default([])
      .refine((v) => (Array.isArray(v) ? v : [v]).every((n) => PKG.test(n)), {
        message: 'package names are lower case, like "nginx", "libc6:i386" or "nginx=1.22.1-9"',
      })
      .describe('Package name or list of names; "name=version" pins a version'),
    state: z.enum(['present', 'absent', 'latest']).default('present').describe('present: installed; latest: installed at the candidate version; absent: removed'),
    update_cache: z.boolean().default(false).describe('Run apt-get update first (see cache_valid_time)'),
    cache_valid_time: z.number().int().min(0).optional().describe('With update_cache: only update when the lists are older than this many seconds'),
    purge: z.boolean().default(false).describe('state: absent: also remove configuration files (apt-get purge)'),
    install_recommends: z.boolean().optional().describe('Install recommended packages too; default: what apt is configured to do'),
  })
  .refine((p) => (Array.isArray(p.name) ? p.name.length : 1) > 0 || p.update_cache, { message: 'give name, or update_cache: true', path: ['name'] });

type Params = z.output<typeof params>;
type Facts = Record<string, DebPackageFact | AptCandidateFact | AptCacheFact>;

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300';
const CONF = '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

const names = (p: Params): string[] => (Array.isArray(p.name) ? p.name : [p.name]);
const version = (spec: string): string | undefined => (spec.includes('=') ? spec.slice(spec.indexOf('=') + 1) : undefined);

const output = z.object({
  cache_updated: z.boolean().describe('Whether apt-get update ran'),
  installed: z.array(z.string()).describe('Packages installed or upgraded'),
  removed: z.array(z.string()).describe('Packages removed'),
});

export default defineModule<typeof params, Facts>({
  name: 'apt',
  summary: 'Install, upgrade or remove Debian packages.',
  description:
    'Runs apt-get non-interactively, keeping existing configuration files on upgrades and waiting for the dpkg lock. ' +
    'With update_cache and packages that are already in state (present/absent), the update is skipped: it could change nothing. ' +
    'With state: latest and a cache update, the task reports a change because the new candidates are only known after the update.',
  examples: [
    { title: 'Install packages', task: { name: 'Web server', apt: { name: ['nginx', 'curl'], state: 'present', update_cache: true, cache_valid_time: 3600 } } },
    { title: 'Refresh the lists only', task: { name: 'apt-get update', apt: { update_cache: true, cache_valid_time: 86400 } } },
    { title: 'Remove with configuration', task: { name: 'No telnet', apt: { name: 'telnetd', state: 'absent', purge: true } } },
  ],
  params,
  output,
  probe: (p) => {
    const facts: Record<string, ReturnType<typeof aptCacheAge> | ReturnType<typeof debPackages>[string]> = debPackages(names(p), { candidates: p.state === 'latest' });
    if (p.update_cache) facts[keys.aptCache()] = aptCacheAge();
    return facts as never;
  },
  plan: (p, f) => planApt(p, f),
});

function planApt(p: Params, f: Facts): Plan {
  const pkg = (spec: string) => f[keys.pkg(spec)] as DebPackageFact;
  const cand = (spec: string) => f[keys.aptCandidate(spec)] as AptCandidateFact | undefined;
  const cache = f[keys.aptCache()] as AptCacheFact | undefined;
  const cacheStale =
    p.update_cache && (p.cache_valid_time === undefined || cache?.ageSeconds == null || cache.ageSeconds > p.cache_valid_time);

  const install: string[] = [];
  const remove: string[] = [];
  const changes: string[] = [];
  const assume: Record<string, unknown> = {};
  let downgrade = false;
  for (const spec of names(p)) {
    const name = debName(spec);
    const cur = pkg(spec);
    if (p.state === 'absent') {
      const leftovers = p.purge && cur.status?.endsWith('config-files');
      if (cur.installed || leftovers) {
        remove.push(name);
        changes.push(cur.installed ? `${p.purge ? 'purge' : 'remove'} ${name} (${cur.version})` : `purge the configuration files of ${name}`);
        assume[keys.pkg(name)] = { name, installed: false, ...(p.purge ? {} : { status: 'deinstall ok config-files', version: cur.version }) };
      }
      continue;
    }
    const pinned = version(spec);
    const want = pinned ?? (p.state === 'latest' ? (cand(spec)?.candidate ?? undefined) : undefined);
    if (!cur.installed) {
      install.push(spec);
      changes.push(`install ${name}${want ? ` (${want})` : ''}`);
    } else if (want !== undefined && cur.version !== want) {
      install.push(spec);
      if (pinned) downgrade = true;
      changes.push(`${pinned ? 'change' : 'upgrade'} ${name}: ${cur.version} -> ${want}`);
    } else continue;
    assume[keys.pkg(name)] = { name, installed: true, status: 'install ok installed', ...(want ? { version: want } : {}) };
  }

  const cacheSteps: Step[] = [];
  if (cacheStale) {
    // Touching the lists folder records the update time for cache_valid_time (see aptCacheAge).
    cacheSteps.push({ kind: 'exec', cmd: `${APT} update && touch /var/lib/apt/lists`, description: 'apt-get update' });
    assume[keys.aptCache()] = { ageSeconds: 0 };
  }
  const installCmd = (specs: string[]): Step => {
    const opts = [CONF, recommends(p), downgrade ? '--allow-downgrades' : ''].filter(Boolean).join(' ');
    return { kind: 'exec', cmd: sh`${raw(APT)} ${raw(opts)} install -- ${specs}`, description: `apt-get install ${specs.join(' ')}` };
  };

  if (install.length || remove.length) {
    const steps: Step[] = [...cacheSteps];
    // With state: latest after a cache update, every package may have a newer candidate now.
    if (install.length) steps.push(installCmd(cacheStale && p.state === 'latest' ? names(p) : install));
    if (remove.length) steps.push({ kind: 'exec', cmd: sh`${raw(APT)} ${p.purge ? 'purge' : 'remove'} -- ${remove}`, description: `apt-get ${p.purge ? 'purge' : 'remove'} ${remove.join(' ')}` });
    return change([...(cacheStale ? ['update the apt cache'] : []), ...changes], steps, {
      assume,
      output: { cache_updated: cacheStale, installed: install.map(debName), removed: remove },
    });
  }

  const all = names(p).map(debName);
  const inState = all.length
    ? `${all.join(', ')} ${all.length > 1 ? 'are' : 'is'} ${p.state === 'absent' ? 'not installed' : p.state === 'latest' ? 'at the candidate version' : 'installed'}` +
      (p.state === 'absent' ? '' : ` (${all.map((n) => pkg(n).version).join(', ')})`)
    : '';
  if (cacheStale && (all.length === 0 || p.state === 'latest')) {
    // After an update, new candidates may appear: upgrade them in the same run.
    const steps = [...cacheSteps, ...(all.length ? [installCmd(names(p))] : [])];
    const lines = ['update the apt cache', ...(all.length ? [`upgrade ${all.join(', ')} if the update brings newer versions`] : [])];
    return change(lines, steps, { assume, output: { cache_updated: true, installed: [], removed: [] } });
  }
  const reasons = [inState, p.update_cache ? (cacheStale ? 'cache update skipped: nothing to install' : `apt cache is ${cache?.ageSeconds}s old`) : ''];
  return noop(reasons.filter(Boolean).join('; '), { output: { cache_updated: false, installed: [], removed: [] } });
}

function recommends(p: Params): string {
  if (p.install_recommends === undefined) return '';
  return p.install_recommends ? '--install-recommends' : '--no-install-recommends';
}
