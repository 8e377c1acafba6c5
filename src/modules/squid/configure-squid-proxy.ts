/**
 * `configure-squid-proxy`: installs squid and writes /etc/squid/squid.conf rendered on the
 * controller (squid-conf.ts). The write is atomic and validated with `squid -k parse` before
 * it replaces the old file, so a broken config never goes live. Only a written config reloads
 * squid (restart instead when a new disk cache needs its swap folders, which `squid -z` cannot
 * create while squid runs); a running squid is reloaded, a stopped one is left stopped.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type ExecStep, type Fact, type Plan, type PlanContext } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { keys } from '../../facts/keys.js';
import { fileContent, sha256, type FileContentFact } from '../../facts/file-content.js';
import { stat, type StatFact } from '../../facts/stat.js';
import { planWrite } from '../lib/write-file.js';
import apt from '../packages/apt.js';
import { PlanBuilder, part, planPart, probePart } from '../lib/compose.js';
import { SQUID_CONF, SQUID_USER, renderSquidConf } from './lib/squid-conf.js';
import { squidParams, type SquidParams } from './lib/squid-params.js';

/** squid's own syntax check, run by the engine on the temp file before the rename. */
export const SQUID_VALIDATE = 'squid -k parse -f %s';

type Facts = Record<string, unknown>;

/** The first swap folder squid -z creates under a ufs cache_dir. */
const swapDir = (dir: string) => `${dir.replace(/\/$/, '')}/00`;

/** Reloads (or restarts) squid only if it is running; decided on the host, after the install. */
export function squidServiceStep(action: 'reload' | 'restart'): ExecStep {
  const systemd = action === 'reload' ? 'systemctl try-reload-or-restart squid.service' : 'systemctl try-restart squid.service';
  const other = action === 'reload' ? 'squid -k reconfigure' : '/etc/init.d/squid restart';
  return {
    kind: 'exec',
    cmd: `if [ -d /run/systemd/system ]; then ${systemd}; elif squid -k check >/dev/null 2>&1; then ${other}; fi`,
    description: `${action} squid if it is running`,
  };
}

/** squid from apt (lists refreshed when older than a day; recommends are not needed). */
const aptSquid = () => part(apt, { name: ['squid'], update_cache: true, cache_valid_time: 86400, install_recommends: false });

function probe(p: SquidParams): Record<string, Fact> {
  const facts: Record<string, Fact> = {
    ...probePart(aptSquid()),
    [keys.stat(SQUID_CONF)]: stat(SQUID_CONF),
    [keys.content(SQUID_CONF)]: fileContent(SQUID_CONF),
  };
  if (p.cache_size_mb > 0) {
    facts[keys.stat(p.cache_dir)] = stat(p.cache_dir);
    facts[keys.stat(swapDir(p.cache_dir))] = stat(swapDir(p.cache_dir));
  }
  return facts;
}

/** Creates the disk cache folder, or gives it to the proxy user. */
function planCacheDir(dir: string, st: StatFact): Plan {
  if (!st.exists) {
    const after: StatFact = { exists: true, type: 'directory', mode: '0750', owner: SQUID_USER, group: SQUID_USER, uid: -1, gid: -1, size: 0 };
    return change(`create cache folder ${dir}`, [{ kind: 'exec', cmd: sh`install -d -o ${SQUID_USER} -g ${SQUID_USER} -m 0750 -- ${dir}` }], {
      assume: { [keys.stat(dir)]: after },
    });
  }
  if (st.type !== 'directory') return failPlan(`cache_dir ${dir} exists and is not a directory`);
  if (st.owner === SQUID_USER) return noop(`${dir} belongs to ${SQUID_USER}`);
  return change(`give cache folder ${dir} to ${SQUID_USER} (was ${st.owner}:${st.group})`, [{ kind: 'exec', cmd: sh`chown ${`${SQUID_USER}:${SQUID_USER}`} -- ${dir}` }], {
    assume: { [keys.stat(dir)]: { ...st, owner: SQUID_USER, group: SQUID_USER } },
  });
}

function plan(p: SquidParams, f: Facts, ctx: PlanContext): Plan {
  const conf = renderSquidConf(p);
  const output = { path: SQUID_CONF, sha256: sha256(conf) };
  const b = new PlanBuilder();
  let failed = b.add(planPart(aptSquid(), f, ctx));

  let newSwapFolders = false;
  if (p.cache_size_mb > 0) {
    failed ??= b.add(planCacheDir(p.cache_dir, f[keys.stat(p.cache_dir)] as StatFact));
    newSwapFolders = !(f[keys.stat(swapDir(p.cache_dir))] as StatFact).exists;
  }

  const write = planWrite(
    { path: SQUID_CONF, content: conf, mode: '0644', owner: 'root', group: 'root', validate: SQUID_VALIDATE },
    { stat: f[keys.stat(SQUID_CONF)] as StatFact, content: f[keys.content(SQUID_CONF)] as FileContentFact },
    ctx,
  );
  failed ??= b.add(write);
  if (failed !== undefined) return failPlan(failed);
  const confWritten = 'changed' in write && write.changed && write.steps.some((s) => s.kind === 'put');
  if (p.reload && confWritten) {
    b.step(
      newSwapFolders ? 'restart squid if it is running (the new disk cache needs its folders)' : 'reload squid if it is running',
      squidServiceStep(newSwapFolders ? 'restart' : 'reload'),
    );
  }
  if (b.empty) return noop(`squid is installed and ${SQUID_CONF} is up to date`, { output });
  return change(b.changes, b.steps, { diffs: b.diffs, assume: b.assume, output });
}

const output = z.object({
  path: z.string().describe('The squid.conf written'),
  sha256: z.string().describe('sha256 of the wanted squid.conf'),
});

export default defineModule<typeof squidParams, Facts>({
  name: 'configure-squid-proxy',
  summary: 'Install squid and render squid.conf: allowed networks, safe ports, denied domains, cache, access log.',
  description:
    'squid.conf is rendered on the controller and written atomically after `squid -k parse` accepted it, so a broken ' +
    'config never replaces a working one. The task is changed only when the package or the file changes; a written ' +
    'config reloads a running squid (reload: false leaves that to a handler: notify works because the task reports ' +
    'changed exactly then). Access rules, in order: unsafe ports, CONNECT to non-SSL ports, cache manager, loopback ' +
    'destinations, denied domains, extra_config, allowed networks, localhost, and `http_access deny all` last.',
  examples: [
    {
      title: 'A proxy for the LAN that blocks two domains',
      task: {
        name: 'Squid for the office',
        'configure-squid-proxy': {
          allowed_networks: ['192.168.165.0/24'],
          listen_address: '192.168.165.1',
          denied_domains: ['facebook.com', 'tiktok.com'],
        },
      },
    },
    {
      title: 'With a 2 GB disk cache, reloaded through a handler',
      task: {
        name: 'Squid with a disk cache',
        'configure-squid-proxy': { allowed_networks: ['10.81.0.0/16'], cache_size_mb: 2048, reload: false },
        notify: 'reload squid',
      },
    },
  ],
  params: squidParams,
  output,
  probe,
  plan,
});
