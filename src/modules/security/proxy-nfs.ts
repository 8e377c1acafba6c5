/** The Squid proxy and NFS shares modules, for the registry (see src/modules/builtin/index.ts). */
import type { AnyModule } from '../define.js';
import nfsShares from './nfs.js';
import configureSquidProxy from './squid.js';

export const SECURITY_MODULES_PROXY_NFS: AnyModule[] = [configureSquidProxy, nfsShares];
