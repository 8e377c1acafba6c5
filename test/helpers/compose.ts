/**
 * Inspecting compose projects on a lab host behind the engine's back (docker CLI through
 * `lab.sh`), for the compose-deploy end-to-end suites.
 */
import type { LabRun, SharedLab } from './lab.js';

/** `host: msg` of every failed, not ignored, task result of a run. */
export const failures = (r: LabRun): string[] =>
  r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' && !e.result.ignored ? [`${e.result.host}: ${e.result.msg ?? ''}`] : []));

/** service -> "id startedAt status" of a project's containers (none: {}). */
export async function composeContainers(lab: SharedLab, host: string, project: string): Promise<Record<string, string>> {
  const r = await lab.sh(
    host,
    `ids=$(docker ps -aq --filter label=com.docker.compose.project=${project}); [ -z "$ids" ] || docker inspect --format '{{index .Config.Labels "com.docker.compose.service"}} {{.Id}} {{.State.StartedAt}} {{.State.Status}}' $ids`,
  );
  if (r.code !== 0) throw new Error(`${host}: listing the containers of ${project}: exit ${r.code}\n${r.stderr}`);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [svc, ...rest] = l.split(' ');
        return [svc!, rest.join(' ')];
      }),
  );
}

/** Removes the projects' containers and networks and the given folders (whatever state they are in). */
export async function removeComposeProjects(lab: SharedLab, host: string, projects: string[], dirs: string[]): Promise<void> {
  await lab.sh(
    host,
    `for p in ${projects.join(' ')}; do ids=$(docker ps -aq --filter label=com.docker.compose.project=$p); [ -z "$ids" ] || docker rm -f $ids; ` +
      `nets=$(docker network ls -q --filter label=com.docker.compose.project=$p); [ -z "$nets" ] || docker network rm $nets; done >/dev/null 2>&1; rm -rf ${dirs.join(' ')}; true`,
  );
}
