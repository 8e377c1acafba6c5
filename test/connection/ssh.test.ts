/**
 * SshConnection against a real OpenSSH server (test/helpers/sshd.ts). Needs root; skipped otherwise.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { openConnection } from '../../src/connection/index.js';
import { SshConnection } from '../../src/connection/ssh.js';
import {
  BecomeError,
  CommandTimeoutError,
  HostKeyError,
  UnreachableError,
  type ConnectionVars,
} from '../../src/connection/types.js';
import { processesMentioning, waitForProcessCount } from '../helpers/processes.js';
import { canRunSshd, startSshd, type Sshd } from '../helpers/sshd.js';

describe('connection/ssh (real sshd)', function () {
  this.timeout(15_000);
  let server: Sshd;
  let scratch: string;
  const open: SshConnection[] = [];

  before(async function () {
    if (!canRunSshd()) this.skip();
    server = await startSshd();
    scratch = mkdtempSync(join(tmpdir(), 'tsplay-ssh-test-'));
  });
  after(async () => {
    await server?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });

  function varsFor(s: Sshd, over: Partial<ConnectionVars> = {}): ConnectionVars {
    return {
      name: 'web1',
      address: s.host,
      port: s.port,
      user: s.user,
      privateKeyFile: s.keyFile,
      become: false,
      becomeUser: 'root',
      becomeMethod: 'sudo',
      connection: 'ssh',
      hostKeyChecking: 'strict',
      knownHostsFile: s.knownHostsFile,
      connectTimeoutMs: 5000,
      ...over,
    };
  }
  function connect(over: Partial<ConnectionVars> = {}, s: Sshd = server): SshConnection {
    const c = new SshConnection(varsFor(s, over));
    open.push(c);
    return c;
  }
  async function failure(p: Promise<unknown>): Promise<Error> {
    try {
      await p;
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected a failure');
  }

  describe('run', () => {
    it('keeps output untrimmed, stderr separate, and returns the exit code', async () => {
      const c = connect();
      const r = await c.run(`printf '\\n  lead and trail  \\n\\n'; printf ' err \\n' >&2; exit 7`);
      expect(r).to.deep.equal({ stdout: '\n  lead and trail  \n\n', stderr: ' err \n', code: 7 });
    });

    it('runs the script with sh -c semantics (quotes, $vars, multiple lines)', async () => {
      const c = connect();
      const r = await c.run(`x='a b'\nprintf '%s|' "$x" "it's" $((6*7))`);
      expect(r.stdout).to.equal(`a b|it's|42|`);
    });

    it('decodes multi-byte UTF-8 split across packets', async () => {
      const c = connect();
      const r = await c.run(`i=0; while [ $i -lt 4000 ]; do printf 'héllo wörld ✓'; i=$((i+1)); done`);
      expect(r.stdout).to.equal('héllo wörld ✓'.repeat(4000));
    });

    it('feeds stdin (string and Buffer) and closes it', async () => {
      const c = connect();
      expect((await c.run('cat', { stdin: 'line 1\n  line 2  \n' })).stdout).to.equal('line 1\n  line 2  \n');
      const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
      expect((await c.run('od -An -tx1 | tr -s " \\n" " "', { stdin: bytes })).stdout.trim()).to.equal('00 01 02 ff 0a 0d');
      expect((await c.run('cat')).stdout).to.equal('');
    });

    it('runs 20 commands concurrently on one connection, 5 channels at a time', async () => {
      const c = connect();
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.run(`sleep 0.2; echo ${i}`)));
      expect(results.map((r) => r.stdout)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `${i}\n`));
      expect(results.every((r) => r.code === 0)).to.equal(true);
      expect(c.stats).to.deep.include({ connects: 1, execs: 20 });
      // 20 commands in waves of 5 take at least 4 x 0.2 s.
      expect(Date.now() - started).to.be.at.least(780);
    });

    it('connect() is idempotent: concurrent callers share one connection', async () => {
      const c = connect();
      await Promise.all([c.connect(), c.connect(), c.run('true'), c.connect()]);
      await c.connect();
      expect(c.stats.connects).to.equal(1);
    });

    it('times out a command, and the connection stays usable', async () => {
      const c = connect();
      const started = Date.now();
      const err = await failure(c.run('sleep 10', { timeoutMs: 300 }));
      expect(err).to.be.instanceOf(CommandTimeoutError);
      expect(err.message).to.equal('command timed out after 0.3 s on web1');
      expect(Date.now() - started).to.be.below(2000);
      expect((await c.run('echo still here')).stdout).to.equal('still here\n');
    });

    it('stops a command when its AbortSignal fires', async () => {
      const c = connect();
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('run cancelled')), 200);
      const err = await failure(c.run('sleep 10', { signal: ac.signal }));
      expect(err.message).to.equal('run cancelled');
    });

    // sshd cannot signal a command that sudo runs as root, nor any command of a root login.
    for (const [label, over, become] of [
      ['through sudo', {}, { user: 'root' }],
      ['of a root login', { user: 'root' }, undefined],
    ] as const) {
      it(`stops the whole process group of an aborted or timed-out command ${label}`, async () => {
        const rootServer = await startSshd({ rootLogin: true });
        try {
          const c = connect(over, rootServer);
          expect((await c.run('echo out; echo err >&2', { become })).stderr, 'the process group line is not stderr').to.equal('err\n');
          expect(c.stats.execs, 'one exec per command').to.equal(1);
          const ac = new AbortController();
          const aborted = c.run('sleep 66.101 & sleep 66.101; echo', { signal: ac.signal, become });
          expect(await waitForProcessCount('sleep 66.101', 2, 5000)).to.equal(2);
          ac.abort(new Error('run cancelled'));
          expect((await failure(aborted)).message).to.equal('run cancelled');
          const timedOut = c.run('sleep 66.102 & sleep 66.102; echo', { timeoutMs: 500, become });
          expect(await failure(timedOut)).to.be.instanceOf(CommandTimeoutError);
          await c.close(); // waits for the kills
          expect(processesMentioning('sleep 66.10'), 'left running').to.deep.equal([]);
        } finally {
          await rootServer.stop();
        }
      });
    }
  });

  describe('become', () => {
    it('runs as root through NOPASSWD sudo, with stdin and clean stderr', async () => {
      const c = connect();
      const r = await c.run('id -un; cat; echo to-stderr >&2', { become: { user: 'root' }, stdin: 'payload\n' });
      expect(r).to.deep.equal({ stdout: 'root\npayload\n', stderr: 'to-stderr\n', code: 0 });
      const other = await c.run('id -un; exit 3', { become: { user: server.passwordUser.user } });
      expect(other).to.deep.include({ stdout: 'tsplay-t2\n', code: 3 });
    });

    it('feeds the sudo password only when sudo asks for it', async () => {
      const c = connect({ user: server.passwordUser.user });
      const become = { user: 'root', password: server.passwordUser.password };
      const r = await c.run('id -un; cat', { become, stdin: 'after the password\n' });
      expect(r).to.deep.equal({ stdout: 'root\nafter the password\n', stderr: '', code: 0 });
      // NOPASSWD user given a password anyway: sudo does not ask, the password must not leak into stdin.
      const n = connect();
      expect((await n.run('cat', { become: { user: 'root', password: 'unused' }, stdin: 'only this' })).stdout).to.equal('only this');
    });

    it('fails fast and clearly with a wrong become password', async () => {
      const c = connect({ user: server.passwordUser.user });
      const started = Date.now();
      const err = await failure(c.run('id -un', { become: { user: 'root', password: 'wrong' }, stdin: 'x\ny\nz\n' }));
      expect(err).to.be.instanceOf(BecomeError);
      expect(err.message).to.equal('become failed on web1: sudo rejected the become password (become_password) for becoming root');
      expect(Date.now() - started).to.be.below(5000);
    });

    it('becomes another user with su and that user’s password; stdin only after su let us in', async () => {
      const c = connect();
      const become = { user: server.passwordUser.user, password: server.passwordUser.password, method: 'su' as const };
      const r = await c.run('id -un; cat; echo to-stderr >&2', { become, stdin: 'after the password\n' });
      expect(r).to.deep.equal({ stdout: 'tsplay-t2\nafter the password\n', stderr: 'to-stderr\n', code: 0 });
      expect((await c.run('exit 4', { become })).code).to.equal(4);
    });

    it('fails clearly when su rejects the password or needs one that is not set', async () => {
      const c = connect();
      const wrong = await failure(c.run('id -un', { become: { user: server.passwordUser.user, password: 'wrong', method: 'su' }, stdin: 'x\n' }));
      expect(wrong).to.be.instanceOf(BecomeError);
      expect(wrong.message).to.equal('become failed on web1: su rejected the become password (become_password) for becoming tsplay-t2');
      const none = await failure(c.run('id -un', { become: { user: server.passwordUser.user, method: 'su' } }));
      expect(none).to.be.instanceOf(BecomeError);
      expect(none.message).to.equal('become failed on web1: su asks for the password of tsplay-t2: set become_password (ansible_become_password)');
    });

    it('says a password is needed when sudo asks for one and none is set', async () => {
      const c = connect({ user: server.passwordUser.user });
      const err = await failure(c.run('id -un', { become: { user: 'root' } }));
      expect(err).to.be.instanceOf(BecomeError);
      expect(err.message).to.equal('become failed on web1: sudo needs a password to become root: set become_password (or allow NOPASSWD in sudoers)');
    });
  });

  describe('authentication and host keys', () => {
    it('logs in with a password', async () => {
      const c = connect({ user: server.passwordUser.user, privateKeyFile: undefined, password: server.passwordUser.password });
      expect((await c.run('id -un')).stdout).to.equal('tsplay-t2\n');
    });

    /** Runs `fn` with SSH_AUTH_SOCK pointing at a fresh ssh-agent holding the server's client key. */
    async function withAgent(name: string, fn: () => Promise<void>): Promise<void> {
      const sock = join(scratch, name);
      const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
      const saved = process.env.SSH_AUTH_SOCK;
      try {
        for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
        execFileSync('ssh-add', ['-q', server.keyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'pipe' });
        process.env.SSH_AUTH_SOCK = sock;
        await fn();
      } finally {
        if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = saved;
        agent.kill();
      }
    }

    it('authenticates through ssh-agent (SSH_AUTH_SOCK) when no key file is set', () =>
      withAgent('agent.sock', async () => {
        const c = connect({ privateKeyFile: undefined });
        expect((await c.run('id -un')).stdout).to.equal('tsplay-t1\n');
      }));

    it('IdentitiesOnly: the agent is not offered; a missing IdentityFile is skipped, the next one used', () =>
      withAgent('agent2.sock', async () => {
        const other = join(scratch, 'not_authorized_key');
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
        const err = await failure(connect({ privateKeyFile: undefined, identityFiles: [other], identitiesOnly: true }).run('true'));
        expect(err.message).to.match(new RegExp(`authentication failed for user tsplay-t1 \\(tried key ${other}\\)$`));
        // Without IdentitiesOnly the agent's key gets in.
        expect((await connect({ privateKeyFile: undefined, identityFiles: [other] }).run('id -un')).stdout).to.equal('tsplay-t1\n');
        const c = connect({ privateKeyFile: undefined, identityFiles: [join(scratch, 'missing_key'), server.keyFile], identitiesOnly: true });
        expect((await c.run('id -un')).stdout).to.equal('tsplay-t1\n');
      }));

    it('ProxyJump: logs in to the jump host, then to the target through it; both closed with close()', async () => {
      const log = join(server.dir, 'sshd.log');
      const logins = () => (readFileSync(log, 'utf8').match(/Accepted publickey for tsplay-t1/g) ?? []).length;
      /** Established TCP connections to the server's port (both ends are on this machine). */
      const established = () => {
        const hex = server.port.toString(16).toUpperCase().padStart(4, '0');
        return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => { const f = l.trim().split(/\s+/); return f[3] === '01' && (f[1]!.endsWith(`:${hex}`) || f[2]!.endsWith(`:${hex}`)); }).length;
      };
      const before = logins();
      const idle = established();
      const jump = { label: 'bastion', address: server.host, port: server.port, user: server.user, identityFiles: [server.keyFile], identitiesOnly: true };
      const c = connect({ jumps: [jump] });
      expect((await c.run('echo "$SSH_CONNECTION"')).stdout).to.match(/^127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+\n$/);
      expect(c.stats.connects).to.equal(1);
      expect(c.localAddress).to.equal(undefined);
      for (let i = 0; i < 50 && logins() < before + 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(logins() - before).to.equal(2);
      // controller -> jump, and the jump host's sshd -> target: two TCP connections, both ends listed.
      expect(established() - idle).to.equal(4);
      await c.close();
      for (let i = 0; i < 100 && established() > idle; i++) await new Promise((r) => setTimeout(r, 20));
      expect(established()).to.equal(idle);
    });

    it('ProxyJump: a jump host that refuses, or cannot reach the target, makes the target unreachable naming it', async () => {
      const closed = await freePortNumber();
      const refused = await failure(connect({ jumps: [{ label: 'ops@bastion', address: '127.0.0.1', port: closed, user: 'ops', identityFiles: [], identitiesOnly: false }] }).run('true'));
      expect(refused).to.be.instanceOf(UnreachableError);
      expect(refused.message).to.equal(`ssh to tsplay-t1@127.0.0.1:${server.port} failed: jump host ops@bastion (ops@127.0.0.1:${closed}): connection refused`);
      const jump = { label: 'bastion', address: server.host, port: server.port, user: server.user, identityFiles: [server.keyFile], identitiesOnly: true };
      const noRoute = await failure(connect({ port: closed, jumps: [jump] }).run('true'));
      expect(noRoute).to.be.instanceOf(UnreachableError);
      expect(noRoute.message).to.match(new RegExp(`^ssh to tsplay-t1@127\\.0\\.0\\.1:${closed} through bastion failed: jump host bastion cannot reach 127\\.0\\.0\\.1:${closed}: `));
    });

    it('a key the server does not accept -> UnreachableError', async () => {
      const other = join(scratch, 'other_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const c = connect({ privateKeyFile: other });
      const err = await failure(c.run('true'));
      expect(err).to.be.instanceOf(UnreachableError);
      // (", ssh-agent" follows when the environment has SSH_AUTH_SOCK.)
      expect(err.message.startsWith(`ssh to tsplay-t1@127.0.0.1:${server.port} failed: authentication failed for user tsplay-t1 (tried key ${other}`)).to.equal(true, err.message);
      // Later calls fail fast with the same error, without reconnecting.
      expect(await failure(c.run('true'))).to.equal(err);
    });

    it('unknown host key -> HostKeyError with the ssh-keyscan hint', async () => {
      const file = join(scratch, 'empty_known_hosts');
      writeFileSync(file, '');
      const err = await failure(connect({ knownHostsFile: file }).connect());
      expect(err).to.be.instanceOf(HostKeyError);
      expect(err.message).to.equal(
        `host key for [127.0.0.1]:${server.port} is not known; to trust it run: ssh-keyscan -p ${server.port} 127.0.0.1 >> ${file} (or set host_key_checking: accept-new)`,
      );
    });

    it('changed host key fails even with accept-new', async () => {
      const fake = join(scratch, 'fake_host_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', fake]);
      const file = join(scratch, 'changed_known_hosts');
      const [type, base64] = readFileSync(`${fake}.pub`, 'utf8').split(' ');
      const before = `[127.0.0.1]:${server.port} ${type} ${base64}\n`;
      writeFileSync(file, before);
      const err = await failure(connect({ knownHostsFile: file, hostKeyChecking: 'accept-new' }).connect());
      expect(err).to.be.instanceOf(HostKeyError);
      expect(err.message).to.match(/^HOST KEY CHANGED for \[127\.0\.0\.1\]:\d+: .* possible man-in-the-middle/);
      expect(readFileSync(file, 'utf8')).to.equal(before);
    });

    it('accept-new appends the unknown key, then strict accepts it', async () => {
      const file = join(scratch, 'new_known_hosts');
      await connect({ knownHostsFile: file, hostKeyChecking: 'accept-new' }).run('true');
      expect(readFileSync(file, 'utf8')).to.equal(`${server.hostKeyLine}\n`);
      await connect({ knownHostsFile: file, hostKeyChecking: 'strict' }).run('true');
    });

    it('off skips the check', async () => {
      const file = join(scratch, 'ignored_known_hosts');
      writeFileSync(file, '');
      await connect({ knownHostsFile: file, hostKeyChecking: 'off' }).run('true');
      expect(readFileSync(file, 'utf8')).to.equal('');
    });
  });

  describe('unreachable hosts', () => {
    it('a closed port fails quickly (after two short retries: sshd may be restarting)', async () => {
      const port = await closedPort();
      const started = Date.now();
      const err = await failure(connect({ port }).connect());
      expect(err).to.be.instanceOf(UnreachableError);
      expect(err.message).to.equal(`ssh to tsplay-t1@127.0.0.1:${port} failed: connection refused`);
      const took = Date.now() - started;
      expect(took).to.be.within(1300, 2500);
    });

    it('a server that never answers hits the connect timeout', async () => {
      const silent = net.createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      try {
        const port = (silent.address() as net.AddressInfo).port;
        const started = Date.now();
        const err = await failure(connect({ port, connectTimeoutMs: 400 }).connect());
        expect(err).to.be.instanceOf(UnreachableError);
        expect(err.message).to.equal(`ssh to tsplay-t1@127.0.0.1:${port} failed: timed out after 0.4 s`);
        expect(Date.now() - started).to.be.below(1500);
      } finally {
        silent.close();
      }
    });

    it('sshd killed mid-run -> UnreachableError for the running and every later call', async () => {
      const doomed = await startSshd();
      try {
        const c = connect({}, doomed);
        await c.run('true');
        const running = c.run('sleep 30');
        await new Promise((r) => setTimeout(r, 200));
        const started = Date.now();
        doomed.kill();
        const err = await failure(running);
        expect(err).to.be.instanceOf(UnreachableError);
        expect(err.message).to.match(new RegExp(`^ssh connection to tsplay-t1@127\\.0\\.0\\.1:${doomed.port} lost: `));
        expect(Date.now() - started).to.be.below(2000);
        const later = Date.now();
        expect(await failure(c.run('true'))).to.equal(err);
        expect(Date.now() - later).to.be.below(50);
      } finally {
        await doomed.stop();
      }
    });
  });

  describe('limits', () => {
    it('retries channel opens the server refuses and adapts (MaxSessions 2, 5 channels wanted)', async () => {
      const tight = await startSshd({ maxSessions: 2 });
      try {
        const c = connect({}, tight);
        for (let round = 0; round < 2; round++) {
          const results = await Promise.all(Array.from({ length: 15 }, (_, i) => c.run(`echo ${i}`)));
          expect(results.map((r) => r.stdout.trim())).to.deep.equal(Array.from({ length: 15 }, (_, i) => String(i)));
        }
        expect(c.stats.connects).to.equal(1);
      } finally {
        await tight.stop();
      }
    });

    it('caps simultaneous handshakes below MaxStartups (20 hosts, server refuses past 10)', async () => {
      const strictStartups = await startSshd({ maxStartups: '10' });
      try {
        const conns = Array.from({ length: 20 }, (_, i) => connect({ name: `h${i}` }, strictStartups));
        const results = await Promise.all(conns.map((c) => c.run('echo ok')));
        expect(results.every((r) => r.stdout === 'ok\n')).to.equal(true);
      } finally {
        await strictStartups.stop();
      }
    });
  });

  it('openConnection picks ssh for connection: ssh', () => {
    expect(openConnection(varsFor(server))).to.be.instanceOf(SshConnection);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A loopback port nothing listens on (bound, then released). */
async function freePortNumber(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
