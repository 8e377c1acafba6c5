/**
 * wait_for's polling script, run for real under dash against local ports and files: with the
 * tools found on this machine, with only `ss` (no nc, no bash), and with none of them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import waitFor, { waitScript } from '../../../src/modules/system/wait_for.js';
import type { ExecResult } from '../../../src/core/module.js';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function runScript(params: Record<string, unknown>, path = PATH): Promise<ExecResult & { ms: number }> {
  const script = waitScript(waitFor.params.parse(params) as never);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/dash', ['-c', script], { env: { PATH: path }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1, ms: Date.now() - t0 }));
  });
}

/** A folder with links to only the given tools, to hide nc and bash. */
function toolbox(dir: string, tools: string[]): string {
  mkdirSync(dir);
  for (const t of tools) symlinkSync(`/usr/bin/${t}`, join(dir, t));
  return dir;
}

describe('wait_for on this machine (dash)', function () {
  this.timeout(20000);
  let server: Server;
  let openPort: number;
  let closedPort: number;
  let dir: string;

  before(async () => {
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    openPort = (server.address() as { port: number }).port;
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    closedPort = (tmp.address() as { port: number }).port;
    await new Promise((r) => tmp.close(r));
    dir = mkdtempSync(join(tmpdir(), 'tsplay-wait-'));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an open port is reached at once', async () => {
    const r = await runScript({ port: openPort, timeout: 5 });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('elapsed 0\n');
  });

  it('a closed port satisfies state: stopped', async () => {
    const r = await runScript({ port: closedPort, state: 'stopped', timeout: 5 });
    expect(r.code, r.stderr).to.equal(0);
  });

  it('times out with the message on stderr', async () => {
    const r = await runScript({ port: closedPort, timeout: 1, msg: 'backend never came up' });
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.equal('backend never came up');
    expect(r.ms).to.be.at.least(1000);
  });

  it('waits for a file that appears later, and for a line in it', async () => {
    const file = join(dir, 'app.log');
    setTimeout(() => writeFileSync(file, 'starting\n'), 300);
    setTimeout(() => writeFileSync(file, 'starting\nlistening on 8080\n'), 1300);
    const exists = runScript({ path: file, timeout: 5 });
    const line = runScript({ path: file, search_regex: 'listening on [0-9]+', timeout: 5 });
    const [a, b] = await Promise.all([exists, line]);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    expect(b.ms).to.be.at.least(1000);
  });

  it('uses ss for a local port when neither nc nor bash is there', async () => {
    const bin = toolbox(join(dir, 'ss-only'), ['date', 'sleep', 'ss', 'grep']);
    const up = await runScript({ port: openPort, timeout: 3 }, bin);
    expect(up.code, up.stderr).to.equal(0);
    const down = await runScript({ port: closedPort, timeout: 1 }, bin);
    expect(down.code).to.equal(1);
  });

  it('says what is missing when no tool can test a remote port', async () => {
    const bin = toolbox(join(dir, 'bare'), ['date', 'sleep', 'ss', 'grep']); // ss does not help for a remote host
    const r = await runScript({ port: 80, host: '192.0.2.10', timeout: 1 }, bin);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('needs nc or bash on the host');
  });

  it('result() reads the elapsed seconds', () => {
    const p = waitFor.params.parse({ port: 80 });
    expect(waitFor.result!(p, {}, [{ stdout: 'elapsed 7\n', stderr: '', code: 0 }])).to.deep.equal({ elapsed: 7, state: 'started' });
  });
});
