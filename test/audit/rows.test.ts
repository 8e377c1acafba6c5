/**
 * The audit's classification and merging, from fixture facts: the snapshot captured on the lab
 * host e2e2 (ufw active with default deny and SSH allowed; a compose stack with web public on
 * 8080, metrics on 127.0.0.1:9090, db internal; a container started by hand on 8081; nc on
 * 7070; Docker's embedded DNS on 127.0.0.11) and variations of it. No host is contacted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { emptyDeclarations, type HostDeclarations } from '../../src/audit/declared.js';
import { dockerUserVerdict, portInList, ufwVerdict } from '../../src/audit/firewall.js';
import { applyProbe, hostRows, type AuditRow } from '../../src/audit/rows.js';
import { parseExposureSnapshot, type ExposureSnapshotFact } from '../../src/facts/exposure-snapshot.js';
import { parseTuple, type UfwRule } from '../../src/facts/ufw.js';
import { exposureSchema } from '../../src/modules/docker/lib/exposure.js';

const LAB = readFileSync(join(import.meta.dirname, '../fixtures/audit/lab-ufw-and-docker.out'), 'utf8');
const snapshot = (): ExposureSnapshotFact => parseExposureSnapshot({ stdout: LAB, stderr: '', code: 0 });
const policy = (p: Record<string, unknown>) => exposureSchema.parse(p);
const declared = (p: Record<string, unknown> = { web: 'public', metrics: 'localhost', db: 'internal' }): HostDeclarations => ({
  ...emptyDeclarations(),
  compose: [{ project: 'tsplay-audit', policy: policy(p), where: 'site.yml:9:7 (task "stack")' }],
});
const tuple = (line: string): UfwRule => parseTuple(`### tuple ### ${line}`, false) as UfwRule;

/** "PORT/PROTO ADDRESS CLASS KIND ADMITS DECLARED [UNDECLARED]" per row. */
const brief = (rows: AuditRow[]) =>
  rows.map((r) => [`${r.port ?? '-'}/${r.proto}`, r.address || '-', r.class, r.kind, r.container?.service ?? r.container?.name ?? r.process ?? '?', r.firewall.admits, r.declared?.level ?? '-', r.undeclared ? 'UNDECLARED' : ''].join(' ').trim());

describe('audit rows', () => {
  it('the lab snapshot: classes, the deciding chain, declared levels; docker-proxy sockets fold into their ports', () => {
    const { rows, notes } = hostRows(snapshot(), declared(), { sshPort: 22 });
    expect(notes).to.deep.equal([]);
    expect(brief(rows)).to.deep.equal([
      '22/tcp 0.0.0.0, :: public socket sshd yes public',
      '7070/tcp 0.0.0.0 public socket nc no -',
      '8080/tcp 0.0.0.0 public docker web yes public',
      '8081/tcp 0.0.0.0 public docker tsplay-audit-rogue yes - UNDECLARED',
      '9090/tcp 127.0.0.1 localhost docker metrics no localhost',
      '35774/udp 127.0.0.11 localhost socket ? no -',
      '40231/tcp 127.0.0.1 localhost socket containerd no -',
      '41677/tcp 127.0.0.11 localhost socket ? no -',
      '-/tcp - internal docker db no internal',
    ]);
    const web = rows.find((r) => r.port === 8080)!;
    expect(web.process).to.equal('docker-proxy');
    expect(web.firewall).to.deep.equal({
      admits: 'yes',
      path: 'FORWARD',
      reason: 'Docker-published: bypasses ufw (deny incoming), goes through FORWARD/DOCKER-USER; DOCKER-USER: -j RETURN',
    });
    expect(web.declared!.by).to.equal('compose-deploy exposure web: public (site.yml:9:7 (task "stack"))');
    expect(rows.find((r) => r.port === 7070)!.firewall).to.deep.equal({ admits: 'no', path: 'INPUT', reason: 'ufw: default deny incoming' });
    expect(rows.find((r) => r.port === 22)!.firewall.reason).to.equal('ufw: allow 22/tcp');
    expect(rows.find((r) => r.port === 8081)!.declaredNote).to.equal('not a compose project: no policy declares it');
  });

  it('a service published more widely than its policy says is flagged, with the declared level shown', () => {
    const { rows } = hostRows(snapshot(), declared({ web: 'localhost', metrics: 'localhost', db: 'internal' }), { sshPort: 22 });
    const web = rows.find((r) => r.port === 8080)!;
    expect(web.declared?.level).to.equal('localhost');
    expect(web.undeclared).to.equal(true);
  });

  it('a per-port policy, a service missing from the policy, a project no task declares', () => {
    let rows = hostRows(snapshot(), declared({ web: { '8080': 'public' }, db: 'internal' }), { sshPort: 22 }).rows;
    expect(rows.find((r) => r.port === 8080)!.declared?.level).to.equal('public');
    expect(rows.find((r) => r.port === 9090)!.declaredNote).to.equal('metrics is not in the exposure policy at site.yml:9:7 (task "stack")');
    expect(rows.find((r) => r.port === 9090)!.undeclared, 'localhost is never reachable from outside').to.equal(false);
    rows = hostRows(snapshot(), emptyDeclarations(), { sshPort: 22 }).rows;
    expect(rows.find((r) => r.port === 8080)!).to.deep.include({ undeclared: true, declaredNote: 'no compose-deploy task declares project tsplay-audit' });
  });

  it('without a firewall every public socket is reachable; an install-ufw rule declares a port', () => {
    const s = snapshot();
    s.ufw = { ...s.ufw, active: false, enabled: false };
    s.input = { available: true, version: 'iptables v1.8.9 (nf_tables)', exists: true, rules: [], referencedFromForward: false };
    s.inputPolicy = 'ACCEPT';
    let rows = hostRows(s, declared(), { sshPort: 22 }).rows;
    expect(rows.find((r) => r.port === 7070)!).to.deep.include({ undeclared: true, firewall: { admits: 'yes', path: 'INPUT', reason: 'no firewall: INPUT accepts everything' } });
    const decl = declared();
    decl.firewall.push({ rules: [tuple('allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in'), tuple('allow tcp 7000:7100 0.0.0.0/0 any 0.0.0.0/0 in')], state: 'enabled', where: 'site.yml:4:7' });
    rows = hostRows(s, decl, { sshPort: 22 }).rows;
    expect(rows.find((r) => r.port === 7070)!).to.deep.include({ undeclared: false, declared: { level: 'public', by: 'install-ufw rule "allow 7000:7100/tcp" (site.yml:4:7)' } });
  });

  it('INPUT rules not written by ufw and an unreadable firewall are "unknown", and count as reachable', () => {
    const s = snapshot();
    s.ufw = { ...s.ufw, active: false };
    s.input = { available: true, version: 'v', exists: true, rules: ['-A INPUT -p tcp --dport 22 -j ACCEPT'], referencedFromForward: false };
    expect(hostRows(s, declared(), { sshPort: 22 }).rows.find((r) => r.port === 7070)!).to.deep.include({
      undeclared: true,
      firewall: { admits: 'unknown', path: 'INPUT', reason: 'INPUT has 1 rule(s) not managed by ufw (not evaluated)' },
    });
    s.ufw = { ...s.ufw, active: null, enabled: true };
    expect(hostRows(s, declared(), { sshPort: 22 }).rows.find((r) => r.port === 7070)!.firewall.reason).to.equal('ufw is enabled but its chains could not be read (not root?)');
  });

  it('DOCKER-USER written by docker-firewall decides published ports; without the chain they go through INPUT', () => {
    const s = snapshot();
    s.dockerUser = {
      available: true,
      version: 'v',
      exists: true,
      referencedFromForward: true,
      rules: [
        '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
        '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j RETURN',
        '-A DOCKER-USER -i eth0 -j DROP',
        '-A DOCKER-USER -j RETURN',
      ],
    };
    let rows = hostRows(s, declared(), { sshPort: 22 }).rows;
    expect(rows.find((r) => r.port === 8080)!.firewall.admits).to.equal('yes');
    expect(rows.find((r) => r.port === 8081)!).to.deep.include({ undeclared: false });
    expect(rows.find((r) => r.port === 8081)!.firewall.reason).to.include('DOCKER-USER: -i eth0 -j DROP');
    s.dockerUser = { available: true, version: 'v', exists: false, rules: [], referencedFromForward: false };
    rows = hostRows(s, declared(), { sshPort: 22 }).rows;
    expect(rows.find((r) => r.port === 8081)!).to.deep.include({ undeclared: false });
    expect(rows.find((r) => r.port === 8081)!.firewall).to.deep.include({ admits: 'no', path: 'INPUT' });
  });

  it('a network_mode: host container: its sockets name it, its policy must say host-network', () => {
    const s = snapshot();
    if (s.docker.state !== 'ok' || !s.listening.available) throw new Error('fixture');
    s.docker.containers.push({ id: 'abcdef0123456789', name: 'agent_agent_1', image: 'agent:2', project: 'agent', service: 'agent', networkMode: 'host', pid: 4242, ports: [] });
    s.listening.sockets.push({ proto: 'tcp', address: '0.0.0.0', port: 9100, processes: [{ name: 'agent', pid: 4242 }] });
    const decl = declared();
    let row = hostRows(s, decl, { sshPort: 22 }).rows.find((r) => r.port === 9100)!;
    expect(row).to.deep.include({ class: 'host-network', kind: 'host-network', undeclared: false, process: 'agent' });
    expect(row.container).to.deep.include({ name: 'agent_agent_1', service: 'agent', networkMode: 'host' });
    expect(row.firewall, 'ufw applies: the host network goes through INPUT').to.deep.equal({ admits: 'no', path: 'INPUT', reason: 'ufw: default deny incoming' });
    s.ufw = { ...s.ufw, active: false };
    s.input = { available: true, version: 'v', exists: true, rules: [], referencedFromForward: false };
    s.inputPolicy = 'ACCEPT';
    row = hostRows(s, decl, { sshPort: 22 }).rows.find((r) => r.port === 9100)!;
    expect(row).to.deep.include({ undeclared: true, declared: null, declaredNote: 'no compose-deploy task declares project agent' });
    decl.compose.push({ project: 'agent', policy: policy({ agent: 'host-network' }), where: 'x.yml:1:1' });
    row = hostRows(s, decl, { sshPort: 22 }).rows.find((r) => r.port === 9100)!;
    expect(row).to.deep.include({ undeclared: false, declared: { level: 'host-network', by: 'compose-deploy exposure agent: host-network (x.yml:1:1)' } });
  });

  it('docker that cannot be read and a missing ss are notes, not rows', () => {
    const s = snapshot();
    s.docker = { state: 'error', error: 'permission denied' };
    s.listening = { available: false };
    expect(hostRows(s, emptyDeclarations(), { sshPort: 22 })).to.deep.equal({ rows: [], notes: ['ss is not installed: listening sockets could not be read', 'docker: permission denied'] });
  });

  it('a probe that answers flags a port the firewall analysis called blocked', () => {
    const { rows } = hostRows(snapshot(), declared(), { sshPort: 22 });
    const nc = rows.find((r) => r.port === 7070)!;
    applyProbe(nc, 'timeout');
    expect(nc.undeclared).to.equal(false);
    applyProbe(nc, 'open');
    expect(nc).to.deep.include({ probe: 'open', undeclared: true });
    const web = rows.find((r) => r.port === 8080)!;
    applyProbe(web, 'open');
    expect(web.undeclared).to.equal(false);
  });
});

describe('audit firewall verdicts', () => {
  it('ufw: first match wins; a deny for some sources does not decide for others; limit admits; default policy last', () => {
    const rules = [
      tuple('deny tcp 8080 0.0.0.0/0 any 10.0.0.0/8 in'),
      tuple('allow tcp 8080 0.0.0.0/0 any 192.168.1.0/24 in'),
      tuple('limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in'),
      tuple('allow udp 6000:6007 0.0.0.0/0 any 0.0.0.0/0 in'),
      tuple('reject any 9000 0.0.0.0/0 any 0.0.0.0/0 in'),
    ];
    expect(ufwVerdict(rules, 'deny', 'tcp', 8080)).to.deep.equal({ admits: 'restricted', reason: 'ufw: allow 8080/tcp from 192.168.1.0/24' });
    expect(ufwVerdict(rules, 'deny', 'tcp', 22)).to.deep.equal({ admits: 'yes', reason: 'ufw: limit 22/tcp' });
    expect(ufwVerdict(rules, 'deny', 'udp', 6003).admits).to.equal('yes');
    expect(ufwVerdict(rules, 'deny', 'tcp', 6003)).to.deep.equal({ admits: 'no', reason: 'ufw: default deny incoming' });
    expect(ufwVerdict(rules, 'allow', 'udp', 9000)).to.deep.equal({ admits: 'no', reason: 'ufw: reject 9000' });
    expect(ufwVerdict(rules, 'allow', 'tcp', 1234)).to.deep.equal({ admits: 'yes', reason: 'ufw: default allow incoming' });
  });

  it('ufw port lists', () => {
    expect(['any', '22', '6000:6007', '80,443', '80,8000:8010'].map((l) => [portInList(l, 80), portInList(l, 8005)])).to.deep.equal([
      [true, true],
      [false, false],
      [false, false],
      [true, false],
      [true, true],
    ]);
  });

  it('DOCKER-USER: replies skipped, protocol and port matched, a source makes it restricted, unknown targets are unknown', () => {
    const rules = ['-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN', '-A DOCKER-USER -s 10.0.0.0/8 -p tcp -m conntrack --ctorigdstport 5432 -j RETURN', '-A DOCKER-USER -p udp -m conntrack --ctorigdstport 53 -j LOG'];
    expect(dockerUserVerdict(rules, 'tcp', 5432)).to.deep.equal({ admits: 'restricted', reason: 'DOCKER-USER: -s 10.0.0.0/8 -p tcp -m conntrack --ctorigdstport 5432 -j RETURN' });
    expect(dockerUserVerdict(rules, 'udp', 53).admits).to.equal('unknown');
    expect(dockerUserVerdict(rules, 'tcp', 53)).to.deep.equal({ admits: 'yes', reason: 'DOCKER-USER: no rule matches (Docker accepts published ports)' });
  });
});
