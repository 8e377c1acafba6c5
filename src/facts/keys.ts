/**
 * Fact keys. A key names one thing on one host ("stat:/etc/hosts", "pkg:squid"). The engine
 * batches probes by key and, in check mode, lets a task's `assume` replace later probes with
 * the same key. Every module builds keys here so the same thing always has the same key.
 */
import { posix } from 'node:path';

/** Normalizes a path for use in a key: no `//`, no `./`, no trailing slash (except "/"). */
export function normPath(path: string): string {
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Unit types systemd knows; a name without one of these suffixes is a `.service`. */
const UNIT_SUFFIXES = ['service', 'socket', 'device', 'mount', 'automount', 'swap', 'target', 'path', 'timer', 'slice', 'scope'];

/** `nginx` -> `nginx.service`; `apt-daily.timer` stays as is. */
export function unitName(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && UNIT_SUFFIXES.includes(name.slice(dot + 1)) ? name : `${name}.service`;
}

/** Bare Debian package name: `nginx=1.22-1` -> `nginx`, `libc6:i386` stays. */
export function debName(spec: string): string {
  const eq = spec.indexOf('=');
  return eq > 0 ? spec.slice(0, eq) : spec;
}

export const keys = {
  /** stat(path): type, mode, owner (does not follow links). */
  stat: (path: string) => `stat:${normPath(path)}`,
  /** fileContent(path): sha256 and content. */
  content: (path: string) => `content:${normPath(path)}`,
  /** Installed state of one Debian package. */
  pkg: (name: string) => `pkg:${debName(name)}`,
  /** Candidate version of one Debian package in the apt cache. */
  aptCandidate: (name: string) => `apt-candidate:${debName(name)}`,
  /** Age of the apt package lists. */
  aptCache: () => 'apt:cache',
  /** A systemd unit (name normalized with `.service`). */
  unit: (name: string) => `unit:${unitName(name)}`,
  /** A SysV init script (used when systemd is not init). */
  sysv: (name: string) => `sysv:${name}`,
  user: (name: string) => `user:${name}`,
  group: (name: string) => `group:${name}`,
  /** A user's ~/.ssh/authorized_keys. */
  authorizedKeys: (user: string) => `authorized_keys:${user}`,
  /** Everything `setup` gathers. */
  hostFacts: () => 'host:facts',
} as const;
