/**
 * configure-squid-proxy against the real squid on this machine (root, Debian, `apt-get install
 * squid`; skipped otherwise): every rendered config passes `squid -k parse` without errors or
 * warnings; a broken config is stopped by the put step's validate and never replaces the old
 * file; and the module applied here converges (second run: noop). squid is never started.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runStep } from '../../../src/engine/apply.js';
import squid, { SQUID_VALIDATE } from '../../../src/modules/squid/configure-squid-proxy.js';
import { SQUID_CONF, renderSquidConf } from '../../../src/modules/squid/lib/squid-conf.js';
import { squidParams } from '../../../src/modules/squid/lib/squid-params.js';
import { applyLocal, conn, have, planLocal } from '../../helpers/run-local.js';

const canRun = process.getuid?.() === 0 && have('squid');

/** squid -k parse on a file: exit code and the lines that signal a problem. */
function squidParse(file: string): { code: number; problems: string[]; out: string } {
  const r = spawnSync('squid', ['-k', 'parse', '-f', file], { encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  const problems = out.split('\n').filter((l) => /ERROR|FATAL|WARNING|unrecognized|Bungled/i.test(l));
  return { code: r.status ?? -1, problems, out };
}

const PARAM_SETS: Record<string, Record<string, unknown>> = {
  'the minimum (one network, Debian defaults)': { allowed_networks: ['192.168.165.0/24'] },
  'denied domains, listen address, disk cache, custom log': {
    allowed_networks: ['192.168.165.0/24', '10.81.0.0/16', '172.16.5.7'],
    listen_address: '192.168.165.1',
    http_port: 8080,
    denied_domains: ['facebook.com', '.tiktok.com', 'Ads.Example.NET'],
    cache_size_mb: 2048,
    cache_dir: '/var/cache/squid-test',
    cache_mem_mb: 128,
    access_log: '/var/log/squid/proxy-access.log',
    visible_hostname: 'proxy.lan',
  },
  'IPv6 networks and listen address, custom ports': {
    allowed_networks: ['fd00:1234::/48', '2001:db8::/32', '::1'],
    listen_address: 'fd00:1234::1',
    safe_ports: [80, 443, '8000-8999'],
    ssl_ports: [443, 8443],
  },
  'no cache, no log, no localhost, conf.d and extra lines': {
    allowed_networks: ['10.0.0.0/8'],
    cache_size_mb: 0,
    access_log: 'none',
    allow_localhost: false,
    deny_to_localhost: false,
    include_conf_d: true,
    extra_config: ['acl blocked_nets dst 203.0.113.0/24', 'http_access deny blocked_nets', 'forwarded_for delete'],
  },
};

describe('configure-squid-proxy with the real squid', function () {
  this.timeout(120_000);
  let dir = '';
  before(function () {
    if (!canRun) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'tsplay-squid-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, raw] of Object.entries(PARAM_SETS)) {
    it(`squid -k parse accepts the rendered config: ${name}`, () => {
      const file = join(dir, 'squid.conf');
      writeFileSync(file, renderSquidConf(squidParams.parse(raw)));
      const r = squidParse(file);
      expect(r.problems, r.out).to.deep.equal([]);
      expect(r.code, r.out).to.equal(0);
    });
  }

  it('squid -k parse itself rejects an unknown directive and an undefined ACL (so validate is meaningful)', () => {
    for (const extra of ['no_such_directive on', 'http_access allow no_such_acl']) {
      const file = join(dir, 'bad.conf');
      writeFileSync(file, renderSquidConf(squidParams.parse({ allowed_networks: ['10.0.0.0/8'], extra_config: [extra] })));
      expect(squidParse(file).code, extra).to.not.equal(0);
    }
  });

  it("the put step's validate stops a broken config: the old file stays, no temp file is left", async () => {
    const target = join(dir, 'live', 'squid.conf');
    execFileSync('mkdir', ['-p', join(dir, 'live')]);
    const good = renderSquidConf(squidParams.parse({ allowed_networks: ['10.0.0.0/8'] }));
    writeFileSync(target, good);
    const bad = renderSquidConf(squidParams.parse({ allowed_networks: ['10.0.0.0/8'], extra_config: ['cache_dir ufs /x notanumber 16 256'] }));
    let err: Error | undefined;
    try {
      await runStep({ kind: 'put', path: target, content: bad, mode: '0644', validate: SQUID_VALIDATE }, { conn });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/^validation failed/);
    expect(readFileSync(target, 'utf8')).to.equal(good);
    expect(readdirSync(join(dir, 'live'))).to.deep.equal(['squid.conf']);
    // and a good one goes through
    await runStep({ kind: 'put', path: target, content: `${good}# v2\n`, mode: '0644', validate: SQUID_VALIDATE }, { conn });
    expect(readFileSync(target, 'utf8')).to.equal(`${good}# v2\n`);
  });

  describe('applied on this machine (squid installed, not running)', () => {
    let original: Buffer | undefined;
    const cacheDir = '/var/cache/tsplay-squid-test';
    before(() => {
      original = existsSync(SQUID_CONF) ? readFileSync(SQUID_CONF) : undefined;
    });
    after(() => {
      if (original) writeFileSync(SQUID_CONF, original);
      rmSync(cacheDir, { recursive: true, force: true });
    });

    const raw = { allowed_networks: ['192.168.165.0/24'], denied_domains: ['example.com'], cache_size_mb: 64, cache_dir: cacheDir };

    it('writes squid.conf and the cache folder, then converges (second run is a noop)', async () => {
      const first = await applyLocal(squid, raw);
      expect(first.changed, JSON.stringify(first)).to.equal(true);
      const changes = first.changed ? first.changes : [];
      expect(changes).to.include(`create cache folder ${cacheDir}`);
      expect(changes.some((c) => c.startsWith(`update ${SQUID_CONF}`) || c.startsWith(`create ${SQUID_CONF}`))).to.equal(true);
      expect(readFileSync(SQUID_CONF, 'utf8')).to.equal(renderSquidConf(squidParams.parse(raw)));
      const st = statSync(cacheDir);
      expect(st.isDirectory()).to.equal(true);
      expect(execFileSync('stat', ['-c', '%U:%G %a', cacheDir], { encoding: 'utf8' }).trim()).to.equal('proxy:proxy 750');

      const second = await planLocal(squid, raw);
      expect(second.changed, JSON.stringify(second)).to.equal(false);
    });

    it('a changed parameter changes only the file (and plans a reload)', async () => {
      const plan = await planLocal(squid, { ...raw, denied_domains: ['example.com', 'example.org'] });
      expect(plan.changed).to.equal(true);
      if (!plan.changed) return;
      expect(plan.changes).to.deep.equal([`update ${SQUID_CONF}`, 'restart squid if it is running (the new disk cache needs its folders)']);
      expect(plan.diffs?.[0]?.after).to.include('acl denied_domains dstdomain .example.com .example.org');
    });
  });
});
