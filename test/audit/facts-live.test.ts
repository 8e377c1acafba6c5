/**
 * The audit's facts on this machine under `dash` (empty environment, cwd /), like
 * test/facts/live.test.ts does for the other facts: the commands are POSIX sh and the parsers
 * read real output (ss, docker, ufw, iptables — whichever of them this machine has).
 */
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { dockerPorts } from '../../src/facts/docker-ports.js';
import { exposureSnapshot } from '../../src/facts/exposure-snapshot.js';
import { listeningSockets } from '../../src/facts/listening.js';
import type { Fact } from '../../src/core/module.js';

const run = <T>(f: Fact<T>): T => {
  const r = spawnSync('dash', ['-c', f.command], { encoding: 'utf8', cwd: '/', env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } });
  return f.parse({ stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 });
};

describe('audit facts on this machine (dash)', function () {
  this.timeout(30_000);

  it('listeningSockets: every socket has a protocol, an address and a port', () => {
    const l = run(listeningSockets());
    const ss = spawnSync('sh', ['-c', 'command -v ss']).status === 0;
    expect(l.available).to.equal(ss);
    if (l.available) for (const s of l.sockets) expect(s.port).to.be.within(1, 65535), expect(['tcp', 'udp']).to.include(s.proto);
  });

  it('dockerPorts: the state matches whether docker answers here', () => {
    const d = run(dockerPorts());
    const docker = spawnSync('sh', ['-c', 'docker ps -q'], { encoding: 'utf8' });
    if (docker.error || docker.status === 127) expect(d.state).to.equal('missing');
    else if (docker.status === 0) {
      expect(d.state).to.equal('ok');
      if (d.state === 'ok') expect(d.containers.length).to.equal(docker.stdout.trim().split('\n').filter(Boolean).length);
    } else expect(d.state).to.equal('error');
  });

  it('exposureSnapshot: all parts in one exec, each parsed by its own fact', () => {
    const s = run(exposureSnapshot());
    expect(Object.keys(s).sort()).to.deep.equal(['docker', 'dockerUser', 'input', 'inputPolicy', 'listening', 'ufw']);
    expect(s.listening).to.deep.equal(run(listeningSockets()));
  });
});
