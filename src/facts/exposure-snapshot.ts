/**
 * `exposureSnapshot()`: what `tsplay audit` reads on a host, in one exec (key
 * `audit:snapshot`): the listening sockets (listening.ts), Docker's published ports
 * (docker-ports.ts), ufw's configuration (ufw.ts), the INPUT and DOCKER-USER chains
 * (iptables.ts) and the INPUT chain's policy. Each part is the existing fact's own command,
 * run in a subshell after a `@@tsplay-audit:NAME` line, followed by `@@tsplay-audit-rc:NAME
 * CODE`; the parser hands each part's output to that fact's parser. Read-only.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { dockerPorts, type DockerPortsFact } from './docker-ports.js';
import { iptablesChain, type IptablesChainFact } from './iptables.js';
import { listeningSockets, type ListeningSocketsFact } from './listening.js';
import { ufwState, type UfwStateFact } from './ufw.js';
import { factFailed } from './util.js';

export interface ExposureSnapshotFact {
  listening: ListeningSocketsFact;
  docker: DockerPortsFact;
  ufw: UfwStateFact;
  input: IptablesChainFact;
  dockerUser: IptablesChainFact;
  /** INPUT's default policy (`ACCEPT`, `DROP`), '' when it could not be read. */
  inputPolicy: string;
}

const inputPolicy: Fact<string> = fact(
  'iptables:policy:INPUT',
  'PATH="$PATH:/usr/sbin:/sbin"; iptables -w -S INPUT 2>/dev/null | sed -n "s/^-P INPUT //p"',
  (out) => out.stdout.trim(),
);

const PARTS = {
  listening: listeningSockets(),
  docker: dockerPorts(),
  ufw: ufwState(),
  input: iptablesChain('INPUT'),
  dockerUser: iptablesChain('DOCKER-USER'),
  inputPolicy,
} satisfies Record<keyof ExposureSnapshotFact, Fact>;

const COMMAND = Object.entries(PARTS)
  .map(([name, f]) => `echo '@@tsplay-audit:${name}'; ( ${f.command}\n) </dev/null; printf '\\n@@tsplay-audit-rc:${name} %d\\n' $?`)
  .join('\n');

export const exposureSnapshotKey = (): string => 'audit:snapshot';

export function exposureSnapshot(): Fact<ExposureSnapshotFact> {
  return fact(exposureSnapshotKey(), COMMAND, parseExposureSnapshot);
}

export function parseExposureSnapshot(out: ExecResult): ExposureSnapshotFact {
  const parts = new Map<string, { lines: string[]; code: number }>();
  let current: { lines: string[]; code: number } | undefined;
  for (const line of out.stdout.replace(/\r\n/g, '\n').split('\n')) {
    const start = /^@@tsplay-audit:(\w+)$/.exec(line);
    const end = /^@@tsplay-audit-rc:(\w+) (\d+)$/.exec(line);
    if (start) parts.set(start[1]!, (current = { lines: [], code: 0 }));
    else if (end && current) {
      current.code = Number(end[2]);
      current = undefined;
    } else current?.lines.push(line);
  }
  const result: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(PARTS)) {
    const p = parts.get(name);
    if (!p) throw factFailed(`the exposure snapshot (no "${name}" part in the output)`, out);
    result[name] = f.parse({ stdout: p.lines.length ? p.lines.join('\n') + '\n' : '', stderr: out.stderr, code: p.code });
  }
  return result as unknown as ExposureSnapshotFact;
}
