/** The security modules, grouped by topic; the lead registers them with the built-ins. */
import type { AnyModule } from '../../core/module.js';
import dockerFirewall from './docker-firewall.js';
import installUfw from './ufw.js';

/** install-ufw and docker-firewall. */
export const SECURITY_MODULES_FIREWALL: AnyModule[] = [installUfw, dockerFirewall];
