/**
 * The diagnostics of loading a fixture project (a folder with playbook.yml and maybe an
 * inventory), one formatted line each with paths relative to the folder; [] when it loads.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatDiagnosticLine, UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';

export async function diagnosticsOf(dir: string, o: { hints?: boolean } = {}): Promise<string[]> {
  const invFile = ['inventory.yml', 'inventory.ini'].map((f) => join(dir, f)).find((f) => existsSync(f));
  try {
    const inventory = loadInventory(invFile ? [invFile] : [], { playbookDir: dir });
    await loadPlaybook(join(dir, 'playbook.yml'), { inventory });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.diagnostics.map((d) => formatDiagnosticLine({ ...d, pos: d.pos && { ...d.pos, file: relative(dir, d.pos.file) } }) + (o.hints && d.hint ? `  hint: ${d.hint}` : ''));
  }
  return [];
}
