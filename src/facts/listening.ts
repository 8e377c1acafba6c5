/**
 * `listeningSockets()`: every listening TCP socket and every bound UDP socket of the host, as
 * `ss -Hltunp` prints them (key `net:listening`): protocol, local address and port, and the
 * processes holding the socket (names and pids; only readable as root or for one's own
 * processes, so `processes` may be empty).
 *
 *   tcp LISTEN 0 4096 0.0.0.0:8080 0.0.0.0:* users:(("docker-proxy",pid=812,fd=4))
 *   udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:* users:(("systemd-resolve",pid=301,fd=13))
 *   tcp LISTEN 0 128 [::]:22 [::]:* users:(("sshd",pid=388,fd=4))
 *
 * The address is given without brackets or zone (`%lo`): `0.0.0.0`, `::`, `127.0.0.1`, `::1`;
 * ss prints `*` for a socket bound to every address of both families, kept as `*`.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { factFailed, outputLines } from './util.js';

export interface ListeningSocket {
  proto: 'tcp' | 'udp';
  /** Local address without brackets or zone: `0.0.0.0`, `::`, `*`, `127.0.0.1`. */
  address: string;
  /** The zone/interface a link-local or device-bound socket is tied to (`lo`, `eth0`), when ss shows one. */
  zone?: string;
  port: number;
  processes: Array<{ name: string; pid: number }>;
}

export type ListeningSocketsFact = { available: false } | { available: true; sockets: ListeningSocket[] };

export const listeningSocketsKey = (): string => 'net:listening';

const COMMAND = [
  'PATH="$PATH:/usr/sbin:/sbin"',
  'if ! command -v ss >/dev/null 2>&1; then echo ss:missing; else ss -Hltunp; fi',
].join('; ');

export function listeningSockets(): Fact<ListeningSocketsFact> {
  return fact(listeningSocketsKey(), COMMAND, parseListeningSockets);
}

export function parseListeningSockets(out: ExecResult): ListeningSocketsFact {
  const lines = outputLines(out);
  if (lines[0] === 'ss:missing') return { available: false };
  if (out.code !== 0) throw factFailed('the listening sockets (ss)', out);
  const sockets: ListeningSocket[] = [];
  for (const line of lines) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) throw factFailed(`the listening sockets (unexpected ss line "${line}")`, out);
    const proto = f[0]!;
    if (proto !== 'tcp' && proto !== 'udp') continue;
    const local = splitAddress(f[4]!);
    if (!local) throw factFailed(`the listening sockets (unexpected local address "${f[4]}")`, out);
    const processes = [...f.slice(6).join(' ').matchAll(/\("([^"]*)",pid=(\d+)/g)].map((m) => ({ name: m[1]!, pid: Number(m[2]) }));
    sockets.push({ proto, ...local, processes });
  }
  return { available: true, sockets };
}

/** `0.0.0.0:22`, `*:22`, `[::]:22`, `127.0.0.53%lo:53`, `[fe80::1%eth0]:546` -> address, zone, port. */
export function splitAddress(text: string): { address: string; zone?: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^\s]*?)):(\d+|\*)$/.exec(text);
  if (!m || m[3] === '*') return undefined;
  let address = m[1] ?? m[2]!;
  let zone: string | undefined;
  const pct = address.indexOf('%');
  if (pct >= 0) {
    zone = address.slice(pct + 1);
    address = address.slice(0, pct);
  }
  address = address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  return { address, ...(zone ? { zone } : {}), port: Number(m[3]) };
}
