/**
 * `sysvService(name)`: the fallback when systemd is not init (containers, old hosts): whether
 * /etc/init.d/NAME exists, the exit code of `service NAME status` (0 = running, LSB) and
 * whether a start link exists in /etc/rc[2-5].d (enabled). On a systemd host it reports only
 * `{ systemd: true }`; use systemdUnit there.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { quote, sh } from '../core/quote.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

export type SysvServiceFact =
  | { systemd: true }
  | { systemd: false; exists: false }
  | { systemd: false; exists: true; running: boolean; statusCode: number; enabled: boolean };

export function sysvService(name: string): Fact<SysvServiceFact> {
  const script = `/etc/init.d/${name}`;
  // The name is quoted inside the glob, so only the rc folder and S?? part are patterns.
  const startLinks = `/etc/rc[2345].d/S[0-9][0-9]${quote(name)}`;
  const command =
    sh`if [ -d /run/systemd/system ]; then echo systemd; elif [ -x ${script} ]; then echo script; ` +
    sh`if command -v service >/dev/null 2>&1; then service ${name} status >/dev/null 2>&1; else ${script} status >/dev/null 2>&1; fi; ` +
    `echo "status $?"; for f in ${startLinks}; do if [ -e "$f" ]; then echo enabled; break; fi; done; ` +
    'else echo absent; fi';
  return fact(keys.sysv(name), command, (out) => parseSysv(name, out));
}

function parseSysv(name: string, out: ExecResult): SysvServiceFact {
  const lines = outputLines(out);
  if (lines[0] === 'systemd') return { systemd: true };
  if (lines[0] === 'absent') return { systemd: false, exists: false };
  const status = /^status (\d+)$/.exec(lines[1] ?? '');
  if (lines[0] !== 'script' || !status) throw factFailed(`the state of service ${name}`, out);
  const statusCode = Number(status[1]);
  return { systemd: false, exists: true, running: statusCode === 0, statusCode, enabled: lines[2] === 'enabled' };
}
