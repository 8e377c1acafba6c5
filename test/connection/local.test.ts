import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openConnection } from '../../src/connection/index.js';
import { LocalConnection } from '../../src/connection/local.js';
import { BecomeError, CommandTimeoutError, type ConnectionVars } from '../../src/connection/types.js';

const isRoot = process.getuid?.() === 0;

describe('connection/local', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-local-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs sh -c, keeps output untrimmed, stderr separate, exit code', async () => {
    const c = new LocalConnection('localhost');
    const r = await c.run(`x='a b'; printf '\\n %s \\n' "$x"; printf ' e \\n' >&2; exit 4`);
    expect(r).to.deep.equal({ stdout: '\n a b \n', stderr: ' e \n', code: 4 });
    expect(c.stats).to.deep.equal({ connects: 1, execs: 1 });
  });

  it('feeds stdin and closes it', async () => {
    const c = new LocalConnection('localhost');
    expect((await c.run('cat', { stdin: 'in put\n' })).stdout).to.equal('in put\n');
    expect((await c.run('wc -c', { stdin: Buffer.from([0, 255, 10]) })).stdout.trim()).to.equal('3');
    expect((await c.run('cat')).stdout).to.equal('');
  });

  it('a timeout kills the command and its children', async () => {
    const c = new LocalConnection('localhost');
    const marker = join(dir, 'still-running');
    const started = Date.now();
    const err = await c.run(`sleep 0.6 && touch ${marker} & wait`, { timeoutMs: 150 }).catch((e) => e);
    expect(err).to.be.instanceOf(CommandTimeoutError);
    expect(Date.now() - started).to.be.below(1000);
    await new Promise((r) => setTimeout(r, 700));
    expect(() => statSync(marker)).to.throw(/ENOENT/);
  });

  (isRoot ? it : it.skip)('becomes another user with sudo (root needs no password)', async () => {
    const c = new LocalConnection('localhost');
    const r = await c.run('id -un; cat', { become: { user: 'nobody' }, stdin: 'data\n' });
    expect(r).to.deep.equal({ stdout: 'nobody\ndata\n', stderr: '', code: 0 });
    const err = await c.run('true', { become: { user: 'no-such-user-tsplay' } }).catch((e) => e);
    expect(err).to.be.instanceOf(BecomeError);
    expect(err.message).to.match(/^become failed on localhost: sudo refused to become no-such-user-tsplay: sudo: unknown user/);
  });

  it('openConnection picks the local transport for connection: local', () => {
    const vars: ConnectionVars = {
      name: 'ctl',
      address: 'localhost',
      port: 22,
      become: false,
      becomeUser: 'root',
      becomeMethod: 'sudo',
      connection: 'local',
      hostKeyChecking: 'strict',
      connectTimeoutMs: 1000,
    };
    const c = openConnection(vars);
    expect(c).to.be.instanceOf(LocalConnection);
    expect(c.host).to.equal('ctl');
  });
});
