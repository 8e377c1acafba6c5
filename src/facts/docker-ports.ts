/**
 * `dockerPorts()`: the running containers of the host's Docker engine with what they publish
 * (key `docker:ports`): name, compose project and service (compose's labels), network mode
 * (`host` means every port the process listens on is on the host), main process id, and every
 * container port with its host bindings (`NetworkSettings.Ports`; a port that is exposed but
 * not published has no binding). One `docker inspect` line per container, as JSON:
 *
 *   {"id":"4f2c...","name":"/stack_web_1","labels":{...},"mode":"stack_front","pid":812,"image":"tsplay/busybox:1","ports":{"8080/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}}
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { outputLines } from './util.js';

export interface DockerBinding {
  /** As Docker reports it: `0.0.0.0`, `::`, `127.0.0.1`, '' (all addresses). */
  hostIp: string;
  hostPort: number;
}

export interface DockerContainerPorts {
  id: string;
  /** Without the leading slash. */
  name: string;
  image: string;
  /** com.docker.compose.project / com.docker.compose.service, when compose made it. */
  project?: string;
  service?: string;
  /** HostConfig.NetworkMode: `default`, `bridge`, `host`, `none`, `PROJECT_net`, `container:ID`. */
  networkMode: string;
  /** The container's main process on the host (0 when unknown). */
  pid: number;
  /** Container port, protocol and host bindings ([] when exposed but not published). */
  ports: Array<{ port: number; proto: string; bindings: DockerBinding[] }>;
}

export type DockerPortsFact = { state: 'missing' } | { state: 'error'; error: string } | { state: 'ok'; containers: DockerContainerPorts[] };

export const dockerPortsKey = (): string => 'docker:ports';

const FORMAT =
  '{"id":{{json .Id}},"name":{{json .Name}},"image":{{json .Config.Image}},"labels":{{json .Config.Labels}},' +
  '"mode":{{json .HostConfig.NetworkMode}},"pid":{{.State.Pid}},"ports":{{json .NetworkSettings.Ports}}}';

const COMMAND = [
  'if ! command -v docker >/dev/null 2>&1; then echo docker:missing',
  'elif ! ids=$(docker ps -q 2>&1); then echo docker:error; printf \'%s\\n\' "$ids" | tail -n 3',
  `else echo docker:ok; if [ -n "$ids" ]; then docker inspect --format '${FORMAT}' $ids; fi; fi`,
].join('; ');

export function dockerPorts(): Fact<DockerPortsFact> {
  return fact(dockerPortsKey(), COMMAND, parseDockerPorts);
}

type Raw = { id?: unknown; name?: unknown; image?: unknown; labels?: unknown; mode?: unknown; pid?: unknown; ports?: unknown };

export function parseDockerPorts(out: ExecResult): DockerPortsFact {
  const lines = outputLines(out);
  const head = lines[0];
  if (head === 'docker:missing') return { state: 'missing' };
  if (head === 'docker:error') return { state: 'error', error: lines.slice(1).join(' | ').trim() || `exit code ${out.code}` };
  if (head !== 'docker:ok') return { state: 'error', error: (out.stderr.trim().split('\n').pop() ?? '') || `unexpected output: ${head ?? '(none)'}` };
  const containers: DockerContainerPorts[] = [];
  for (const line of lines.slice(1)) {
    if (!line.startsWith('{')) continue; // a container that went away between ps and inspect: "Error: No such object" goes to stderr
    let raw: Raw;
    try {
      raw = JSON.parse(line) as Raw;
    } catch {
      return { state: 'error', error: `unreadable docker inspect line: ${line.slice(0, 120)}` };
    }
    const labels = (raw.labels && typeof raw.labels === 'object' ? raw.labels : {}) as Record<string, string>;
    const ports: DockerContainerPorts['ports'] = [];
    for (const [key, binds] of Object.entries((raw.ports ?? {}) as Record<string, unknown>)) {
      const m = /^(\d+)\/(\w+)$/.exec(key);
      if (!m) continue;
      const bindings = (Array.isArray(binds) ? binds : []).flatMap((b: { HostIp?: unknown; HostPort?: unknown }) =>
        /^\d+$/.test(String(b?.HostPort ?? '')) ? [{ hostIp: typeof b.HostIp === 'string' ? b.HostIp : '', hostPort: Number(b.HostPort) }] : [],
      );
      ports.push({ port: Number(m[1]), proto: m[2]!, bindings });
    }
    ports.sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
    containers.push({
      id: String(raw.id ?? ''),
      name: String(raw.name ?? '').replace(/^\//, ''),
      image: String(raw.image ?? ''),
      ...(labels['com.docker.compose.project'] ? { project: labels['com.docker.compose.project'] } : {}),
      ...(labels['com.docker.compose.service'] ? { service: labels['com.docker.compose.service'] } : {}),
      networkMode: String(raw.mode ?? ''),
      pid: typeof raw.pid === 'number' ? raw.pid : 0,
      ports,
    });
  }
  containers.sort((a, b) => a.name.localeCompare(b.name));
  return { state: 'ok', containers };
}
