/**
 * `tsplay lab`: disposable Debian hosts as containers on the local Docker engine.
 *
 * labUp reconciles a lab with its spec (idempotent: a second call changes nothing): a network
 * `tsplay-<lab>`, an SSH key pair in the state dir, one container per host (systemd + sshd), the
 * key in root's authorized_keys, then `known_hosts` (each host's own ED25519 key) and an
 * inventory with strict host key checking, and the images a docker host lists (`images:`)
 * copied into its engine from this machine's (no registry). labDown removes all of it.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { didYouMean, UserError } from '../core/errors.js';
import { quote } from '../core/quote.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from './busybox.js';
import { containerName, LABEL, listContainers, networkName, runArgs, type LabContainer } from './container.js';
import { docker, pipe, run, tryRun } from './exec.js';
import { ensureImage, imageId, type ImageFlavor } from './image.js';
import { renderInventory, renderKnownHosts, type LabHostAddress } from './inventory-file.js';
import { formatBytes, phase, skipped, type OnProgress } from './progress.js';
import { normalizeImageRef, type LabSpec } from './spec.js';

export interface LabStateOptions {
  /** Where the key, known_hosts and inventory live (default `.tsplay/lab/<name>`). */
  stateDir?: string;
}

export interface LabUpOptions extends LabStateOptions {
  onProgress?: OnProgress;
}

export interface LabHost {
  name: string;
  ip: string;
  container: string;
  /** Docker container id. */
  id: string;
  flavor: ImageFlavor;
  /** `systemctl is-system-running` once booted: `running` or `degraded`. */
  systemState: string;
}

export interface LabUpResult {
  name: string;
  stateDir: string;
  inventoryPath: string;
  knownHostsPath: string;
  keyPath: string;
  hosts: LabHost[];
  /** Images of the spec's `images:` lists, per host: loaded now, or already there with that id. */
  images: LoadedImage[];
  /** What this call did (`created container tsplay-x-web1`, ...); empty when all was in place. */
  changes: string[];
}

export interface LoadedImage {
  host: string;
  image: string;
  /** The image id on this machine's engine, and now in the host's. */
  id: string;
  /** false: the host already had the image with this id. */
  loaded: boolean;
}

export function defaultStateDir(name: string): string {
  return join('.tsplay', 'lab', name);
}

function statePaths(name: string, stateDir?: string) {
  const dir = resolve(stateDir ?? defaultStateDir(name));
  return {
    dir,
    key: join(dir, 'id_ed25519'),
    pub: join(dir, 'id_ed25519.pub'),
    knownHosts: join(dir, 'known_hosts'),
    inventory: join(dir, 'inventory.yml'),
  };
}

/** Writes `text` unless the file already holds it; returns whether it wrote. */
function writeIfChanged(path: string, text: string, mode = 0o644): boolean {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return false;
  writeFileSync(path, text, { mode });
  return true;
}

async function ensureClientKey(name: string, paths: ReturnType<typeof statePaths>): Promise<boolean> {
  if (existsSync(paths.key) && existsSync(paths.pub)) return false;
  rmSync(paths.key, { force: true });
  rmSync(paths.pub, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `tsplay-lab-${name}`, '-f', paths.key]);
  return true;
}

/** The lab label of network `net` ('' when it has none), or undefined when there is no such network. */
async function networkLab(net: string): Promise<string | undefined> {
  const r = await tryRun('docker', ['network', 'inspect', '--format', `{{index .Labels "${LABEL.lab}"}}`, net]);
  return r.code === 0 ? r.stdout.trim().replace('<no value>', '') : undefined;
}

async function ensureNetwork(name: string): Promise<boolean> {
  const net = networkName(name);
  const owner = await networkLab(net);
  if (owner === name) return false;
  if (owner !== undefined) throw new UserError(`a Docker network named ${net} exists and is not lab "${name}"'s${owner ? ` (it belongs to lab "${owner}")` : ''}: remove it or choose another lab name`);
  await docker(['network', 'create', '--label', `${LABEL.lab}=${name}`, net]);
  return true;
}

/**
 * Run in each host (stdin: the lab's public key): wait until systemd has booted, install the key
 * for root, check sshd, and print the host's ED25519 public key.
 */
const PREPARE_HOST_SCRIPT = `set -eu
key=$(cat)
n=0
while :; do
  state=$(systemctl is-system-running --wait 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  n=$((n + 1))
  if [ "$n" -ge 600 ]; then echo "systemd did not finish booting (state: \${state:-unknown})" >&2; exit 1; fi
  sleep 0.1
done
mkdir -p /root/.ssh
chmod 700 /root/.ssh
if [ "$(cat /root/.ssh/authorized_keys 2>/dev/null || true)" != "$key" ]; then
  printf '%s\\n' "$key" > /root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
  echo "changed=1"
fi
if ! systemctl is-active --quiet ssh; then systemctl status ssh --no-pager >&2 || true; exit 1; fi
echo "state=$state"
echo "hostkey=$(cat /etc/ssh/ssh_host_ed25519_key.pub)"
`;

async function prepareHost(container: string, publicKey: string): Promise<{ hostKey: string; systemState: string; changed: boolean }> {
  const { stdout } = await run('docker', ['exec', '-i', container, 'sh', '-c', PREPARE_HOST_SCRIPT], {
    input: publicKey,
    timeoutMs: 3 * 60_000,
  });
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(stdout)?.[1]?.trim() ?? '';
  const hostKey = field('hostkey');
  if (!hostKey.startsWith('ssh-ed25519 ')) throw new UserError(`${container}: no ED25519 host key found (got "${hostKey}")`);
  return { hostKey, systemState: field('state'), changed: field('changed') === '1' };
}

/** Waits until `ip:22` answers with an SSH banner, from this machine (not via docker exec). */
async function waitForSshBanner(ip: string, container: string, timeoutMs = 90_000): Promise<void> {
  const attempt = () =>
    new Promise<boolean>((done) => {
      const socket = connect({ host: ip, port: 22 });
      let data = '';
      const finish = (ok: boolean) => {
        socket.destroy();
        done(ok);
      };
      // Booting hosts on a loaded machine can take seconds to send the banner: wait for it.
      socket.setTimeout(10_000, () => finish(false));
      socket.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        if (data.includes('\n')) finish(data.startsWith('SSH-'));
      });
      socket.on('error', () => finish(false));
      socket.on('close', () => finish(data.startsWith('SSH-')));
    });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await attempt()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new UserError(
    `cannot reach sshd of ${container} at ${ip}:22 from this machine; the lab needs the controller to reach ` +
      'container addresses on the Docker bridge (a local Linux engine, not Docker Desktop)',
  );
}

/** Brings the lab to its spec. Safe to call again: what is already in place is left alone. */
export async function labUp(spec: LabSpec, opts: LabUpOptions = {}): Promise<LabUpResult> {
  const { onProgress } = opts;
  const paths = statePaths(spec.name, opts.stateDir);
  const changes: string[] = [];

  const flavors = [...new Set<ImageFlavor>(spec.hosts.map((h) => (h.docker ? 'docker' : 'base')))];
  const images = new Map<ImageFlavor, string>();
  for (const flavor of flavors.sort()) images.set(flavor, (await ensureImage({ flavor, onProgress })).tag);
  // Before any host is touched: every listed image must be on this machine's engine.
  const imageIds = await controllerImageIds([...new Set(spec.hosts.flatMap((h) => h.images))], onProgress);

  mkdirSync(paths.dir, { recursive: true });
  const made: string[] = [];
  const keyAndNetwork = async () => {
    if (await ensureClientKey(spec.name, paths)) made.push(`created SSH key ${paths.key}`);
    if (await ensureNetwork(spec.name)) made.push(`created network ${networkName(spec.name)}`);
  };
  if (existsSync(paths.key) && existsSync(paths.pub) && (await networkLab(networkName(spec.name))) === spec.name) {
    skipped(onProgress, 'SSH key and network', `${networkName(spec.name)}`);
  } else await phase(onProgress, 'SSH key and network', keyAndNetwork);
  changes.push(...made);

  const flavorOf = (host: string) => (spec.hosts.find((h) => h.name === host)?.docker ? 'docker' : 'base');
  const existing = new Map<string, LabContainer>();
  for (const c of await listContainers(spec.name)) {
    const wanted = spec.hosts.some((h) => h.name === c.host);
    const current = wanted && c.name === containerName(spec.name, c.host) && c.flavor === flavorOf(c.host) && c.image === images.get(c.flavor);
    if (current) {
      existing.set(c.host, c);
      continue;
    }
    await docker(['rm', '-f', c.id]);
    const why = !wanted ? '' : c.name !== containerName(spec.name, c.host) ? ' (named the old way)' : ' (outdated image or flavor)';
    changes.push(`removed container ${c.name}${why}`);
  }

  const toStart = spec.hosts.filter((h) => existing.get(h.name)?.state !== 'running');
  if (!toStart.length) skipped(onProgress, 'start hosts', `${spec.hosts.length} running`);
  else {
    await phase(onProgress, 'start hosts', async (update) => {
      let n = 0;
      for (const h of toStart) {
        update(`${h.name} (${++n} of ${toStart.length})`);
        const c = existing.get(h.name);
        const flavor = flavorOf(h.name);
        if (!c) {
          await docker(runArgs(spec.name, h.name, flavor, images.get(flavor)!));
          changes.push(`created container ${containerName(spec.name, h.name)}`);
        } else {
          await docker(['start', c.id]);
          changes.push(`started container ${c.name}`);
        }
      }
    });
  }

  const publicKey = readFileSync(paths.pub, 'utf8').trim();
  const prepared = await phase(onProgress, 'boot hosts and install key', (update) => {
    let booted = 0;
    update(`0 of ${spec.hosts.length} booted`);
    return Promise.all(
      spec.hosts.map(async (h) => {
        const p = await prepareHost(containerName(spec.name, h.name), publicKey);
        update(`${++booted} of ${spec.hosts.length} booted`);
        return p;
      }),
    );
  });
  prepared.forEach((p, i) => p.changed && changes.push(`authorized the lab key on ${spec.hosts[i]!.name}`));

  const byHost = new Map((await listContainers(spec.name)).map((c) => [c.host, c]));
  const hosts: LabHost[] = spec.hosts.map((h, i) => {
    const c = byHost.get(h.name);
    if (!c?.ip) throw new UserError(`${containerName(spec.name, h.name)} has no address on ${networkName(spec.name)}`);
    return { name: h.name, ip: c.ip, container: c.name, id: c.id, flavor: c.flavor, systemState: prepared[i]!.systemState };
  });
  await phase(onProgress, 'wait for sshd', (update) => {
    let answering = 0;
    return Promise.all(hosts.map((h) => waitForSshBanner(h.ip, h.container).then(() => update(`${++answering} of ${hosts.length} answering`))));
  });

  // Hosts in parallel, a host's images one after the other.
  const loaded = (
    await Promise.all(
      spec.hosts.map(async (h) => {
        const out: LoadedImage[] = [];
        if (h.images.length) await waitForEngine(containerName(spec.name, h.name), h.name);
        for (const image of h.images) out.push(await copyImage(containerName(spec.name, h.name), h.name, image, imageIds.get(image)!, onProgress));
        return out;
      }),
    )
  ).flat();
  for (const l of loaded) if (l.loaded) changes.push(`loaded ${l.image} into ${l.host}`);

  const addresses: LabHostAddress[] = hosts.map((h, i) => ({ name: h.name, ip: h.ip, hostKey: prepared[i]!.hostKey }));
  if (writeIfChanged(paths.knownHosts, renderKnownHosts(addresses))) changes.push(`wrote ${paths.knownHosts}`);
  const inventory = renderInventory(spec, addresses, { keyPath: paths.key, knownHostsPath: paths.knownHosts });
  if (writeIfChanged(paths.inventory, inventory)) changes.push(`wrote ${paths.inventory}`);

  return {
    name: spec.name,
    stateDir: paths.dir,
    inventoryPath: paths.inventory,
    knownHostsPath: paths.knownHosts,
    keyPath: paths.key,
    hosts,
    images: loaded,
    changes,
  };
}

/** The id of each image on this machine's engine; tsplay/busybox is built when missing. */
async function controllerImageIds(refs: string[], onProgress?: OnProgress): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const missing: string[] = [];
  for (const ref of refs) {
    const id = ref === BUSYBOX_IMAGE ? await ensureBusyboxImage(onProgress) : await imageId(ref);
    if (id) ids.set(ref, id);
    else missing.push(ref);
  }
  if (missing.length) {
    throw new UserError(
      `lab spec: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not on this machine's Docker engine, ` +
        `and lab hosts get images only from there (no registry): build or load ${missing.length > 1 ? 'them' : 'it'} first (docker build, docker load)`,
    );
  }
  return ids;
}

/** Waits until the Docker engine inside a docker-flavor host answers. */
async function waitForEngine(container: string, host: string): Promise<void> {
  const script = 'n=0; until docker info >/dev/null 2>&1; do n=$((n + 1)); [ "$n" -ge 150 ] && { docker info 2>&1 | tail -n 5 >&2; exit 1; }; sleep 0.2; done';
  const r = await tryRun('docker', ['exec', container, 'sh', '-c', script], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new UserError(`the Docker engine in lab host ${host} does not answer (systemctl status docker inside it):\n${r.stderr.trim()}`);
}

/** `docker save | docker exec -i HOST docker load`, unless the host has the image with this id. */
async function copyImage(container: string, host: string, image: string, id: string, onProgress?: OnProgress): Promise<LoadedImage> {
  const step = `load ${image} into ${host}`;
  const inHost = await tryRun('docker', ['exec', container, 'docker', 'image', 'inspect', '--format', '{{.Id}}', image]);
  if (inHost.code === 0 && inHost.stdout.trim() === id) {
    skipped(onProgress, step, `same id ${id.replace(/^sha256:/, '').slice(0, 12)}`);
    return { host, image, id, loaded: false };
  }
  // `docker save` writes about the image's size; its layers are what `docker load` unpacks.
  const info = (await tryRun('docker', ['image', 'inspect', '--format', '{{.Size}} {{len .RootFS.Layers}}', image])).stdout.trim().split(' ').map(Number);
  const [size, layers] = [info[0] || 0, info[1] || 0];
  const of = size ? ` of ~${formatBytes(size)}` : '';
  await phase(onProgress, step, (update) =>
    pipe(
      { cmd: 'docker', args: ['save', image] },
      { cmd: 'docker', args: ['exec', '-i', container, 'docker', 'load'] },
      { onBytes: (n) => update(`${layers ? `${layers} layer${layers === 1 ? '' : 's'}, ` : ''}${formatBytes(n)}${of} sent`) },
    ),
  );
  return { host, image, id, loaded: true };
}

/** Removes the lab's containers, its network and its state files. */
export async function labDown(name: string, opts: LabStateOptions = {}): Promise<{ removed: string[] }> {
  const removed: string[] = [];
  const containers = await listContainers(name);
  if (containers.length) {
    await docker(['rm', '-f', '-v', ...containers.map((c) => c.id)]);
    removed.push(...containers.map((c) => `container ${c.name}`));
  }
  const net = networkName(name);
  // Only the lab's own network (by its label): `tsplay-<name>` may be someone else's.
  if ((await networkLab(net)) === name) {
    await docker(['network', 'rm', net]);
    removed.push(`network ${net}`);
  }
  const paths = statePaths(name, opts.stateDir);
  for (const f of [paths.key, paths.pub, paths.knownHosts, paths.inventory]) {
    if (existsSync(f)) {
      rmSync(f);
      removed.push(`file ${f}`);
    }
  }
  if (existsSync(paths.dir) && readdirSync(paths.dir).length === 0) rmdirSync(paths.dir);
  return { removed };
}

export interface LabStatus {
  name: string;
  hosts: Array<{ name: string; container: string; state: string; ip: string; flavor: ImageFlavor }>;
}

/** Every lab on this engine, from container labels. */
export async function labStatus(): Promise<LabStatus[]> {
  const labs = new Map<string, LabStatus>();
  for (const c of await listContainers()) {
    const lab = labs.get(c.lab) ?? { name: c.lab, hosts: [] };
    lab.hosts.push({ name: c.host, container: c.name, state: c.state, ip: c.ip, flavor: c.flavor });
    labs.set(c.lab, lab);
  }
  const sorted = [...labs.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const lab of sorted) lab.hosts.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  return sorted;
}

/** The running container of `host` in lab `name`, or a UserError saying what exists. */
async function findHost(name: string, host: string): Promise<LabContainer> {
  const containers = await listContainers(name);
  if (!containers.length) {
    const labs = (await labStatus()).map((l) => l.name);
    const dym = didYouMean(name, labs);
    throw new UserError(`no lab named "${name}" is up${dym ? `; did you mean "${dym}"?` : ''}`);
  }
  const c = containers.find((x) => x.host === host);
  if (!c) {
    const names = containers.map((x) => x.host);
    const dym = didYouMean(host, names);
    throw new UserError(`lab "${name}" has no host "${host}"${dym ? `; did you mean "${dym}"?` : `; its hosts: ${names.join(', ')}`}`);
  }
  if (c.state !== 'running' || !c.ip) throw new UserError(`${c.name} is ${c.state}: run \`tsplay lab up\` again`);
  return c;
}

/**
 * The lab a command means: `name` when given; without it the one lab that is up, or a UserError
 * listing the labs when there are several (or saying there is none).
 */
export async function resolveLabName(name: string | undefined, labs?: string[]): Promise<string> {
  if (name) return name;
  const up = labs ?? (await labStatus()).map((l) => l.name);
  if (up.length === 1) return up[0]!;
  if (!up.length) throw new UserError('no lab is up (start one with `tsplay lab up`)');
  throw new UserError(`${up.length} labs are up: ${up.join(', ')}; say which with --name`);
}

/**
 * argv of an SSH session to a lab host, with the lab's key and strict host keys: a login shell,
 * or `command`: one word is a shell command line (`'echo $HOME'`), as with ssh; several words are
 * a command and its arguments, each passed as it is (`sh -c 'exit 3'`), as with docker exec. `tty`: give it a terminal (an
 * interactive use); without, none is asked for, so output and exit code pass through unchanged.
 */
export async function labSshArgs(name: string, host: string, opts: LabStateOptions & { command?: string[]; tty?: boolean } = {}): Promise<string[]> {
  const c = await findHost(name, host);
  const paths = statePaths(name, opts.stateDir);
  if (!existsSync(paths.key)) throw new UserError(`no lab key at ${paths.key} (was the lab brought up with another state dir?)`);
  return [
    'ssh',
    '-i', paths.key,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${paths.knownHosts}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'LogLevel=ERROR',
    opts.tty ? '-t' : '-T',
    `root@${c.ip}`,
    ...(opts.command?.length ? ['--', opts.command.length === 1 ? opts.command[0]! : opts.command.map((w) => quote(w)).join(' ')] : []),
  ];
}

/**
 * Copies `image` from this machine's engine into the engine of a docker-flavor lab host that is
 * up (`docker save | docker exec -i HOST docker load`); a lab spec's `images:` does this on `lab up`. The default image, tsplay/busybox, is built
 * locally first when missing. Returns loaded: false when the host already had that image.
 */
export async function loadImageIntoHost(
  lab: string,
  host: string,
  image: string = BUSYBOX_IMAGE,
  opts: { onProgress?: OnProgress } = {},
): Promise<{ image: string; id: string; loaded: boolean }> {
  const c = await findHost(lab, host);
  if (c.flavor !== 'docker') throw new UserError(`${lab}/${host} has no Docker engine: set \`docker: true\` for it in the lab spec`);
  const ref = normalizeImageRef(image);
  const id = (await controllerImageIds([ref], opts.onProgress)).get(ref)!;
  const r = await copyImage(c.name, host, ref, id, opts.onProgress);
  return { image: r.image, id: r.id, loaded: r.loaded };
}
