/**
 * `userUnit(name)`: the systemdUnit fact of the connecting user's own service manager
 * (`systemctl --user show`), key `user-unit:NAME`. XDG_RUNTIME_DIR defaults to /run/user/UID as
 * in Ansible, so it works over a non-login SSH exec when the user's manager runs (a session or
 * `loginctl enable-linger`); otherwise the fact fails with systemctl's "Failed to connect to bus".
 */
import { fact, type Fact } from '../core/module.js';
import { raw, sh } from '../core/quote.js';
import { unitName } from './keys.js';
import { systemdUnit, type SystemdUnitFact } from './systemd.js';

/** `systemctl --user` with the runtime dir a non-login exec lacks. */
export const USER_SYSTEMCTL = 'XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user';

export function userUnit(name: string): Fact<SystemdUnitFact> {
  const unit = unitName(name);
  const props = ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'NeedDaemonReload'].flatMap((p) => ['-p', p]);
  const command = sh`if [ -d /run/systemd/system ]; then echo systemd; ${raw(USER_SYSTEMCTL)} show ${props} -- ${unit}; else echo none; fi`;
  // Same output as the system fact, so the same parser.
  return fact(`user-unit:${unit}`, command, systemdUnit(name).parse);
}
