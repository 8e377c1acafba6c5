/** `tsplay migrate PATH`: prints what src/migrate converted and what needs attention. */
import chalk from 'chalk';
import { migratePath, type MigrateOptions } from '../migrate/migrate.js';

export interface MigrateCliOptions extends MigrateOptions {
  json?: boolean;
}

export function migrateCommand(path: string, o: MigrateCliOptions): number {
  const r = migratePath(path, o);
  if (o.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return r.notes.length ? 2 : 0;
  }
  for (const f of r.files) if (f.changed) process.stdout.write(`${o.dryRun ? 'would rewrite' : 'rewrote'} ${f.file}\n`);
  for (const n of r.notes) process.stdout.write(`${n.file}:${n.line}: ${chalk.yellow('attention')}: ${n.message}\n`);
  const s = r.summary;
  process.stdout.write(
    `${s.files} Ansible file(s), ${s.filesChanged} ${o.dryRun ? 'to rewrite' : 'rewritten'}${o.out && !o.dryRun ? ` into ${o.out}` : ''}; ` +
      `${s.tasks} task(s): ${s.tasksChanged} converted, ${s.tasksNeedingAttention} needing attention (${r.notes.length} note(s) above)\n`,
  );
  return r.notes.length ? 2 : 0;
}
