/**
 * docker-firewall's script and chain fact against the real iptables, in a throwaway network
 * namespace with a Docker-like FORWARD/DOCKER-USER setup: the script replaces exactly the
 * DOCKER-USER rules in one go, keeps every other chain, and what `iptables -S` prints back
 * compares equal to the wanted lines (so a second run plans no change). Traffic is checked
 * with a veth pair: a published port (DNAT) answers only when declared. Skipped without root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { iptablesChain, parseIptablesChain } from '../../../src/facts/iptables.js';
import { chainRules, renderScript, restoreInput, RETURN_ALL, sameRules, type ChainSpec } from '../../../src/modules/docker/lib/docker-user.js';
import { NetnsSandbox, unavailable } from '../../helpers/netns-sandbox.js';

const why = unavailable(['iptables', 'iptables-restore']);

describe('docker-firewall on a real iptables (network namespace)', function () {
  this.timeout(60_000);
  let box: NetnsSandbox;
  const run = (script: string, stdin?: string) => box.run(script, stdin);
  const chain = () => {
    const f = parseIptablesChain('DOCKER-USER', run(iptablesChain('DOCKER-USER').command));
    if (!f.available) throw new Error('iptables missing');
    return f;
  };
  /** Writes the script where the unit would find it, and runs it. */
  const apply = (spec: ChainSpec) => {
    const script = renderScript(chainRules(spec));
    const r = run(`cat > /usr/local/sbin/tsplay-docker-user && chmod 0755 /usr/local/sbin/tsplay-docker-user && /usr/local/sbin/tsplay-docker-user`, script);
    expect(r.code, r.stderr).to.equal(0);
  };

  before(function () {
    if (why) this.skip();
    box = new NetnsSandbox();
    box.withEmptyDir('/usr/local/sbin');
    box.start();
    // What dockerd sets up: its chains, the jump to DOCKER-USER first, a RETURN in DOCKER-USER.
    const r = run(
      'iptables -N DOCKER && iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN && ' +
        'iptables -A FORWARD -j DOCKER-USER && iptables -A FORWARD -o docker0 -j DOCKER && iptables -A DOCKER -d 172.17.0.2/32 -p tcp --dport 80 -j ACCEPT',
    );
    expect(r.code, r.stderr).to.equal(0);
  });
  after(() => box?.stop());

  it('reports a missing chain as absent, not as an error', () => {
    const other = parseIptablesChain('NO-SUCH-CHAIN', run(iptablesChain('NO-SUCH-CHAIN').command));
    expect(other).to.deep.include({ available: true, exists: false, rules: [] });
  });

  it('replaces the chain, keeps the others, and reads back equal to the wanted lines', () => {
    expect(run('iptables -A DOCKER-USER -s 198.51.100.7 -j ACCEPT').code).to.equal(0);
    const spec: ChainSpec = {
      allow: [
        { port: '80,443/tcp', comment: 'proxy' },
        { port: 3000, from: ['203.0.113.9/24', '198.51.100.7'] },
        { port: '6000:6007/udp', to: '192.0.2.10/32' },
        { from: '10.0.0.0/8' },
      ],
      externalInterface: 'eth0',
      policy: 'reject',
    };
    apply(spec);
    const wanted = chainRules(spec).map((r) => r.line);
    const got = chain();
    expect(got.rules).to.have.length(wanted.length);
    expect(sameRules(got.rules, wanted), `${got.rules.join('\n')}\nvs\n${wanted.join('\n')}`).to.equal(true);
    expect(got.referencedFromForward).to.equal(true);
    expect(run('iptables -S DOCKER').stdout).to.include('-A DOCKER -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j ACCEPT');
    expect(run('iptables -S FORWARD').stdout.split('\n')[1]).to.equal('-A FORWARD -j DOCKER-USER');
    // Running it again changes nothing.
    apply(spec);
    expect(chain().rules).to.deep.equal(got.rules);
  });

  it('hands the chain back to Docker with a lone RETURN (state: absent)', () => {
    const r = run('iptables-restore -w 10 --noflush', restoreInput([{ line: RETURN_ALL, note: '' }]));
    expect(r.code, r.stderr).to.equal(0);
    expect(chain().rules).to.deep.equal([RETURN_ALL]);
  });

  it('lets a published port through only when declared (veth + DNAT, like dockerd)', async () => {
    // outside (netns "client", 10.99.0.2) -- eth0 | host (10.99.0.1) | docker0 (172.17.0.1) -- container (172.17.0.2)
    const client = new NetnsSandbox().start();
    const container = new NetnsSandbox().start();
    const servers: ChildProcess[] = [];
    try {
      const setup = [
        `ip link add eth0 type veth peer name c0 && ip link set c0 netns ${client.name}`,
        `ip link add docker0 type veth peer name k0 && ip link set k0 netns ${container.name}`,
        'ip addr add 10.99.0.1/24 dev eth0 && ip link set eth0 up && ip addr add 172.17.0.1/24 dev docker0 && ip link set docker0 up',
        'sysctl -qw net.ipv4.ip_forward=1',
        // Two published ports, as dockerd publishes them: DNAT, then an ACCEPT in its DOCKER chain.
        'iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80',
        'iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 9090 -j DNAT --to-destination 172.17.0.2:90',
        'iptables -A DOCKER -d 172.17.0.2/32 -p tcp --dport 90 -j ACCEPT',
      ].join(' && ');
      const r = run(setup);
      expect(r.code, r.stderr).to.equal(0);
      expect(client.run('ip addr add 10.99.0.2/24 dev c0 && ip link set c0 up && ip route add default via 10.99.0.1').code).to.equal(0);
      expect(container.run('ip addr add 172.17.0.2/24 dev k0 && ip link set k0 up && ip route add default via 172.17.0.1').code).to.equal(0);
      // The "containers": TCP servers that answer with their port number (killed by pid below).
      for (const port of [80, 90]) {
        const code = `require('net').createServer((s) => s.end('${port}\\n')).listen(${port}, () => console.log('up'))`;
        const child = spawn('ip', ['netns', 'exec', container.name, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
        servers.push(child);
        await new Promise((res) => child.stdout!.once('data', res));
      }
      const probe = (port: number) => {
        const code = `const s = require('net').connect(${port}, '10.99.0.1'); s.setTimeout(1500, () => process.exit(0)); s.on('data', (d) => { process.stdout.write(d); process.exit(0); }); s.on('error', () => process.exit(0));`;
        return spawnSync('ip', ['netns', 'exec', client.name, process.execPath, '-e', code], { encoding: 'utf8' }).stdout.trim();
      };
      expect(probe(9090), 'before docker-firewall, every published port answers').to.equal('90');
      apply({ allow: [{ port: 8080 }], externalInterface: 'eth0', policy: 'drop' });
      expect(probe(8080), 'declared published port').to.equal('80');
      expect(probe(9090), 'undeclared published port').to.equal('');
    } finally {
      for (const s of servers) if (s.pid) process.kill(s.pid);
      client.stop();
      container.stop();
    }
  });
});

