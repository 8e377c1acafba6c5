/**
 * The address helpers behind the firewall modules: parsing like inet_pton, printing like glibc's
 * inet_ntop (the expected texts below were produced by Python's socket.inet_ntop, which is what
 * ufw uses to normalize addresses), containment, and the port/interface parameter parsers.
 */
import { expect } from 'chai';
import { canonicalCidr, cidrContains, formatIpv6, parseCidr, parseIpv4, parseIpv6, type Cidr } from '../../../src/modules/lib/ip.js';
import { interfaceError, parsePort, portMatches } from '../../../src/modules/lib/validators.js';

const cidr = (s: string): Cidr => {
  const c = parseCidr(s);
  if (typeof c === 'string') throw new Error(c);
  return c;
};

describe('IPv6 text, as inet_ntop prints it', () => {
  const table: Array<[string, string]> = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::', '1::'],
    ['0:0:0:0:0:1:0:0', '::1:0:0'],
    ['1:0:2:0:3:0:4:0', '1:0:2:0:3:0:4:0'],
    ['::0:0:0:0:0:0:0', '::'],
    ['0::ffff:0:0', '::ffff:0.0.0.0'],
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['::0.0.0.1', '::1'],
  ];
  for (const [input, want] of table) {
    it(`${input} -> ${want}`, () => expect(formatIpv6(parseIpv6(input)!)).to.equal(want));
  }
  for (const bad of [':::', '1::2::3', '12345::', '1.2.3.4::', 'g::1', '::ffff:1.2.3.256', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '::01.2.3.4', '1:2:3:4:5:6:7', '::1.2.3.4:5', '', ':1::', '1::2:']) {
    it(`rejects ${JSON.stringify(bad)}`, () => expect(parseIpv6(bad)).to.equal(undefined));
  }
});

describe('IPv4 and CIDR parsing', () => {
  it('accepts dotted quads only, without leading zeros', () => {
    expect(parseIpv4('1.2.3.4')).to.deep.equal([1, 2, 3, 4]);
    for (const bad of ['01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.5', '1.2.3.04', '1.2.3.-1']) expect(parseIpv4(bad), bad).to.equal(undefined);
  });

  it('says what is wrong with a bad network', () => {
    expect(parseCidr('10.0.0.0/33')).to.equal('"10.0.0.0/33": the prefix length must be 0-32');
    expect(parseCidr('2001:db8::/129')).to.equal('"2001:db8::/129": the prefix length must be 0-128');
    expect(parseCidr('10.0.0.0/255.0.0.0')).to.include('write the netmask as a prefix length');
    expect(parseCidr('10.0.0.300')).to.include('is not a valid IPv4/IPv6 address');
    expect(parseCidr('example.com')).to.include('is not a valid IPv4/IPv6 address');
    expect(parseCidr('10.0.0.0/08')).to.include('prefix length');
  });

  it('normalizes like ufw: IPv4 host bits cleared, no /32 or /128', () => {
    expect(canonicalCidr(cidr('10.1.2.3/8'), { zeroHostBits: true })).to.equal('10.0.0.0/8');
    expect(canonicalCidr(cidr('192.0.2.7/32'), { zeroHostBits: true })).to.equal('192.0.2.7');
    expect(canonicalCidr(cidr('192.0.2.7/32'), { zeroHostBits: true, keepHostPrefix: true })).to.equal('192.0.2.7/32');
    expect(canonicalCidr(cidr('2001:DB8:0:0::1/128'))).to.equal('2001:db8::1');
    expect(canonicalCidr(cidr('0.0.0.0/0'))).to.equal('0.0.0.0/0');
  });

  it('tests containment within one family', () => {
    expect(cidrContains(cidr('10.0.0.0/8'), cidr('10.200.3.4'))).to.equal(true);
    expect(cidrContains(cidr('10.0.0.0/8'), cidr('11.0.0.1'))).to.equal(false);
    expect(cidrContains(cidr('10.0.0.0/8'), cidr('10.0.0.0/7'))).to.equal(false);
    expect(cidrContains(cidr('0.0.0.0/0'), cidr('203.0.113.5'))).to.equal(true);
    expect(cidrContains(cidr('2001:db8::/32'), cidr('2001:db8:ffff::1'))).to.equal(true);
    expect(cidrContains(cidr('2001:db8::/33'), cidr('2001:db8:ffff::1'))).to.equal(false);
    expect(cidrContains(cidr('::/0'), cidr('10.0.0.1'))).to.equal(false);
  });
});

describe('port and interface parameters', () => {
  it('parses single ports, ranges and lists with an optional protocol', () => {
    expect(parsePort(22)).to.deep.include({ ports: '22', multi: false, proto: undefined });
    expect(parsePort('22/TCP')).to.deep.include({ ports: '22', proto: 'tcp' });
    expect(parsePort('6000:6007/udp')).to.deep.include({ ports: '6000:6007', multi: true, proto: 'udp' });
    expect(parsePort('443,80,8000:8010/tcp')).to.deep.include({ ports: '80,443,8000:8010', multi: true });
  });

  it('rejects what ufw and iptables would reject', () => {
    expect(parsePort(0)).to.include('not a number from 1 to 65535');
    expect(parsePort('65536')).to.include('not a number from 1 to 65535');
    expect(parsePort('22/sctp')).to.include('must be /tcp or /udp');
    expect(parsePort('7:5')).to.include('lower than the second');
    expect(parsePort('5:5')).to.include('lower than the second');
    expect(parsePort('1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16/tcp')).to.include('at most 15 ports');
    expect(parsePort('1,2,3,4,5,6,7,8,9,10,11,12,13,14:15/tcp')).to.be.an('object');
    expect(parsePort('http')).to.include('not a number');
  });

  it('matches a port against ranges', () => {
    const spec = parsePort('80,6000:6007/tcp');
    if (typeof spec === 'string') throw new Error(spec);
    expect([79, 80, 6000, 6007, 6008].map((p) => portMatches(spec, p))).to.deep.equal([false, true, true, true, false]);
  });

  it('validates interface names', () => {
    expect(interfaceError('eth0')).to.equal(undefined);
    expect(interfaceError('br-1a2b3c4d5e6f')).to.equal(undefined);
    expect(interfaceError('eth+', { wildcard: true })).to.equal(undefined);
    expect(interfaceError('eth+')).to.include('not a valid interface name');
    expect(interfaceError('eth0:1')).to.include('not a valid interface name');
    expect(interfaceError('averyveryverylongname')).to.include('longer than 15');
    expect(interfaceError('..')).to.include('not a valid interface name');
  });
});
