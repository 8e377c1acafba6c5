import { expect } from 'chai';
import { UserError } from '../../src/core/errors.js';
import { parseSshArgs, proxyCommandJump, shellSplit } from '../../src/connection/ssh-args.js';

const parse = (text: string) => parseSshArgs(text, 'ansible_ssh_common_args');

describe('connection/ssh-args: ansible_ssh_common_args / ansible_ssh_extra_args', () => {
  it('splits like a shell: quotes and backslashes', () => {
    expect(shellSplit(`-o ProxyCommand="ssh -W %h:%p -q admin@b" -o 'User=x y' a\\ b`, (w) => new Error(w))).to.deep.equal([
      '-o',
      'ProxyCommand=ssh -W %h:%p -q admin@b',
      '-o',
      'User=x y',
      'a b',
    ]);
    expect(() => parse(`-o "User=x`)).to.throw(UserError, /ansible_ssh_common_args: unterminated double quote/);
  });

  it('reads -o Key=Value, -oKey=Value, -o "Key Value", -J, -i, -p, -l, -F', () => {
    const a = parse('-o ProxyJump=admin@bastion:2222 -oUser=deploy -o "IdentitiesOnly yes" -i ~/.ssh/a -o IdentityFile=~/.ssh/b -p 2200 -F /etc/my-ssh-config');
    expect(a.config.proxy).to.deep.include({ kind: 'jump', value: 'admin@bastion:2222' });
    expect(a.config.user?.value).to.equal('deploy');
    expect(a.config.identitiesOnly?.value).to.equal('yes');
    expect(a.config.identityFiles.map((f) => f.value)).to.deep.equal(['~/.ssh/a', '~/.ssh/b']);
    expect(a.config.port?.value).to.equal('2200');
    expect(a.configFile).to.equal('/etc/my-ssh-config');
    expect(a.config.ignored).to.deep.equal([]);
    expect(parse('-J jump1,jump2').config.proxy?.value).to.equal('jump1,jump2');
    // -l and -p set the value outright in ssh: they beat an -o given before them.
    expect(parse('-o User=a -l b').config.user?.value).to.equal('b');
  });

  it('reads StrictHostKeyChecking and UserKnownHostsFile', () => {
    const a = parse('-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null');
    expect(a.config.strictHostKeyChecking?.value).to.equal('no');
    expect(a.config.userKnownHostsFile?.value).to.equal('/dev/null');
  });

  it('accepts flags that change nothing for tsplay and lists every other one', () => {
    const a = parse('-q -T -C -o ControlMaster=auto -o ControlPersist=60s -A -o ForwardAgent=yes -L 8080:localhost:80 stray');
    expect(a.config.ignored.map((n) => n.keyword)).to.deep.equal(['-A', '-o ForwardAgent=yes', '-L 8080:localhost:80', 'stray']);
    expect(a.config.ignored[0]!.pos.file).to.equal('ansible_ssh_common_args');
  });

  it('an option without its value is an error naming the variable', () => {
    expect(() => parse('-o')).to.throw(UserError, /ansible_ssh_common_args: -o needs a value/);
    expect(() => parse('-o ProxyJump')).to.throw(UserError, /expected Keyword=value/);
  });

  it('reads the common bastion ProxyCommand (ssh -W %h:%p) as a jump host', () => {
    expect(proxyCommandJump('ssh -W %h:%p -q admin@bastion')).to.deep.equal({ jump: 'admin@bastion', identityFiles: [] });
    expect(proxyCommandJump('ssh -i ~/.ssh/b -p 2222 -l ops -W [%h]:%p bastion.example.com')).to.deep.equal({ jump: 'ops@bastion.example.com:2222', identityFiles: ['~/.ssh/b'] });
    expect(proxyCommandJump('/usr/bin/ssh -o User=ops bastion nc %h %p')).to.deep.equal({ jump: 'ops@bastion', identityFiles: [] });
    expect(proxyCommandJump('nc -X 5 -x proxy:1080 %h %p')).to.equal(undefined);
    expect(proxyCommandJump('ssh -W %h:%p -L 1:2:3 bastion')).to.equal(undefined);
  });
});
