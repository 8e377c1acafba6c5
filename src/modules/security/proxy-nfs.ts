/** The Squid proxy and NFS shares modules, for the registry (see src/modules/builtin/index.ts). */
import type { AnyModule } from '../../core/module.js';
import nfsShares from './nfs.js';
import configureSquidProxy from './squid.js';

export const SECURITY_MODULES_PROXY_NFS: AnyModule[] = [configureSquidProxy, nfsShares];
