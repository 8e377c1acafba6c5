/** Running the built CLI from tests, and a listener that sees connection attempts. */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

export const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

/** Runs the built CLI without blocking this process (a test's listener must keep accepting). */
export function tsplayAsync(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TSPLAY_VAULT_PASSWORD_FILE: '', ANSIBLE_VAULT_PASSWORD_FILE: '', ANSIBLE_CONFIG: '', ...env };
    const child = spawn(process.execPath, [cli, ...args], { cwd, env: e });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err, ms: Date.now() - t0 }));
  });
}

/** A TCP listener on loopback that counts the connections made to it (and closes them at once). */
export async function countingListener(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { port, accepted: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

