/**
 * `docker-swarm-init`: makes a node a swarm manager (`present`), a member of a swarm (`join`) or
 * no member (`absent`); parameter names follow Ansible's community.docker.docker_swarm.
 *
 * Everything is decided from state (`docker info`'s Swarm section, the swarm root CA, `docker
 * network inspect`), never from CLI output:
 * - docker_gwbridge, when declared, is created **before** init or join: the only moment its
 *   options can be chosen. One that differs on a node in a swarm means leaving and joining again,
 *   done only with `recreate_gwbridge: true`; otherwise the task fails and names the difference.
 * - A node in a *different* swarm is refused unless `force_leave: true`. "Different" is decided
 *   by the join token itself: it carries the digest of its swarm's root CA
 *   (`SWMTKN-1-<digest>-<secret>`), which is compared with the node's own CA; without a token
 *   (check mode before the manager exists) by the managers the node knows.
 * - Overlay networks (on a manager) are created when missing; one whose options differ is
 *   recreated only with `recreate_networks: true` (recreating disconnects its services).
 *
 * The registered result carries the join tokens as secrets (core/secret.ts `Secret`): a template
 * that reads them, such as a worker's `join_token: "{{ hostvars[groups.managers[0]].swarm.join_tokens.worker }}"`,
 * unwraps them and the engine masks them in every output from then on, like `!secret` values.
 */
import { z } from 'zod';
import { change, defineModule, failPlan, noop, type ExecStep, type PlanContext } from '../../core/module.js';
import { sh } from '../../core/quote.js';
import { secret } from '../../core/secret.js';
import { joinTokenDigest, SWARM_FACT_KEY, swarmNode, type SwarmFact, type SwarmNetwork } from '../../facts/swarm.js';
import { cidr } from '../lib/validators.js';
import {
  assumedGwbridge,
  assumedOverlay,
  createGwbridge,
  createOverlay,
  gwbridgeDiff,
  gwbridgeSchema,
  GWBRIDGE,
  IDENTITY_STEP,
  managerAddr,
  overlayDiff,
  overlaySchema,
  parseIdentity,
  REMOVE_GWBRIDGE,
} from './lib/swarm.js';

/** An address docker swarm accepts: an IP or interface name, optionally with :port. */
const addr = z.string().regex(/^[A-Za-z0-9_.:[\]%-]+$/, 'an IP address or interface name, optionally with :port');

const params = z
  .object({
    state: z.enum(['present', 'join', 'absent']).default('present').describe('present: initialize a swarm, or confirm this node is a manager of its swarm; join: join the swarm at remote_addrs with join_token; absent: leave the swarm'),
    advertise_addr: addr.optional().describe('Address (or interface) advertised to other nodes (--advertise-addr)'),
    listen_addr: addr.optional().describe('Address to listen on for cluster management traffic (--listen-addr, default 0.0.0.0:2377)'),
    data_path_addr: addr.optional().describe('Address (or interface) for data traffic between nodes, to separate it from management traffic (--data-path-addr)'),
    default_addr_pool: z.array(cidr).min(1).optional().describe('Address pools overlay networks take their subnets from (state: present; fixed at init)'),
    subnet_size: z.number().int().min(1).max(32).optional().describe('Prefix length of the subnets taken from default_addr_pool (state: present; fixed at init; Docker\'s default 24)'),
    join_token: z
      .string()
      .regex(/^(SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25})?$/, 'a swarm join token looks like SWMTKN-1-<50 characters>-<25 characters>')
      .optional()
      .describe('Join token (state: join), usually the manager\'s registered join_tokens.worker from earlier in the same run. Secret: never shown. Empty in check mode while the manager is not initialized yet'),
    remote_addrs: z.array(addr).optional().describe('Managers to join (state: join), host or host:port (port 2377 by default); tried in order'),
    force_leave: z.boolean().default(false).describe('A node in another swarm (or a worker where state: present wants a manager) leaves it first; without it such a node is an error'),
    gwbridge: gwbridgeSchema.optional().describe('docker_gwbridge as it must be, created before init or join (the only time it can be set)'),
    recreate_gwbridge: z.boolean().default(false).describe('On a node in a swarm whose docker_gwbridge differs: leave the swarm, recreate docker_gwbridge and init or join again (a manager initializes a NEW swarm)'),
    networks: z.array(overlaySchema).default([]).describe('Overlay networks on the swarm (state: present)'),
    recreate_networks: z.boolean().default(false).describe('Remove and create again an overlay network whose options differ (disconnects the services on it); without it a difference is an error'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.state === 'join') {
      if (p.join_token === undefined) ctx.addIssue({ code: 'custom', message: 'state: join needs join_token (e.g. "{{ hostvars[groups.managers[0]].swarm.join_tokens.worker }}")', path: ['state'] });
      if (p.remote_addrs === undefined) ctx.addIssue({ code: 'custom', message: 'state: join needs remote_addrs (the managers\' addresses)', path: ['state'] });
    }
    if (p.state !== 'present') {
      for (const k of ['networks', 'default_addr_pool', 'subnet_size'] as const) {
        if (k === 'networks' ? p.networks.length > 0 : p[k] !== undefined) ctx.addIssue({ code: 'custom', message: `${k} is only for state: present (a manager)`, path: [k] });
      }
    }
    if (p.subnet_size !== undefined) {
      for (const pool of p.default_addr_pool ?? []) {
        const prefix = Number(pool.split('/')[1] ?? 32);
        if (p.subnet_size < prefix) ctx.addIssue({ code: 'custom', message: `subnet_size ${p.subnet_size} is larger than the pool ${pool}`, path: ['subnet_size'] });
      }
    }
    const seen = new Set<string>();
    p.networks.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: 'custom', message: `network ${n.name} is declared twice`, path: ['networks', i, 'name'] });
      seen.add(n.name);
    });
  });

type Params = z.output<typeof params>;
type Facts = { swarm: SwarmFact };

const output = z.object({
  role: z.enum(['manager', 'worker', 'none']).describe('What the node is after the task'),
  swarm_id: z.string().describe('The swarm\'s id (known on managers; empty on workers)'),
  node_id: z.string().describe('This node\'s id in the swarm'),
  manager_addrs: z.array(z.string()).describe('host:port of the swarm\'s managers as this node knows them'),
  join_tokens: z
    .object({ worker: z.unknown().describe('Worker join token (secret)'), manager: z.unknown().describe('Manager join token (secret)') })
    .describe('On a manager: the join tokens, as secrets (masked in all output). Empty strings on workers and in check mode before the swarm exists'),
  networks: z.array(z.string()).describe('The declared overlay networks'),
});

const managed = (p: Params) => p.networks.map((n) => n.name);

function outputOf(p: Params, o: { manager: boolean; active: boolean; clusterId: string; nodeId: string; managers: string[]; tokens?: { worker: string; manager: string } }) {
  const tok = (t?: string) => (t ? secret(t) : '');
  return {
    role: o.active ? (o.manager ? 'manager' : 'worker') : 'none',
    swarm_id: o.clusterId,
    node_id: o.nodeId,
    manager_addrs: o.managers,
    join_tokens: { worker: tok(o.tokens?.worker), manager: tok(o.tokens?.manager) },
    networks: managed(p),
  };
}

const outputFromFact = (p: Params, f: SwarmFact) =>
  outputOf(p, { manager: f.manager, active: f.state === 'active', clusterId: f.clusterId, nodeId: f.nodeId, managers: f.remoteManagers, tokens: f.tokens });

export default defineModule<typeof params, Facts>({
  name: 'docker-swarm-init',
  summary: 'Initialize, join or leave a Docker Swarm, with a custom docker_gwbridge and (encrypted) overlay networks; join tokens registered as secrets.',
  description:
    'State comes from `docker info` (Swarm section), the swarm root CA and `docker network inspect`: a node already in the swarm is ok. ' +
    'docker_gwbridge is created before init or join when `gwbridge` is given; a node whose docker_gwbridge differs needs `recreate_gwbridge: true` ' +
    '(leave, recreate, join again). A node in a different swarm (decided by the CA digest inside the join token) is an error unless `force_leave: true`. ' +
    'Overlay networks are created on the manager; one whose options differ is recreated only with `recreate_networks: true`. ' +
    'Register the result on the manager: `join_tokens.worker` and `join_tokens.manager` are secrets, masked in all output; workers read them in the same run with ' +
    '`join_token: "{{ hostvars[groups.managers[0]].swarm.join_tokens.worker }}"`. In check mode on fresh hosts the manager reports init and the workers ' +
    '"would join once the manager is initialized".',
  examples: [
    {
      title: 'Manager: custom docker_gwbridge (icc and masquerading off), an encrypted overlay; register the tokens',
      task: {
        name: 'Initialize the swarm',
        'docker-swarm-init': {
          state: 'present',
          advertise_addr: '{{ ansible_host }}',
          default_addr_pool: ['10.90.0.0/16'],
          subnet_size: 24,
          gwbridge: { subnet: '10.81.10.0/24', gateway: '10.81.10.1', enable_icc: false, enable_ip_masquerade: false },
          networks: [{ name: 'backend', encrypted: true, subnet: '10.81.30.0/24', gateway: '10.81.30.2', attachable: true, mtu: 1450, labels: { tier: 'backend' } }],
        },
        register: 'swarm',
        when: "inventory_hostname === groups.managers[0]",
      },
    },
    {
      title: 'Workers, later in the same run: the token registered on the manager (same-run hand-off)',
      task: {
        name: 'Join the swarm',
        'docker-swarm-init': {
          state: 'join',
          advertise_addr: '{{ ansible_host }}',
          join_token: '{{ hostvars[groups.managers[0]].swarm.join_tokens.worker }}',
          remote_addrs: ['{{ hostvars[groups.managers[0]].ansible_host }}:2377'],
          gwbridge: { subnet: '10.81.11.0/24', enable_icc: false, enable_ip_masquerade: false },
        },
      },
    },
    { title: 'Leave the swarm', task: { name: 'Leave', 'docker-swarm-init': { state: 'absent' } } },
  ],
  params,
  output,
  secretParams: ['join_token'],
  probe: () => ({ swarm: swarmNode() }),
  plan: (p, f, ctx) => plan(p, f.swarm, ctx),
  result: (p, f, results) => {
    const id = parseIdentity(results[results.length - 1]?.stdout ?? '');
    if (!id) return {};
    return outputOf(p, { manager: id.manager, active: true, clusterId: id.clusterId, nodeId: id.nodeId, managers: id.managers, tokens: id.tokens });
  },
});

const exec = (cmd: string, description?: string): ExecStep => ({ kind: 'exec', cmd, ...(description ? { description } : {}) });

function swarmArgs(p: Params): string {
  return (
    (p.advertise_addr ? sh` --advertise-addr ${p.advertise_addr}` : '') +
    (p.listen_addr ? sh` --listen-addr ${p.listen_addr}` : '') +
    (p.data_path_addr ? sh` --data-path-addr ${p.data_path_addr}` : '')
  );
}

function initStep(p: Params): ExecStep {
  const pools = (p.default_addr_pool ?? []).map((c) => sh` --default-addr-pool ${c}`).join('');
  const size = p.subnet_size !== undefined ? sh` --default-addr-pool-mask-length ${p.subnet_size}` : '';
  // Its stdout prints the worker token: not kept.
  return exec(`docker swarm init${swarmArgs(p)}${pools}${size} >/dev/null`, `docker swarm init${swarmArgs(p)}${pools}${size}`);
}

function joinStep(p: Params): ExecStep {
  const addrs = (p.remote_addrs ?? []).map(managerAddr);
  const one = (a: string) => `docker swarm join${swarmArgs(p)} --token "$TSPLAY_SWARM_TOKEN" ${sh`${a}`} >/dev/null`;
  // The token goes through stdin, not the command line (no `ps` shows it).
  return {
    kind: 'exec',
    cmd: `read -r TSPLAY_SWARM_TOKEN && { ${addrs.map(one).join(' || ')}; }`,
    stdin: `${p.join_token ?? ''}\n`,
    description: `docker swarm join${swarmArgs(p)} ${addrs.join(' or ')}`,
  };
}

const LEAVE = exec('docker swarm leave --force >/dev/null', 'docker swarm leave --force');

function plan(p: Params, f: SwarmFact, ctx: PlanContext) {
  const fail = (msg: string) => failPlan(`docker-swarm-init: ${msg}`);
  if (!f.docker) return ctx.check ? change('docker-swarm-init (Docker is not installed yet: an earlier task installs it)', []) : fail('Docker is not installed on the host');
  if (!f.daemon) return fail(`dockerd does not answer: ${f.error ?? 'docker info failed'}`);
  if (f.state !== 'inactive' && f.state !== 'active') return fail(`the node's swarm state is ${f.state}${f.swarmError ? ` (${f.swarmError})` : ''}: fix it by hand (docker swarm leave --force) and run again`);
  const active = f.state === 'active';
  const where = active ? `${f.manager ? 'a manager' : 'a worker'} ${f.clusterId ? `of swarm ${f.clusterId}` : `in the swarm with managers ${f.remoteManagers.join(', ') || 'unknown'}`} (node ${f.nodeId})` : '';

  // ---- absent
  if (p.state === 'absent') {
    if (!active) return noop('the node is in no swarm', { output: outputFromFact(p, f) });
    return change(`leave the swarm: ${where}`, [LEAVE], {
      assume: { [SWARM_FACT_KEY]: { ...f, state: 'inactive', manager: false, nodeId: '', clusterId: '', remoteManagers: [], tokens: undefined, networks: [] } },
      output: outputOf(p, { manager: false, active: false, clusterId: '', nodeId: '', managers: [] }),
    });
  }

  const changes: string[] = [];
  const steps: ExecStep[] = [];
  let leave = false;

  // ---- membership: stay, or leave first
  if (active && p.state === 'present' && !f.manager) {
    if (!p.force_leave) return fail(`state: present wants a manager, but this node is ${where}: promote it from a manager (docker node promote), or set force_leave: true to leave and initialize a new swarm`);
    leave = true;
    changes.push(`leave the swarm (force_leave): this node is ${where}`);
  }
  if (active && p.state === 'join') {
    const digest = p.join_token ? joinTokenDigest(p.join_token) : undefined;
    const wanted = (p.remote_addrs ?? []).map(managerAddr);
    const same = digest && f.caDigest ? digest === f.caDigest : wanted.some((a) => f.remoteManagers.includes(a));
    if (!same) {
      const why = digest && f.caDigest ? 'the join token is for a different swarm (its root CA differs)' : `none of its managers is among ${wanted.join(', ')}`;
      if (!p.force_leave) return fail(`this node is already in another swarm: ${where}; ${why}. tsplay does not move a node between swarms silently: run docker swarm leave on it, or set force_leave: true`);
      leave = true;
      changes.push(`leave the other swarm (force_leave): this node is ${where}; ${why}`);
    }
  }

  // ---- docker_gwbridge: before init or join
  let gwDiff: string[] = [];
  if (p.gwbridge) {
    if (!f.gwbridge) {
      changes.push(`create ${GWBRIDGE} (subnet ${p.gwbridge.subnet}, enable_icc ${p.gwbridge.enable_icc}, enable_ip_masquerade ${p.gwbridge.enable_ip_masquerade})`);
    } else {
      gwDiff = gwbridgeDiff(p.gwbridge, f.gwbridge);
      if (gwDiff.length && active && !leave && !p.recreate_gwbridge) {
        return fail(
          `${GWBRIDGE} differs (${gwDiff.join('; ')}); it can only be set before the node is in a swarm, so replacing it means leaving the swarm and ` +
            `${p.state === 'present' ? 'initializing a new one (the workers must join again)' : 'joining again'}: set recreate_gwbridge: true to do that`,
        );
      }
      if (gwDiff.length) {
        if (active && !leave) {
          leave = true;
          changes.push(`leave the swarm to replace ${GWBRIDGE} (recreate_gwbridge): this node is ${where}`);
        }
        changes.push(`replace ${GWBRIDGE} (${gwDiff.join('; ')})`);
      }
    }
  }

  const joinNow = p.state === 'join' && (!active || leave);
  const initNow = p.state === 'present' && (!active || leave);
  if (joinNow && !p.join_token) {
    if (!ctx.check) return fail('join_token is empty: the manager has no swarm yet (register its docker-swarm-init result earlier in the run and read join_tokens.worker)');
    changes.push(`join the swarm at ${(p.remote_addrs ?? []).map(managerAddr).join(', ') || 'the managers'} (would join once the manager is initialized)`);
    return change(changes, [], { output: outputFromFact(p, f) });
  }
  if (joinNow && !(p.remote_addrs ?? []).length) return fail('remote_addrs is empty: give the managers\' addresses');

  if (leave) steps.push(LEAVE);
  if (p.gwbridge && (!f.gwbridge || gwDiff.length)) {
    if (f.gwbridge) steps.push(exec(REMOVE_GWBRIDGE, `docker network rm ${GWBRIDGE}`));
    steps.push(exec(createGwbridge(p.gwbridge)));
  }
  if (initNow) {
    changes.push(`initialize a swarm${p.advertise_addr ? ` advertised at ${p.advertise_addr}` : ''}${p.default_addr_pool ? ` (address pool ${p.default_addr_pool.join(', ')}${p.subnet_size ? `, /${p.subnet_size} subnets` : ''})` : ''}`);
    steps.push(initStep(p));
  }
  if (joinNow) {
    changes.push(`join the swarm at ${(p.remote_addrs ?? []).map(managerAddr).join(', ')}`);
    steps.push(joinStep(p));
  }

  // ---- a manager that stays: settings fixed at init
  if (p.state === 'present' && active && !leave) {
    const diffs: string[] = [];
    if (p.default_addr_pool && f.defaultAddrPool.length && [...p.default_addr_pool].sort().join(',') !== [...f.defaultAddrPool].sort().join(',')) diffs.push(`default_addr_pool is ${f.defaultAddrPool.join(', ')}, want ${p.default_addr_pool.join(', ')}`);
    if (p.subnet_size !== undefined && f.subnetSize !== undefined && p.subnet_size !== f.subnetSize) diffs.push(`subnet_size is ${f.subnetSize}, want ${p.subnet_size}`);
    if (diffs.length) return fail(`the swarm was initialized with other settings (${diffs.join('; ')}); they are fixed at init: change the playbook, or leave and initialize a new swarm`);
  }

  // ---- overlay networks (manager); a new swarm has none
  const existing: SwarmNetwork[] = initNow ? [] : f.networks;
  for (const n of p.networks) {
    const have = existing.find((x) => x.name === n.name);
    if (!have) {
      changes.push(`create overlay network ${n.name}${n.encrypted ? ' (encrypted)' : ''}${n.subnet ? ` ${n.subnet}` : ''}`);
      steps.push(exec(createOverlay(n)));
      continue;
    }
    const d = overlayDiff(n, have);
    if (!d.length) continue;
    if (!p.recreate_networks) return fail(`overlay network ${n.name} differs (${d.join('; ')}); recreating it disconnects the services on it: set recreate_networks: true to remove and create it again`);
    changes.push(`recreate overlay network ${n.name} (${d.join('; ')})`);
    steps.push(exec(sh`docker network rm ${n.name} >/dev/null`), exec(createOverlay(n)));
  }

  if (!changes.length) {
    const what = p.state === 'present' ? `a manager of swarm ${f.clusterId}` : `in the swarm (${f.manager ? 'manager' : 'worker'}, managers ${f.remoteManagers.join(', ')})`;
    return noop(`the node is already ${what}${p.gwbridge ? `; ${GWBRIDGE} is as declared` : ''}${p.networks.length ? `; overlay networks ${managed(p).join(', ')} are as declared` : ''}`, { output: outputFromFact(p, f) });
  }
  const joined = initNow || joinNow;
  if (joined) steps.push(exec(IDENTITY_STEP, 'read the node\'s swarm identity'));
  const after: SwarmFact = {
    ...f,
    state: 'active',
    manager: p.state === 'present' ? true : f.manager && !leave,
    gwbridge: p.gwbridge ? assumedGwbridge(p.gwbridge) : f.gwbridge,
    networks: [...existing.filter((x) => !managed(p).includes(x.name)), ...p.networks.map(assumedOverlay)],
    ...(joined ? { nodeId: '', clusterId: '', tokens: undefined } : {}),
  };
  const out = joined
    ? outputOf(p, { manager: p.state === 'present', active: true, clusterId: '', nodeId: '', managers: p.state === 'present' && p.advertise_addr ? [managerAddr(p.advertise_addr)] : (p.remote_addrs ?? []).map(managerAddr) })
    : outputFromFact(p, f);
  return change(changes, steps, { assume: { [SWARM_FACT_KEY]: after }, output: out });
}

