/**
 * Lab hosts as Docker containers: their names, labels and the `docker run` flags that let
 * systemd run as PID 1 (and, for docker-flavor hosts, a nested Docker engine) without
 * --privileged; and listing the containers of a lab back from their labels.
 */
import { docker } from './exec.js';
import type { ImageFlavor } from './image.js';

export const LABEL = {
  lab: 'tsplay.lab',
  host: 'tsplay.host',
  flavor: 'tsplay.flavor',
  image: 'tsplay.image',
} as const;

/**
 * `tsplay-<lab>.<host>`: a dot is in neither a lab name nor a host name (spec.ts), so two labs
 * never map to one container name (with a dash, lab `a` host `b-c` and lab `a-b` host `c` were
 * both `tsplay-a-b-c`). Containers are found by their labels, not their names, so a lab brought
 * up before (`tsplay-<lab>-<host>`) is still listed and taken down; `lab up` replaces its
 * containers with ones of the new name.
 */
export const CONTAINER_SEPARATOR = '.';
export const containerName = (lab: string, host: string) => `tsplay-${lab}${CONTAINER_SEPARATOR}${host}`;
/** The lab and host of a container name, or undefined for a name containerName does not give. */
export function parseContainerName(name: string): { lab: string; host: string } | undefined {
  const m = /^tsplay-([^.]+)\.([^.]+)$/.exec(name);
  return m ? { lab: m[1]!, host: m[2]! } : undefined;
}
/** `tsplay-<lab>`: one per lab, injective as lab names are unique. */
export const networkName = (lab: string) => `tsplay-${lab}`;

/** systemd as PID 1 on this engine (cgroup v1, no --privileged). */
export const SYSTEMD_RUN_FLAGS: readonly string[] = [
  '--cgroupns', 'host',
  '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw',
  '--tmpfs', '/run',
  '--tmpfs', '/run/lock',
  '-e', 'container=docker',
  '--cap-add', 'ALL',
  '--cap-drop', 'SYS_RESOURCE',
  '--security-opt', 'seccomp=unconfined',
  '--security-opt', 'apparmor=unconfined',
  '--stop-signal', 'SIGRTMIN+3',
];

/** Added for hosts that run their own dockerd (vfs storage on a tmpfs). */
export const DOCKER_HOST_RUN_FLAGS: readonly string[] = [
  '--device-cgroup-rule', 'a *:* rwm',
  '--tmpfs', '/var/lib/docker:exec',
];

/** The full `docker run` argv (after `docker`) for one lab host. */
export function runArgs(lab: string, host: string, flavor: ImageFlavor, image: string): string[] {
  return [
    'run', '-d',
    '--name', containerName(lab, host),
    '--hostname', host,
    '--network', networkName(lab),
    '--network-alias', host,
    '--label', `${LABEL.lab}=${lab}`,
    '--label', `${LABEL.host}=${host}`,
    '--label', `${LABEL.flavor}=${flavor}`,
    '--label', `${LABEL.image}=${image}`,
    ...SYSTEMD_RUN_FLAGS,
    ...(flavor === 'docker' ? DOCKER_HOST_RUN_FLAGS : []),
    image,
  ];
}

export interface LabContainer {
  id: string;
  name: string;
  lab: string;
  host: string;
  flavor: ImageFlavor;
  image: string;
  /** Docker's state: running, exited, created, ... */
  state: string;
  /** Address on the lab network (empty when not running). */
  ip: string;
}

interface InspectJson {
  Id: string;
  Name: string;
  Config: { Labels: Record<string, string> | null };
  State: { Status: string };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> | null };
}

/** Containers of lab `lab` (or of every lab), from their labels. */
export async function listContainers(lab?: string): Promise<LabContainer[]> {
  const filter = lab === undefined ? LABEL.lab : `${LABEL.lab}=${lab}`;
  const ids = (await docker(['ps', '-aq', '--no-trunc', '--filter', `label=${filter}`])).split('\n').filter(Boolean);
  if (!ids.length) return [];
  const inspected = JSON.parse(await docker(['inspect', ...ids])) as InspectJson[];
  return inspected.map((c) => {
    const labels = c.Config.Labels ?? {};
    const labName = labels[LABEL.lab] ?? '';
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ''),
      lab: labName,
      host: labels[LABEL.host] ?? '',
      flavor: labels[LABEL.flavor] === 'docker' ? 'docker' : 'base',
      image: labels[LABEL.image] ?? '',
      state: c.State.Status,
      ip: c.NetworkSettings.Networks?.[networkName(labName)]?.IPAddress ?? '',
    };
  });
}
