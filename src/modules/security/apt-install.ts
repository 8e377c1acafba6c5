/** Installing one Debian package from a security module (ufw, iptables), as the `apt` module does it. */
import type { AptCacheFact, DebPackageFact } from '../../facts/deb.js';
import type { ExecStep } from '../../core/module.js';
import { quote } from '../../core/quote.js';

const APT = 'DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300';
const CONF = '-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

/** The step that installs `name`, updating the package lists first when they were never downloaded. */
export function aptInstallStep(name: string, cache: AptCacheFact): ExecStep {
  const update = cache.ageSeconds === null ? `${APT} update && ` : '';
  return { kind: 'exec', cmd: `${update}${APT} ${CONF} install -- ${quote(name)}`, description: `install ${name}` };
}

/** What dpkg reports after the install (for check mode's `assume`). */
export function installedFact(name: string, before: DebPackageFact): DebPackageFact {
  return { name, installed: true, status: 'install ok installed', ...(before.version ? { version: before.version } : {}) };
}
