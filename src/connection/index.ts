/** Connections to hosts: `openConnection(vars)` picks the transport; nothing connects until used. */
import { LocalConnection } from './local.js';
import { SshConnection } from './ssh.js';
import type { Connection, ConnectionVars } from './types.js';

export function openConnection(vars: ConnectionVars): Connection {
  return vars.connection === 'local' ? new LocalConnection(vars.name) : new SshConnection(vars);
}

export { LocalConnection } from './local.js';
export { SshConnection, MAX_CHANNELS_PER_CONNECTION, MAX_CONCURRENT_HANDSHAKES } from './ssh.js';
export {
  BecomeError,
  CommandTimeoutError,
  HostKeyError,
  UnreachableError,
  type Connection,
  type ConnectionStats,
  type ConnectionVars,
  type RunOptions,
} from './types.js';
