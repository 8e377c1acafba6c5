/** `run --list-hosts / --list-tasks / --list-tags`: the listing, laid out as ansible-playbook's. */
import type { ListedPlay } from '../engine/list.js';

export function formatListing(playbook: string, plays: ListedPlay[], what: { hosts?: boolean; tasks?: boolean; tags?: boolean }): string {
  const out = [`playbook: ${playbook}`];
  const tags = (t: string[]) => `TAGS: [${t.join(', ')}]`;
  for (const p of plays) {
    out.push('', `  play #${p.index} (${p.pattern}): ${p.name}\t${tags(p.tags)}`);
    if (what.hosts) {
      out.push(`    pattern: ['${p.pattern}']`, `    hosts (${p.hosts.length}):`);
      for (const h of p.hosts) out.push(`      ${h}`);
    }
    if (what.tags) out.push(`      TASK TAGS: [${[...new Set(p.tasks.flatMap((t) => t.tags))].sort().join(', ')}]`);
    if (what.tasks) {
      out.push('    tasks:');
      for (const t of p.tasks) out.push(`      ${t.name}\t${tags(t.tags)}`);
    }
  }
  return out.join('\n') + '\n';
}
