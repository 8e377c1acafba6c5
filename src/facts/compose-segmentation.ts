/**
 * `composeSegmentation(project, {services, timeout})`: who can connect to whom inside a compose
 * project, measured on the host. Key `compose-segmentation:PROJECT`.
 *
 * 1. The project's containers (label com.docker.compose.project) with `docker inspect`: service,
 *    PID, network mode, and per network its IP address and aliases.
 * 2. What each container listens on, read INSIDE its network namespace with the host's own
 *    `nsenter -t PID -n ss -ltnH` (not from the compose file: a port the file does not mention is
 *    still a port). Loopback listeners (127.0.0.0/8, ::1: Docker's own DNS on 127.0.0.11 among
 *    them) are left out: no other container can reach them.
 * 3. From every running container to every TCP port of every other container: a connect by the
 *    target's service name and one by each of its IP addresses, run in the SOURCE's network
 *    namespace (nsenter -n) with the host's bash (`/dev/tcp`) under `timeout`. Nothing runs
 *    inside the images, so distroless images are probed too; all attempts run in parallel.
 *
 * Name resolution: by a real DNS query to Docker's embedded resolver, 127.0.0.11, from inside the
 * source's network namespace, the way the application would resolve it. `getent` cannot do this
 * (nsenter -n keeps the host's mount namespace, so it reads the host's resolv.conf), and a model
 * built from `docker network inspect` would prove only what Docker was told, not what it
 * answers. The query is a 30-line Perl script (perl-base is Essential on Debian, so it is on every
 * Debian host; no dig, no nslookup needed): one A query, the answer's addresses printed.
 *
 * Output lines (parsed below), fields separated by one space:
 *   ctr ID PID RUNNING NETMODE SERVICE /NAME
 *   net ID NETWORK IP|- [ALIAS...]
 *   listen ID ADDRESS:PORT
 *   probe SRC_ID DST_ID name|ip ADDRESS NETWORK|- PORT open|refused|timeout|unreachable|unresolved|error [RESOLVED_IP]
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { factFailed, outputLines } from './util.js';

export type ProbeResult = 'open' | 'refused' | 'timeout' | 'unreachable' | 'unresolved' | 'error';

export interface SegContainer {
  id: string;
  name: string;
  service: string;
  running: boolean;
  pid: number;
  networkMode: string;
  networks: { name: string; ip: string; aliases: string[] }[];
  /** Non-loopback TCP listeners as ss prints them, e.g. "0.0.0.0:80", "[::]:80". */
  listens: string[];
  /** The ports of `listens`, sorted, unique. */
  ports: number[];
}

export interface SegProbe {
  from: string;
  to: string;
  via: 'name' | 'ip';
  /** The service name tried, or the IP address. */
  address: string;
  /** For an IP: the network the address belongs to. */
  network?: string;
  port: number;
  result: ProbeResult;
  /** For a name: the address it resolved to (absent when unresolved). */
  resolved?: string;
}

export type ComposeSegmentationFact = { docker: false } | { docker: true; containers: SegContainer[]; probes: SegProbe[] };

export const composeSegmentationKey = (project: string): string => `compose-segmentation:${project}`;

/** One A query to 127.0.0.11; prints the answer's IPv4 addresses, exit 1 when there is none. No single quotes (it is passed in '...'). */
const DNS_QUERY = String.raw`
use strict; use IO::Socket::INET;
my ($name, $t) = @ARGV;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.11", PeerPort => 53, Proto => "udp") or exit 2;
my $id = int(rand(65535));
my $q = pack("n6", $id, 0x0100, 1, 0, 0, 0) . join("", map { chr(length($_)) . $_ } split(/\./, $name)) . "\0" . pack("n2", 1, 1);
$s->send($q) or exit 2;
my $rin = ""; vec($rin, fileno($s), 1) = 1;
select(my $rout = $rin, undef, undef, $t) or exit 3;
my $r; defined($s->recv($r, 4096)) or exit 2;
my ($rid, $fl, $qd, $an) = unpack("n4", $r);
exit 1 if ($fl & 15) || $rid != $id;
sub skip { my ($p) = @_; while (1) { my $l = ord(substr($r, $p, 1)); return $p + 1 if $l == 0; return $p + 2 if ($l & 0xc0) == 0xc0; $p += $l + 1; } }
my $p = 12; $p = skip($p) + 4 for 1 .. $qd;
my $n = 0;
for (1 .. $an) {
  $p = skip($p);
  my ($ty, $cl, $ttl, $len) = unpack("n2Nn", substr($r, $p, 10)); $p += 10;
  if ($ty == 1 && $len == 4) { print join(".", unpack("C4", substr($r, $p, 4))), "\n"; $n++; }
  $p += $len;
}
exit($n ? 0 : 1);
`;

/** Turns the inspected containers and their listeners into probe jobs: PID SRC DST KIND ADDRESS NETWORK PORT. */
const JOBS_AWK = String.raw`
BEGIN { n = split(only, o, " "); for (i = 1; i <= n; i++) keep[o[i]] = 1 }
$1 == "ctr" { c[$2] = 1; pid[$2] = $3; run[$2] = $4; mode[$2] = $5; svc[$2] = $6; next }
$1 == "net" { if ($4 != "-") { nn[$2]++; net[$2, nn[$2]] = $3; ip[$2, nn[$2]] = $4 } next }
$1 == "listen" {
  a = $3; port = a; sub(/.*:/, "", port); addr = a; sub(/:[^:]*$/, "", addr)
  if (addr ~ /^127\./ || addr == "[::1]" || addr == "::1" || addr ~ /^\[::ffff:127\./) next
  if (!(($2, port) in seen)) { seen[$2, port] = 1; np[$2]++; pt[$2, np[$2]] = port }
}
END {
  for (s in c) {
    if (run[s] != "true" || pid[s] <= 0 || mode[s] == "host" || mode[s] ~ /^container:/) continue
    if (n && !(svc[s] in keep)) continue
    for (t in c) {
      if (t == s || run[t] != "true" || mode[t] == "host" || mode[t] ~ /^container:/) continue
      if (n && !(svc[t] in keep)) continue
      for (j = 1; j <= np[t]; j++) {
        print pid[s], s, t, "name", svc[t], "-", pt[t, j]
        for (k = 1; k <= nn[t]; k++) print pid[s], s, t, "ip", ip[t, k], net[t, k], pt[t, j]
      }
    }
  }
}
`;

export function composeSegmentation(project: string, opts: { services?: string[]; timeout?: number } = {}): Fact<ComposeSegmentationFact> {
  const timeout = opts.timeout ?? 2;
  const only = (opts.services ?? []).join(' ');
  const format =
    'ctr {{.Id}} {{.State.Pid}} {{.State.Running}} {{.HostConfig.NetworkMode}} {{index .Config.Labels "com.docker.compose.service"}} {{.Name}}' +
    '{{range $n, $c := .NetworkSettings.Networks}}{{"\\n"}}net {{$.Id}} {{$n}} {{if $c.IPAddress}}{{$c.IPAddress}}{{else}}-{{end}}{{range $c.Aliases}} {{.}}{{end}}{{end}}';
  const command = [
    'command -v docker >/dev/null 2>&1 || { echo nodocker; exit 0; }',
    'd=$(mktemp -d) || exit 1',
    'trap \'rm -rf "$d"\' EXIT',
    sh`ids=$(docker ps -aq --no-trunc --filter ${`label=com.docker.compose.project=${project}`}) || exit 1`,
    '[ -n "$ids" ] || exit 0',
    sh`docker inspect --format ${format} $ids > "$d/info" || exit 1`,
    'cat "$d/info"',
    // Listeners, read in each running container's own network namespace.
    'while read -r kind id pid running mode svc name; do',
    '  [ "$kind" = ctr ] && [ "$running" = true ] && [ "$pid" -gt 0 ] || continue',
    '  case "$mode" in host|container:*) continue;; esac',
    '  nsenter -t "$pid" -n ss -ltnH </dev/null | awk -v id="$id" \'{print "listen", id, $4}\'',
    'done < "$d/info" > "$d/listen"',
    'cat "$d/listen"',
    sh`awk -v only=${only} ${JOBS_AWK} "$d/info" "$d/listen" > "$d/jobs"`,
    // One connect attempt in the source's namespace: open, refused, unreachable, timeout, error.
    'try() {',
    sh`  out=$(nsenter -t "$1" -n timeout ${timeout} bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" 2>&1 </dev/null); rc=$?`,
    '  if [ $rc -eq 0 ]; then echo open; elif [ $rc -eq 124 ]; then echo timeout; else',
    '    case "$out" in *refused*) echo refused;; *nreachable*|*"No route"*) echo unreachable;; *) echo error;; esac; fi',
    '}',
    'n=0',
    'while read -r pid src dst kind addr net port; do',
    '  n=$((n+1))',
    '  if [ "$kind" = ip ]; then',
    '    ( echo "probe $src $dst ip $addr $net $port $(try "$pid" "$addr" "$port")" ) > "$d/p.$n" 2>/dev/null </dev/null &',
    '  else',
    `    ( a=$(nsenter -t "$pid" -n perl -e '${DNS_QUERY}' "$addr" ${timeout} </dev/null 2>/dev/null | head -n 1)`,
    '      if [ -z "$a" ]; then echo "probe $src $dst name $addr - $port unresolved"; else echo "probe $src $dst name $addr - $port $(try "$pid" "$a" "$port") $a"; fi',
    '    ) > "$d/p.$n" 2>/dev/null </dev/null &',
    '  fi',
    'done < "$d/jobs"',
    'wait',
    'for f in "$d"/p.*; do [ -f "$f" ] && cat "$f"; done',
    'exit 0',
  ].join('\n');
  return fact(composeSegmentationKey(project), command, (out) => parseComposeSegmentation(project, out));
}

const RESULTS: ProbeResult[] = ['open', 'refused', 'timeout', 'unreachable', 'unresolved', 'error'];

export function parseComposeSegmentation(project: string, out: ExecResult): ComposeSegmentationFact {
  const lines = outputLines(out);
  if (lines[0] === 'nodocker') return { docker: false };
  if (out.code !== 0) throw factFailed(`the containers of compose project ${project}`, out);
  const byId = new Map<string, SegContainer>();
  const probes: SegProbe[] = [];
  const get = (id: string | undefined, line: string) => {
    const c = byId.get(id ?? '');
    if (!c) throw new Error(`compose-segmentation: line for an unknown container: ${line}`);
    return c;
  };
  for (const line of lines) {
    const w = line.trim().split(/\s+/);
    switch (w[0]) {
      case 'ctr': {
        const [, id, pid, running, mode, service, name] = w;
        if (!id || !mode) throw new Error(`compose-segmentation: bad container line: ${line}`);
        byId.set(id, { id, name: (name ?? '').replace(/^\//, ''), service: service ?? '', running: running === 'true', pid: Number(pid) || 0, networkMode: mode, networks: [], listens: [], ports: [] });
        break;
      }
      case 'net': {
        const [, id, name, ip, ...aliases] = w;
        get(id, line).networks.push({ name: name ?? '', ip: ip === '-' ? '' : (ip ?? ''), aliases });
        break;
      }
      case 'listen': {
        const c = get(w[1], line);
        const addr = w[2] ?? '';
        const host = addr.replace(/:[^:]*$/, '');
        if (/^127\./.test(host) || host === '[::1]' || host === '::1' || /^\[::ffff:127\./.test(host)) break;
        c.listens.push(addr);
        const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
        if (Number.isInteger(port) && !c.ports.includes(port)) c.ports.push(port);
        c.ports.sort((a, b) => a - b);
        break;
      }
      case 'probe': {
        const [, from, to, via, address, network, port, result, resolved] = w;
        if ((via !== 'name' && via !== 'ip') || !RESULTS.includes(result as ProbeResult)) throw new Error(`compose-segmentation: bad probe line: ${line}`);
        const p: SegProbe = { from: from!, to: to!, via, address: address!, port: Number(port), result: result as ProbeResult };
        if (network && network !== '-') p.network = network;
        if (resolved) p.resolved = resolved;
        probes.push(p);
        break;
      }
      default:
        if (line.trim()) throw new Error(`compose-segmentation: unexpected output line: ${line}`);
    }
  }
  const order = (a: SegProbe, b: SegProbe) =>
    a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.port - b.port || (a.via === b.via ? a.address.localeCompare(b.address) : a.via === 'name' ? -1 : 1);
  return { docker: true, containers: [...byId.values()].sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name)), probes: probes.sort(order) };
}
