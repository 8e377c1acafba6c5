/** Every module tsplay ships: the core modules and the security modules. */
import type { AnyModule } from './define.js';
import { BUILTIN_MODULES } from './builtin/index.js';
import { SECURITY_MODULES_FIREWALL } from './security/index.js';
import { SECURITY_MODULES_PROXY_NFS } from './security/proxy-nfs.js';
import composeSegmentation from './docker/compose-segmentation.js';
import dockerDaemon from './docker/docker-daemon.js';

export const BUNDLED_MODULES: AnyModule[] = [...BUILTIN_MODULES, ...SECURITY_MODULES_FIREWALL, ...SECURITY_MODULES_PROXY_NFS, dockerDaemon, composeSegmentation];
