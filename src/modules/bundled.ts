/** Every module tsplay ships: the core modules, the security modules, the Docker modules. */
import type { AnyModule } from './define.js';
import { BUILTIN_MODULES } from './builtin/index.js';
import { SECURITY_MODULES_FIREWALL } from './security/index.js';
import { SECURITY_MODULES_PROXY_NFS } from './security/proxy-nfs.js';
import { DOCKER_MODULES } from './docker/index.js';

export const BUNDLED_MODULES: AnyModule[] = [...BUILTIN_MODULES, ...SECURITY_MODULES_FIREWALL, ...SECURITY_MODULES_PROXY_NFS, ...DOCKER_MODULES];
