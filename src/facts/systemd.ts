/**
 * `systemdUnit(name)`: whether systemd is init on the host (`/run/systemd/system` exists) and,
 * if so, the unit's LoadState, ActiveState, SubState, UnitFileState and NeedDaemonReload
 * (`systemctl show -p ...`). A name without a unit suffix means `NAME.service`.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { keys, unitName } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type SystemdUnitFact =
  | { systemd: false }
  | {
      systemd: true;
      unit: string;
      /** LoadState is not "not-found". */
      exists: boolean;
      /** loaded, not-found, masked, error, ... */
      loadState: string;
      /** active, inactive, failed, activating, deactivating, reloading */
      activeState: string;
      subState: string;
      /** enabled, disabled, static, masked, indirect, generated, ... ("" when there is no unit file) */
      unitFileState: string;
      needDaemonReload: boolean;
    };

const PROPS = ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'NeedDaemonReload'];

export function systemdUnit(name: string): Fact<SystemdUnitFact> {
  const unit = unitName(name);
  const props = PROPS.flatMap((p) => ['-p', p]);
  const command = sh`if [ -d /run/systemd/system ]; then echo systemd; systemctl show ${props} -- ${unit}; else echo none; fi`;
  return fact(keys.unit(unit), command, (out) => parseUnit(unit, out));
}

function parseUnit(unit: string, out: ExecResult): SystemdUnitFact {
  const lines = outputLines(out);
  if (lines[0] === 'none') return { systemd: false };
  const props: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const eq = l.indexOf('=');
    if (eq > 0) props[l.slice(0, eq)] = l.slice(eq + 1);
  }
  if (lines[0] !== 'systemd' || props.LoadState === undefined) throw factFailed(`the state of ${unit}`, out);
  return {
    systemd: true,
    unit,
    exists: props.LoadState !== 'not-found',
    loadState: props.LoadState,
    activeState: props.ActiveState ?? '',
    subState: props.SubState ?? '',
    unitFileState: props.UnitFileState ?? '',
    needDaemonReload: props.NeedDaemonReload === 'yes',
  };
}

/** UnitFileStates in which `systemctl enable` has nothing to do. */
export const ENABLED_STATES = ['enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'alias', 'linked'];
