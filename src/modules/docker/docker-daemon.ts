/**
 * `docker-daemon`: sets keys of /etc/docker/daemon.json and leaves the others alone.
 *
 * Why merge instead of owning the file: a host's daemon.json often carries settings that belong
 * to the machine, not to the playbook (the lab's `"storage-driver": "vfs"`, a registry mirror);
 * writing the whole file from a template would drop them and dockerd would come back on another
 * storage driver with no containers. The module compares *values*, not text: a file that already
 * holds the wanted values in another layout is left as it is.
 *
 * Validation: the new file is checked before it replaces the old one with
 * `dockerd --validate --config-file` when dockerd has that option (Docker 23 and later). Debian
 * 12's docker.io (20.10) has no such option; there the file is still valid JSON by construction
 * (written by JSON.stringify on the controller), and an unknown key only shows when dockerd
 * restarts. The restart itself belongs to a handler (`notify`), so several changes restart once.
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { change, defineModule, failPlan, noop } from '../../core/module.js';
import { planWrite, probeWrite, type WriteFacts } from '../lib/write-file.js';

export const DAEMON_JSON = '/etc/docker/daemon.json';

/** Runs dockerd's own check where dockerd has one; `$1` is the temp file. */
export const VALIDATE =
  "sh -c 'if dockerd --help 2>&1 | grep -q -e --validate; then dockerd --validate --config-file \"$1\"; fi' tsplay-docker-daemon %s";

const params = z
  .object({
    settings: z
      .record(z.string().min(1), z.unknown())
      .default({})
      .describe('daemon.json keys to set, e.g. {ip: "127.0.0.1", "log-opts": {max-size: "10m"}}; a key set to null is removed; keys not named are kept'),
    path: z.string().startsWith('/').default(DAEMON_JSON).describe('The daemon configuration file'),
    validate: z.boolean().default(true).describe('Check the new file with `dockerd --validate --config-file` (when dockerd has it) before it replaces the old one'),
  })
  .strict();

type Params = z.output<typeof params>;

const output = z.object({
  config: z.record(z.string(), z.unknown()).describe('The whole configuration after the task'),
  changed_keys: z.array(z.string()).describe('Keys set or removed by this task'),
});

export default defineModule<typeof params, WriteFacts>({
  name: 'docker-daemon',
  summary: 'Set keys of /etc/docker/daemon.json (others kept), validated; notify a handler to restart Docker.',
  description:
    'Merges `settings` into the existing daemon.json (top-level keys; null removes a key) and writes the file atomically only when a value differs, ' +
    'after `dockerd --validate` where dockerd has it (Docker 23+; Debian 12 ships 20.10, whose file is valid JSON by construction). ' +
    'The module does not restart dockerd: notify a handler.',
  examples: [
    {
      title: 'Published ports on localhost by default, rotated container logs',
      task: {
        name: 'Docker daemon settings',
        'docker-daemon': { settings: { ip: '127.0.0.1', 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } } },
        notify: 'restart docker',
      },
    },
    { title: 'Remove a key', task: { name: 'Docker manages iptables again', 'docker-daemon': { settings: { iptables: null } }, notify: 'restart docker' } },
  ],
  params,
  output,
  probe: (p) => probeWrite(p.path),
  plan: (p, f, ctx) => {
    let current: Record<string, unknown> = {};
    if (f.content.exists) {
      if (f.content.type !== 'file' || f.content.content === undefined) return failPlan(`docker-daemon: ${p.path} is not a readable text file`);
      const text = f.content.content.trim();
      if (text !== '') {
        try {
          const parsed: unknown = JSON.parse(text);
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return failPlan(`docker-daemon: ${p.path} does not hold a JSON object`);
          current = parsed as Record<string, unknown>;
        } catch (e) {
          return failPlan(`docker-daemon: ${p.path} is not valid JSON (${(e as Error).message}); fix or remove it first`);
        }
      }
    }
    const { config, changedKeys } = merge(current, p.settings);
    const out = { config, changed_keys: changedKeys };
    if (!changedKeys.length) {
      return noop(Object.keys(p.settings).length ? `${p.path} already has ${Object.keys(p.settings).join(', ')} as wanted` : 'no settings to apply', { output: out });
    }
    const w = planWrite({ path: p.path, content: `${JSON.stringify(config, null, 2)}\n`, mode: '0644', owner: 'root', group: 'root', validate: p.validate ? VALIDATE : undefined }, f, ctx);
    if ('failed' in w) return failPlan(`docker-daemon: ${w.msg}`);
    if (!w.changed) return noop(`${p.path} is as wanted`, { output: out });
    return change(
      changedKeys.map((k) => (k in config ? `${p.path}: set ${k} = ${JSON.stringify(config[k])}` : `${p.path}: remove ${k}`)),
      w.steps,
      { diffs: w.diffs, assume: w.assume, output: out },
    );
  },
});

/** The configuration with `settings` applied, and the keys whose value changed. */
export function merge(current: Record<string, unknown>, settings: Params['settings']): { config: Record<string, unknown>; changedKeys: string[] } {
  const config = { ...current };
  const changedKeys: string[] = [];
  for (const [k, v] of Object.entries(settings)) {
    if (v === null || v === undefined) {
      if (k in config) {
        delete config[k];
        changedKeys.push(k);
      }
    } else if (!isDeepStrictEqual(config[k], v)) {
      config[k] = v;
      changedKeys.push(k);
    }
  }
  return { config, changedKeys };
}
