/**
 * Renders nfs-shares' exports file (exports(5)): one line per exported folder, one
 * `client(options)` per client, options in a fixed order (access, sync, subtree check,
 * squash, extras) so the same parameters always give the same bytes.
 */
import { resolveExportPath, type ExportSpec, type NfsSettings } from './nfs-params.js';

export function exportOptions(e: ExportSpec): string[] {
  return [
    e.access,
    e.sync ? 'sync' : 'async',
    e.subtree_check ? 'subtree_check' : 'no_subtree_check',
    e.root_squash ? 'root_squash' : 'no_root_squash',
    ...new Set(e.options),
  ];
}

/** Exported folders, each once, in the order they are first given. */
export function exportedPaths(s: NfsSettings): string[] {
  return [...new Set(s.exports.map((e) => resolveExportPath(e.path, s.root)))];
}

export function renderExports(s: NfsSettings): string {
  const byPath = new Map<string, string[]>();
  for (const e of s.exports) {
    const path = resolveExportPath(e.path, s.root);
    const opts = exportOptions(e).join(',');
    byPath.set(path, [...(byPath.get(path) ?? []), ...e.clients.map((c) => `${c}(${opts})`)]);
  }
  const lines = ['# Managed by tsplay (nfs-shares): local changes are overwritten.'];
  for (const [path, clients] of byPath) lines.push(`${path} ${clients.join(' ')}`);
  return lines.join('\n') + '\n';
}
