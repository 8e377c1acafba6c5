/**
 * A vars file read while the play runs (include_vars, a vars_files entry chosen per host): YAML
 * or JSON, encrypted whole with Ansible vault or by value (`!vault`: strings become secrets).
 */
import { formatPos, UserError } from '../core/errors.js';
import type { IncludedVars } from '../core/module.js';
import { loadYamlFile } from '../yaml/source.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The variables of `file`; a UserError naming file:line:column when it cannot be used. */
export function loadVarsFile(file: string): IncludedVars {
  let yf;
  try {
    yf = loadYamlFile(file);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    // The task fails with one line: keep where in the vars file the problem is.
    const d = e.diagnostics[0]!;
    throw new UserError({ ...d, message: d.pos ? `${formatPos(d.pos)}: ${d.message}` : d.message });
  }
  const data = yf.data;
  if (data === undefined || data === null) return { file, vars: {} };
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new UserError({ severity: 'error', message: `${formatPos(yf.pos())}: a vars file must be a mapping of variable names to values`, pos: yf.pos() });
  }
  const vars = data as Record<string, unknown>;
  for (const k of Object.keys(vars)) {
    if (!NAME.test(k)) {
      const pos = yf.keyPos([k]);
      throw new UserError({ severity: 'error', message: `${formatPos(pos)}: invalid variable name "${k}": use letters, digits and _ (not starting with a digit)`, pos });
    }
  }
  return { file, vars, pos: (k) => yf.keyPos([k]) };
}
