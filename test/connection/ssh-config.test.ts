import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { matchHostPatterns, parseSshConfig, SshConfigFiles, type ConfigFile } from '../../src/connection/ssh-config.js';

/** Config files in a fake home: `files` by path relative to home. */
function home(files: Record<string, string>): { home: string; configs: SshConfigFiles; user: ConfigFile[]; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-sshcfg-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return { home: dir, configs: new SshConfigFiles(undefined, dir), user: [{ path: join(dir, '.ssh/config') }], done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('connection/ssh-config: reading ~/.ssh/config as ssh does', () => {
  it('matches Host patterns: *, ?, several patterns, !negation, case-insensitively', () => {
    expect(matchHostPatterns(['web*'], 'web1')).to.equal(true);
    expect(matchHostPatterns(['web?'], 'web12')).to.equal(false);
    expect(matchHostPatterns(['db', 'web?'], 'web1')).to.equal(true);
    expect(matchHostPatterns(['*', '!bastion'], 'bastion')).to.equal(false);
    expect(matchHostPatterns(['!bastion'], 'web1')).to.equal(false); // a negation alone matches nothing
    expect(matchHostPatterns(['WEB1'], 'web1')).to.equal(true);
    expect(matchHostPatterns(['*.example.com'], 'example.com')).to.equal(false);
  });

  it('the first value of each keyword wins; IdentityFile accumulates in order', () => {
    const h = home({
      '.ssh/config': `
# comment
Host web1
  HostName 10.0.0.1
  User deploy
  IdentityFile ~/.ssh/web
Host web*
  User other
  Port 2222
  IdentityFile ~/.ssh/all-web
Host *
  User fallback
  Port 22
  ServerAliveInterval 30
`,
    });
    try {
      const c = h.configs.lookup('web1', h.user);
      expect(c.hostName?.value).to.equal('10.0.0.1');
      expect(c.user?.value).to.equal('deploy');
      expect(c.port?.value).to.equal('2222');
      expect(c.identityFiles.map((f) => f.value)).to.deep.equal(['~/.ssh/web', '~/.ssh/all-web']);
      expect(c.user?.pos).to.deep.include({ file: h.user[0]!.path, line: 5 });
      expect(c.ignored).to.deep.equal([]); // ServerAliveInterval: tsplay keeps its own keepalives
      const other = h.configs.lookup('db1', h.user);
      expect(other.user?.value).to.equal('fallback');
      expect(other.hostName).to.equal(undefined);
    } finally {
      h.done();
    }
  });

  it('reads `Key=value`, quoted values and trailing comments; a bad line is an error at file:line', () => {
    const lines = parseSshConfig('Host=a b\n  IdentityFile "/keys/my key"  # mine\nUser\tbob\n', 'cfg');
    expect(lines.map((l) => [l.keyword, l.args])).to.deep.equal([
      ['host', ['a', 'b']],
      ['identityfile', ['/keys/my key']],
      ['user', ['bob']],
    ]);
    expect(() => parseSshConfig('Host a\n  User "bob\n', 'cfg')).to.throw(UserError, /User: unterminated quote/).with.property('diagnostics').that.satisfies((d: { pos?: { line: number } }[]) => d[0]!.pos?.line === 2);
  });

  it('follows Include (relative to ~/.ssh, globs in order), in the context of the Host block it sits in', () => {
    const h = home({
      '.ssh/config': 'Include conf.d/*.conf\nHost web1\n  Include web-extra\nHost *\n  User last\n',
      '.ssh/conf.d/10-a.conf': 'Host db1\n  User from-a\n',
      '.ssh/conf.d/20-b.conf': 'Host db1\n  User from-b\n  Port 2201\n',
      '.ssh/web-extra': 'User from-web-extra\n',
    });
    try {
      expect(h.configs.lookup('db1', h.user).user?.value).to.equal('from-a');
      expect(h.configs.lookup('db1', h.user).port?.value).to.equal('2201');
      expect(h.configs.lookup('web1', h.user).user?.value).to.equal('from-web-extra');
      // Included under `Host web1`: not for other hosts.
      expect(h.configs.lookup('web2', h.user).user?.value).to.equal('last');
    } finally {
      h.done();
    }
  });

  it('evaluates Match all/host/originalhost/user; skips Match exec with a note', () => {
    const h = home({
      '.ssh/config': 'Host web1\n  HostName web1.internal\nMatch host *.internal\n  Port 2200\nMatch exec "true"\n  User from-exec\nMatch all\n  User everyone\n',
    });
    try {
      const c = h.configs.lookup('web1', h.user);
      expect(c.port?.value).to.equal('2200');
      expect(c.user?.value).to.equal('everyone');
      expect(c.ignored.map((n) => n.keyword)).to.deep.equal(['Match exec']);
      expect(h.configs.lookup('db1', h.user).port).to.equal(undefined);
    } finally {
      h.done();
    }
  });

  it('notes options tsplay does not honour, where they apply', () => {
    const h = home({ '.ssh/config': 'Host web1\n  ForwardAgent yes\nHost db1\n  LocalForward 8080 localhost:80\n' });
    try {
      expect(h.configs.lookup('web1', h.user).ignored.map((n) => `${n.keyword}@${n.pos.line}`)).to.deep.equal(['ForwardAgent@2']);
    } finally {
      h.done();
    }
  });

  it('a missing ~/.ssh/config is empty; a missing file given with -F is an error', () => {
    const h = home({});
    try {
      expect(h.configs.lookup('web1', h.user).user).to.equal(undefined);
      expect(() => h.configs.lookup('web1', [{ path: join(h.home, 'nope'), required: true }])).to.throw(UserError, /ssh config file .*nope does not exist/);
    } finally {
      h.done();
    }
  });
});
