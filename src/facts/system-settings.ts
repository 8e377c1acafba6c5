/**
 * Facts of the kernel and host settings the sysctl, hostname and timezone modules manage:
 *   sysctlValue(name)  the running value (/proc/sys) and whether it can be written here, key `sysctl:NAME`
 *   hostnameState()    the kernel's host name and /etc/hostname, key `hostname`
 *   pong()             the host answers a shell command, key `ping`
 *   timezoneState(zone) /etc/localtime's link target, /etc/timezone, and whether the zone file exists, key `timezone`
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { factFailed, outputLines } from './util.js';

export interface SysctlValueFact {
  /** The running value with whitespace runs as one space; null when the kernel has no such setting. */
  value: string | null;
  /** /proc/sys/... is writable by this user (false in most containers: /proc/sys is mounted read-only). */
  writable: boolean;
}

/** `net.ipv4.ip_forward` -> `/proc/sys/net/ipv4/ip_forward` (a name may use / already). */
export const sysctlPath = (name: string) => `/proc/sys/${name.replace(/\./g, '/')}`;

export function sysctlValue(name: string): Fact<SysctlValueFact> {
  const path = sysctlPath(name);
  const command = sh`if [ -f ${path} ]; then if [ -w ${path} ]; then echo writable; else echo read-only; fi; cat ${path}; else echo unknown; fi`;
  return fact(`sysctl:${name.replace(/\//g, '.')}`, command, (out) => {
    const lines = outputLines(out);
    if (lines[0] === 'unknown') return { value: null, writable: false };
    if ((lines[0] !== 'writable' && lines[0] !== 'read-only') || out.code !== 0) throw factFailed(`the kernel setting ${name}`, out);
    return { value: normalizeSysctl(lines.slice(1).join('\n')), writable: lines[0] === 'writable' };
  });
}

/** Values compare with whitespace runs as one space (the kernel prints tabs: "4096\t131072\t6291456"). */
export const normalizeSysctl = (v: string) => v.trim().split(/\s+/).join(' ');

export interface HostnameFact {
  /** The kernel's current host name. */
  running: string;
  /** /etc/hostname without trailing newlines; null when it does not exist. */
  file: string | null;
}

export function hostnameState(): Fact<HostnameFact> {
  const command = 'echo "running:$(cat /proc/sys/kernel/hostname)"; if [ -f /etc/hostname ]; then echo file; cat /etc/hostname; else echo nofile; fi';
  return fact('hostname', command, (out) => parseHostname(out));
}

function parseHostname(out: ExecResult): HostnameFact {
  const lines = outputLines(out);
  const running = lines[0]?.startsWith('running:') ? lines[0].slice('running:'.length) : undefined;
  if (running === undefined || (lines[1] !== 'file' && lines[1] !== 'nofile')) throw factFailed('the host name', out);
  return { running, file: lines[1] === 'file' ? lines.slice(2).join('\n') : null };
}

export interface TimezoneFact {
  /** Target of the /etc/localtime symlink; null when it is no link (or absent). */
  localtime: string | null;
  /** /etc/timezone without trailing newlines; null when it does not exist. */
  timezone: string | null;
  /** /usr/share/zoneinfo/ZONE exists. */
  known: boolean;
}

export function timezoneState(zone: string): Fact<TimezoneFact> {
  const file = `/usr/share/zoneinfo/${zone}`;
  const command =
    sh`if [ -f ${file} ]; then echo known; else echo unknown; fi; ` +
    'if [ -L /etc/localtime ]; then echo "localtime:$(readlink /etc/localtime)"; else echo nolink; fi; ' +
    'if [ -f /etc/timezone ]; then echo "timezone:$(cat /etc/timezone)"; else echo notimezone; fi';
  return fact(`timezone:${zone}`, command, (out) => {
    const lines = outputLines(out);
    if (lines[0] !== 'known' && lines[0] !== 'unknown') throw factFailed('the time zone', out);
    const tagged = (tag: string) => {
      const l = lines.find((x) => x.startsWith(`${tag}:`));
      return l === undefined ? null : l.slice(tag.length + 1);
    };
    return { known: lines[0] === 'known', localtime: tagged('localtime'), timezone: tagged('timezone') };
  });
}

/** The host runs a shell command and answers (what `ping` checks): always "pong". */
export function pong(): Fact<'pong'> {
  return fact('ping', 'echo pong', (out) => {
    if (out.code !== 0 || out.stdout.trim() !== 'pong') throw factFailed('the ping answer', out);
    return 'pong';
  });
}
