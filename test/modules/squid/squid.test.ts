/**
 * configure-squid-proxy without a host: parameter checks (what a playbook author gets told),
 * the renderer's rule order, the service step and the probe's keys. Its fixtures
 * (test/fixtures/modules/configure-squid-proxy) run in test/modules/fixtures.test.ts; the real
 * squid is exercised in squid-real.test.ts.
 */
import { expect } from 'chai';
import squid, { squidServiceStep } from '../../../src/modules/squid/configure-squid-proxy.js';
import { renderSquidConf } from '../../../src/modules/squid/lib/squid-conf.js';
import { squidParams } from '../../../src/modules/squid/lib/squid-params.js';
import { cidrContains, cidrError, portError } from '../../../src/modules/lib/validators.js';

const errors = (raw: unknown): string[] => {
  const r = squidParams.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
const render = (raw: Record<string, unknown>) => renderSquidConf(squidParams.parse(raw));
const lines = (text: string) => text.split('\n');

describe('configure-squid-proxy parameters', () => {
  it('accepts networks, addresses and IPv6 networks', () => {
    expect(errors({ allowed_networks: ['192.168.165.0/24', '10.1.2.3', 'fd00::/8', '2001:db8:1::/48'] })).to.deep.equal([]);
    expect(errors({ allowed_networks: ['0.0.0.0/0', '::/0'] })).to.deep.equal([]);
  });

  it('rejects bad networks with the fix in the message', () => {
    expect(cidrError('192.168.165.7/24')).to.equal('"192.168.165.7/24" has host bits set: the network is 192.168.165.0/24');
    expect(cidrError('2001:db8::1/32')).to.equal('"2001:db8::1/32" has host bits set: the network is 2001:db8::/32');
    expect(cidrError('10.0.0.0/33')).to.include('0-32');
    expect(cidrError('fd00::/129')).to.include('0-128');
    expect(cidrError('10.0.0/8')).to.include('not an IP address');
    expect(cidrError('256.1.1.1')).to.include('not an IP address');
    expect(cidrError('fe80::1%eth0')).to.include('not an IP address');
  });

  it('knows which network contains which', () => {
    expect(cidrContains('10.0.0.0/8', '10.81.0.0/16')).to.equal(true);
    expect(cidrContains('10.81.0.0/16', '10.0.0.0/8')).to.equal(false);
    expect(cidrContains('10.0.0.0/8', '11.0.0.0/16')).to.equal(false);
    expect(cidrContains('fd00::/8', 'fd12:3456::/32')).to.equal(true);
    expect(cidrContains('10.0.0.0/8', 'fd00::/8')).to.equal(false);
    expect(cidrContains('192.168.1.0/24', '192.168.1.9')).to.equal(true);
  });

  it('reports every problem at once, each at its item', () => {
    const errs = errors({
      allowed_networks: ['10.0.0.1/8', '10.0.0.0/8', '10.81.0.0/16'],
      http_port: 0,
      safe_ports: [80, '9000-8000', 'http'],
      denied_domains: ['ok.example', 'bad_name.com', '.sub.ok.example'],
      cache_dir: 'var/spool',
      extra_config: ['a\nb'],
    });
    expect(errs).to.include.members([
      'allowed_networks.0: "10.0.0.1/8" has host bits set: the network is 10.0.0.0/8',
      'http_port: a port is 1-65535',
      'safe_ports.1: "9000-8000": the range is reversed (write "8000-9000")',
      'safe_ports.2: "http" is not a port or a port range like "1025-65535"',
      'denied_domains.1: "bad_name.com" is not a domain name (letters, digits and inner dashes per label, e.g. example.com)',
      'cache_dir: "var/spool" is not an absolute path (it must start with /)',
      'extra_config.0: one squid.conf line per item (no line breaks)',
    ]);
  });

  it('rejects overlapping networks and domains (squid would only warn and ignore them)', () => {
    expect(errors({ allowed_networks: ['10.0.0.0/8', '10.81.0.0/16'] })).to.deep.equal([
      'allowed_networks.1: "10.81.0.0/16" is inside "10.0.0.0/8", which already allows it: remove it',
    ]);
    expect(errors({ allowed_networks: ['10.0.0.0/8', '10.0.0.0/8'] })).to.deep.equal(['allowed_networks.1: "10.0.0.0/8" is listed twice']);
    expect(errors({ allowed_networks: ['10.0.0.0/8'], denied_domains: ['www.facebook.com', '.Facebook.com'] })).to.deep.equal([
      'denied_domains.0: "www.facebook.com" is already denied by ".Facebook.com" (a domain denies its subdomains too): remove it',
    ]);
  });

  it('checks ports and ranges', () => {
    expect(portError(65535)).to.equal(undefined);
    expect(portError(65536)).to.include('out of range');
    expect(portError('1-65535')).to.equal(undefined);
    expect(portError('0-10')).to.include('1-65535');
  });

  it('documents every parameter and has examples', () => {
    const shape = squidParams.shape;
    const missing = Object.entries(shape).filter(([, s]) => !(s as { description?: string }).description).map(([k]) => k);
    expect(missing).to.deep.equal([]);
    expect(squid.examples.length).to.be.at.least(1);
    for (const ex of squid.examples) expect(errors(ex.task['configure-squid-proxy'])).to.deep.equal([]);
  });
});

describe('squid.conf renderer', () => {
  it('ends the access rules with "deny all" and puts denies before allows', () => {
    const text = render({ allowed_networks: ['10.0.0.0/8'], denied_domains: ['example.com'], extra_config: ['http_access deny CONNECT'] });
    const access = lines(text).filter((l) => l.startsWith('http_access'));
    expect(access).to.deep.equal([
      'http_access deny !Safe_ports',
      'http_access deny CONNECT !SSL_ports',
      'http_access allow localhost manager',
      'http_access deny manager',
      'http_access deny to_localhost',
      'http_access deny denied_domains',
      'http_access deny CONNECT',
      'http_access allow localnet',
      'http_access allow localhost',
      'http_access deny all',
    ]);
    expect(text).to.include('acl denied_domains dstdomain .example.com\n');
  });

  it('renders the listen address (IPv6 in brackets) and the port', () => {
    expect(render({ allowed_networks: ['10.0.0.0/8'], listen_address: '10.0.0.1', http_port: 8080 })).to.include('\nhttp_port 10.0.0.1:8080\n');
    expect(render({ allowed_networks: ['fd00::/8'], listen_address: 'fd00::1' })).to.include('\nhttp_port [fd00::1]:3128\n');
  });

  it('renders a disk cache only when asked, and the access log or none', () => {
    const noCache = render({ allowed_networks: ['10.0.0.0/8'] });
    expect(noCache).to.not.include('cache_dir');
    expect(noCache).to.include('access_log daemon:/var/log/squid/access.log squid');
    const cache = render({ allowed_networks: ['10.0.0.0/8'], cache_size_mb: 500, cache_dir: '/srv/cache', access_log: 'none', cache_mem_mb: 64 });
    expect(cache).to.include('\ncache_dir ufs /srv/cache 500 16 256\n');
    expect(cache).to.include('\ncache_mem 64 MB\n');
    expect(cache).to.include('\naccess_log none\n');
  });

  it('uses the given safe and SSL ports, once each', () => {
    const text = render({ allowed_networks: ['10.0.0.0/8'], safe_ports: [80, 80, '8000-8999'], ssl_ports: [443, 8443] });
    expect(lines(text).filter((l) => l.startsWith('acl Safe_ports') || l.startsWith('acl SSL_ports'))).to.deep.equal([
      'acl SSL_ports port 443\t# https',
      'acl SSL_ports port 8443',
      'acl Safe_ports port 80\t# http',
      'acl Safe_ports port 8000-8999',
    ]);
  });

  it('leaves out localhost and the loopback guard when asked', () => {
    const text = render({ allowed_networks: ['10.0.0.0/8'], allow_localhost: false, deny_to_localhost: false });
    expect(text).to.not.include('http_access allow localhost\n');
    expect(text).to.not.include('to_localhost');
  });
});

describe('squid service step', () => {
  it('reloads or restarts squid only when it runs, with systemd or without', () => {
    expect(squidServiceStep('reload').cmd).to.equal(
      'if [ -d /run/systemd/system ]; then systemctl try-reload-or-restart squid.service; elif squid -k check >/dev/null 2>&1; then squid -k reconfigure; fi',
    );
    expect(squidServiceStep('restart').cmd).to.include('systemctl try-restart squid.service');
  });
});

describe('configure-squid-proxy probe', () => {
  it('keys every fact by its fact key, so check-mode assumptions of other tasks apply', () => {
    for (const raw of [{ allowed_networks: ['10.0.0.0/8'] }, { allowed_networks: ['10.0.0.0/8'], cache_size_mb: 100, cache_dir: '/srv/c' }]) {
      const probed = squid.probe!(squidParams.parse(raw)) as Record<string, { key: string }>;
      for (const [name, f] of Object.entries(probed)) expect(f.key).to.equal(name);
    }
  });
});
