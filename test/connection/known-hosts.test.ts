import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostKeyCheck, knownHostsReads } from '../../src/connection/host-key-check.js';
import {
  checkKnownHost,
  fingerprint,
  formatKnownHostsLine,
  hostKeyAlgorithms,
  hostToken,
  keyTypeOfBlob,
  parseKnownHosts,
} from '../../src/connection/known-hosts.js';
import { HostKeyError } from '../../src/connection/types.js';

const FIXTURES = new URL('./fixtures/known-hosts/', import.meta.url);
const knownHostsText = readFileSync(new URL('known_hosts', FIXTURES), 'utf8');
const keys: Record<string, string> = JSON.parse(readFileSync(new URL('keys.json', FIXTURES), 'utf8'));
const key = (name: string) => Buffer.from(keys[name]!, 'base64');

interface Case {
  title: string;
  host: string;
  port: number;
  key: string;
  expect: 'known' | 'unknown' | 'changed' | 'other-type' | 'revoked';
  line?: number;
}
const cases: Case[] = JSON.parse(readFileSync(new URL('cases.json', FIXTURES), 'utf8'));

describe('known_hosts parsing', () => {
  const entries = parseKnownHosts(knownHostsText, 'fixture');

  it('keeps well-formed lines (with markers) and skips comments, blanks and malformed lines', () => {
    expect(entries.map((e) => e.line)).to.deep.equal([2, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(entries.find((e) => e.line === 10)!.marker).to.equal('revoked');
    expect(entries.find((e) => e.line === 11)!.marker).to.equal('cert-authority');
    expect(entries.map((e) => e.keyType)).to.include.members(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa']);
  });

  describe('checkKnownHost (fixtures/known-hosts/cases.json)', () => {
    for (const c of cases) {
      it(`${c.title}: ${hostToken(c.host, c.port)} with ${c.key} -> ${c.expect}`, () => {
        const verdict = checkKnownHost(entries, hostToken(c.host, c.port), key(c.key));
        expect(verdict.status).to.equal(c.expect);
        if (c.line !== undefined) expect((verdict as { entry: { line: number } }).entry.line).to.equal(c.line);
      });
    }
  });

  it('writes [host]:port tokens except for port 22, lower-cased', () => {
    expect(hostToken('Web1.example', 22)).to.equal('web1.example');
    expect(hostToken('127.0.0.1', 2222)).to.equal('[127.0.0.1]:2222');
  });

  it('formats a line that parses back to the same key', () => {
    const line = formatKnownHostsLine('[127.0.0.1]:2222', key('ecdsa_a'));
    expect(line).to.match(/^\[127\.0\.0\.1\]:2222 ecdsa-sha2-nistp256 AAAA/);
    const [e] = parseKnownHosts(line);
    expect(e!.key.equals(key('ecdsa_a'))).to.equal(true);
  });

  it('reads the key type from the blob and computes the fingerprint ssh-keygen -l prints', () => {
    expect(keyTypeOfBlob(key('rsa_a'))).to.equal('ssh-rsa');
    expect(keyTypeOfBlob(Buffer.from('nonsense'))).to.equal(undefined);
    expect(fingerprint(key('ed25519_a'))).to.equal('SHA256:NiiqpbwLjEuSBCIiV92SrglcnjSTfA4vStmLtuyiGQY');
  });

  it('offers the host key algorithms already known for the host first', () => {
    expect(hostKeyAlgorithms(entries, 'web3.example.com').slice(0, 3)).to.deep.equal(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms(entries, '[192.0.2.11]:2222')[0]).to.equal('ecdsa-sha2-nistp256');
    expect(hostKeyAlgorithms(entries, 'nowhere.example')[0]).to.equal('ssh-ed25519');
  });
});

describe('HostKeyCheck policy', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-kh-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const check = async (mode: 'strict' | 'accept-new' | 'off', file: string, port = 2222) => {
    const c = new HostKeyCheck('127.0.0.1', port, mode, file);
    await c.load();
    return c;
  };

  it('strict: an unknown key fails with the ssh-keyscan hint', async () => {
    const file = join(dir, 'known_hosts');
    const c = await check('strict', file);
    const err = await c.verify(key('ed25519_a')).catch((e) => e);
    expect(err).to.be.instanceOf(HostKeyError);
    expect(err.message).to.equal(
      `host key for [127.0.0.1]:2222 is not known; to trust it run: ssh-keyscan -p 2222 127.0.0.1 >> ${file} (or set host_key_checking: accept-new)`,
    );
  });

  it('many hosts in one known_hosts: the file is parsed once, and again as soon as it changes', async () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, Array.from({ length: 50 }, (_, i) => `[10.0.0.${i}]:2222 ssh-ed25519 ${keys.ed25519_a}\n`).join(''));
    const before = knownHostsReads.count;
    const checks = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const c = new HostKeyCheck(`10.0.0.${i}`, 2222, 'strict', file);
        await c.load();
        return c;
      }),
    );
    await Promise.all(checks.map((c) => c.verify(key('ed25519_a'))));
    expect(knownHostsReads.count - before, 'parses of the file for 50 hosts').to.equal(1);
    // A line added (by ssh-keyscan, another run): the next connection reads the file again and knows the host.
    writeFileSync(file, `[127.0.0.1]:2222 ssh-ed25519 ${keys.ed25519_b}\n`, { flag: 'a' });
    await (await check('strict', file)).verify(key('ed25519_b'));
    expect(knownHostsReads.count - before).to.equal(2);
    // That host's key changed since: refused, not served from an earlier parse.
    writeFileSync(file, `[127.0.0.1]:2222 ssh-ed25519 ${keys.ed25519_a}\n`);
    const err = await (await check('strict', file)).verify(key('ed25519_b')).catch((e) => e);
    expect(err).to.be.instanceOf(HostKeyError);
    expect(err.message).to.contain('HOST KEY CHANGED');
  });

  it('strict: port 22 hint has no -p', async () => {
    const c = await check('strict', join(dir, 'kh'), 22);
    const err = await c.verify(key('ed25519_a')).catch((e) => e);
    expect(err.message).to.contain('ssh-keyscan 127.0.0.1 >> ');
  });

  it('accept-new: appends an unknown key (creating folder and file) once, even when asked concurrently', async () => {
    const file = join(dir, 'sub', 'known_hosts');
    const c1 = await check('accept-new', file);
    const c2 = await check('accept-new', file);
    await Promise.all([c1.verify(key('ed25519_a')), c2.verify(key('ed25519_a'))]);
    const text = readFileSync(file, 'utf8');
    expect(text).to.equal(`[127.0.0.1]:2222 ssh-ed25519 ${keys.ed25519_a}\n`);
    await (await check('strict', file)).verify(key('ed25519_a')); // now known
  });

  it('accept-new: adds a newline when the file does not end with one', async () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `other.example ssh-ed25519 ${keys.ed25519_b}`);
    await (await check('accept-new', file)).verify(key('ed25519_a'));
    expect(readFileSync(file, 'utf8').split('\n')).to.have.length(3);
  });

  it('accept-new: a changed key still fails and the file is untouched', async () => {
    const file = join(dir, 'known_hosts');
    const before = `[127.0.0.1]:2222 ssh-ed25519 ${keys.ed25519_b}\n`;
    writeFileSync(file, before);
    const err = await (await check('accept-new', file)).verify(key('ed25519_a')).catch((e) => e);
    expect(err).to.be.instanceOf(HostKeyError);
    expect(err.message).to.match(/^HOST KEY CHANGED for \[127\.0\.0\.1\]:2222: .*SHA256:NiiqpbwLjEuSBCIiV92SrglcnjSTfA4vStmLtuyiGQY.*possible man-in-the-middle/);
    expect(err.message).to.contain(`${file}:1`);
    expect(err.message).to.contain(`ssh-keygen -R '[127.0.0.1]:2222' -f ${file}`);
    expect(err.message).not.to.contain('\n');
    expect(readFileSync(file, 'utf8')).to.equal(before);
  });

  it('off: accepts any key and writes nothing', async () => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `[127.0.0.1]:2222 ssh-ed25519 ${keys.ed25519_b}\n`);
    await (await check('off', file)).verify(key('ed25519_a'));
    expect(readFileSync(file, 'utf8')).to.equal(`[127.0.0.1]:2222 ssh-ed25519 ${keys.ed25519_b}\n`);
  });
});
