/**
 * End to end: configure-squid-proxy on the shared lab. e2e1 runs the proxy for the lab's /24,
 * e2e2 is the client and also runs a throw-away web server (roles/proxy/files/verify-http.pl),
 * so every request stays between the two lab hosts. Checked for real: check mode on a fresh host
 * leaves it untouched, the first run installs and configures, the second changes nothing; an
 * allowed client gets the page, a denied domain gets 403, a client outside the allowed networks
 * gets 403, and a config squid rejects never replaces the running one. Names the test needs are
 * put in e2e1's /etc/hosts, so squid never asks a DNS server outside the lab.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_UP_TIMEOUT_MS, sharedLab, type LabRun, type SharedLab } from '../helpers/lab.js';

const PROXY = 'e2e1';
const CLIENT = 'e2e2';
const WEB_PORT = 18399;
const WEB_UNIT = 'tsplay-e2e-squid-web';
const HOSTS_MARK = 'tsplay-e2e-squid';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WEB_SCRIPT = readFileSync(join(REPO, 'roles', 'proxy', 'files', 'verify-http.pl'), 'utf8');

describe('configure-squid-proxy on the lab (end to end)', function () {
  this.timeout(5 * 60_000);
  let lab: SharedLab;
  let t0 = 0;
  let network = '';
  let clientIp = '';

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
    const proxyIp = lab.ip(PROXY);
    clientIp = lab.ip(CLIENT);
    network = `${proxyIp.split('.').slice(0, 3).join('.')}.0/24`;
    expect(clientIp.split('.').slice(0, 3).join('.'), 'both lab hosts are in one /24').to.equal(proxyIp.split('.').slice(0, 3).join('.'));
    await reset();
    // The test's names, on the proxy (squid reads /etc/hosts when it starts). /etc/hosts is a
    // bind mount in the lab containers: rewrite it in place, never rename over it.
    await sh(PROXY, `echo '${clientIp} web.e2e.test blocked.e2e.test # ${HOSTS_MARK}' >> /etc/hosts`);
    await sh(CLIENT, `cat > /tmp/${WEB_UNIT}.pl`, WEB_SCRIPT);
    await sh(CLIENT, `systemd-run --quiet --unit ${WEB_UNIT} --collect /usr/bin/perl /tmp/${WEB_UNIT}.pl ${clientIp} ${WEB_PORT} 1800`);
  });

  after(async () => {
    await reset();
    console.log(`      [squid: ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });

  /** Squid, its files and the test's fixtures gone from both hosts. */
  async function reset(): Promise<void> {
    await lab.sh(
      PROXY,
      'systemctl stop squid >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q squid squid-common squid-langpack >/dev/null 2>&1; ' +
        'DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -q >/dev/null 2>&1; rm -rf /etc/squid /var/log/squid /var/spool/squid; ' +
        `grep -v '# ${HOSTS_MARK}$' /etc/hosts > /tmp/hosts.e2e; cat /tmp/hosts.e2e > /etc/hosts; rm -f /tmp/hosts.e2e`,
    );
    await lab.sh(CLIENT, `systemctl stop ${WEB_UNIT} >/dev/null 2>&1; rm -f /tmp/${WEB_UNIT}.pl`);
  }

  /** Runs a shell command on a host (stdin optional); fails the test when it fails. */
  async function sh(host: string, cmd: string, input?: string): Promise<string> {
    const r = await lab.sh(host, cmd, { input });
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stderr}`);
    return r.stdout;
  }

  /** `curl` through the proxy from `from`: "HTTP_CODE BODY". */
  async function viaProxy(from: string, url: string, proxy = `http://${PROXY}:3128`): Promise<string> {
    const r = await lab.sh(from, `curl -sS --max-time 20 -w ' %{http_code}' -x ${proxy} ${url}`);
    if (r.code !== 0) throw new Error(`curl ${url} from ${from}: exit ${r.code}: ${r.stderr}`);
    const code = r.stdout.slice(-3);
    return code === '200' ? `200 ${r.stdout.slice(0, -4)}` : code;
  }

  /**
   * `viaProxy` until it answers `expected` (10 s at most): a reload (`squid -k reconfigure`)
   * takes effect shortly after systemctl returns, and squid refuses connections meanwhile.
   */
  async function answers(from: string, url: string, expected: string, proxy?: string): Promise<string> {
    let got = '';
    for (let i = 0; i < 20; i++) {
      // While it reconfigures, squid closes its listening socket for a moment (longer on a busy
      // machine): a refused connection then means "not yet", like the old answer does.
      try {
        got = await viaProxy(from, url, proxy);
      } catch (e) {
        if (!/exit 7:/.test((e as Error).message) || i === 19) throw e;
        got = 'refused';
      }
      if (got === expected) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return got;
  }

  /** squid's access log once it has a line matching `re` (its log daemon writes with a delay). */
  async function logged(re: RegExp): Promise<string> {
    let log = '';
    for (let i = 0; i < 20 && !re.test(log); i++) {
      if (i) await new Promise((r) => setTimeout(r, 500));
      log = await sh(PROXY, 'cat /var/log/squid/access.log');
    }
    return log;
  }

  const page = () => `http://${clientIp}:${WEB_PORT}/`;
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

  function playbook(params: Record<string, unknown> = {}): string {
    const all = { allowed_networks: [network], denied_domains: ['blocked.e2e.test'], ...params };
    return `
- hosts: ${PROXY}
  gather_facts: false
  tasks:
    - name: squid proxy
      configure-squid-proxy: ${JSON.stringify(all)}
    - name: squid runs
      service: {name: squid, state: started, enabled: true}
`;
  }

  const statuses = (r: LabRun) => ({ proxy: r.status('squid proxy')[PROXY], service: r.status('squid runs')[PROXY] });
  const failures = (r: LabRun) =>
    r.events.flatMap((e) => (e.type === 'task:host' && e.result.status === 'failed' ? [`${e.result.msg ?? ''} ${JSON.stringify(e.result.failure ?? {})}`] : []));
  const proxyState = () =>
    sh(
      PROXY,
      "dpkg-query -W -f '${Package} ${Status}\\n' 'squid*' 2>/dev/null || true; ls -la /etc/squid /var/spool/squid /var/log/squid 2>&1 || true; " +
        'systemctl list-unit-files --no-legend squid.service || true; ss -ltn',
    );
  const confHash = () => sh(PROXY, 'sha256sum /etc/squid/squid.conf');

  it('check mode on a fresh host reports the install, the config and the service, and changes nothing', async () => {
    expect(await proxyState()).to.not.match(/install ok installed/);
    const before = await proxyState();
    const check = await lab.run(playbook(), { check: true, diff: true });
    expect(failures(check)).to.deep.equal([]);
    expect(statuses(check)).to.deep.equal({ proxy: 'changed', service: 'changed' });
    const proxy = check.result('squid proxy', PROXY);
    expect(proxy.changes?.[0]).to.match(/^(update the apt cache|install squid)/);
    expect(proxy.changes).to.include('install squid');
    expect(proxy.changes?.join('\n')).to.match(/\/etc\/squid\/squid\.conf/);
    const diff = proxy.diffs?.find((d) => d.path === '/etc/squid/squid.conf');
    expect(diff?.after).to.include(`acl localnet src ${network}`);
    expect(diff?.after).to.include('acl denied_domains dstdomain .blocked.e2e.test');
    expect(check.result('squid runs', PROXY).changes?.join('\n')).to.match(/pending: squid\.service does not exist yet/);
    expect(await proxyState(), 'check mode left the proxy host untouched').to.equal(before);
  });

  it('the first run installs and configures squid, the second changes nothing', async () => {
    const first = await lab.run(playbook());
    expect(failures(first)).to.deep.equal([]);
    expect(first.status('squid proxy')).to.deep.equal({ [PROXY]: 'changed' });
    expect(first.result('squid proxy', PROXY).changes).to.include('install squid');
    expect(await sh(PROXY, 'systemctl is-active squid; systemctl is-enabled squid')).to.equal('active\nenabled\n');
    expect(await sh(PROXY, 'cat /etc/squid/squid.conf')).to.include(`acl localnet src ${network}\n`);
    expect((await lab.sh(PROXY, 'squid -k parse')).code, 'squid -k parse').to.equal(0);

    const second = await lab.run(playbook());
    expect(failures(second)).to.deep.equal([]);
    expect(statuses(second)).to.deep.equal({ proxy: 'ok', service: 'ok' });
    expect(second.summary.changed).to.equal(false);
    expect(second.summary.hosts[PROXY]).to.include({ changed: 0, failed: 0 });
    expect(second.result('squid proxy', PROXY).msg).to.match(/squid is installed and \/etc\/squid\/squid\.conf is up to date/);
  });

  it('a client in the allowed network gets the page through the proxy', async () => {
    expect(await viaProxy(CLIENT, page())).to.equal('200 proxy verify ok\n');
    expect(await viaProxy(CLIENT, `http://web.e2e.test:${WEB_PORT}/`), 'by a name from /etc/hosts').to.equal('200 proxy verify ok\n');
    const allowed = new RegExp(`${esc(clientIp)} TCP_MISS/200 .* GET ${esc(page())}`);
    expect(await logged(allowed)).to.match(allowed);
  });

  it('a denied domain gets 403, though the same server answers by another name', async () => {
    expect(await viaProxy(CLIENT, `http://blocked.e2e.test:${WEB_PORT}/`)).to.equal('403');
    expect(await viaProxy(CLIENT, `http://sub.blocked.e2e.test:${WEB_PORT}/`), 'subdomains too').to.equal('403');
    const denied = /TCP_DENIED\/403 .* GET http:\/\/blocked\.e2e\.test:18399\//;
    expect(await logged(denied)).to.match(denied);
    expect(await viaProxy(CLIENT, `http://web.e2e.test:${WEB_PORT}/`)).to.equal('200 proxy verify ok\n');
  });

  it('a client outside the allowed networks is refused; widening the networks again lets it in', async () => {
    const onlyProxy = playbook({ allowed_networks: [`${lab.ip(PROXY)}/32`] });
    const narrowed = await lab.run(onlyProxy);
    expect(failures(narrowed)).to.deep.equal([]);
    expect(narrowed.result('squid proxy', PROXY).changes).to.deep.equal(['update /etc/squid/squid.conf', 'reload squid if it is running']);
    expect(await answers(CLIENT, page(), '403')).to.equal('403');
    const refused = new RegExp(`${esc(clientIp)} TCP_DENIED/403 .* GET ${esc(page())}`);
    expect(await logged(refused)).to.match(refused);
    // The proxy host's own LAN address is still allowed (not as localhost: as the /32).
    expect(await viaProxy(PROXY, page(), `http://${lab.ip(PROXY)}:3128`)).to.equal('200 proxy verify ok\n');

    const widened = await lab.run(playbook());
    expect(widened.status('squid proxy')).to.deep.equal({ [PROXY]: 'changed' });
    expect(await answers(CLIENT, page(), '200 proxy verify ok\n')).to.equal('200 proxy verify ok\n');
  });

  it('a config squid rejects fails the task and never goes live; the old one keeps serving', async () => {
    const good = await confHash();
    const broken = await lab.run(playbook({ extra_config: ['http_access allow no_such_acl'] }));
    expect(broken.status('squid proxy')).to.deep.equal({ [PROXY]: 'failed' });
    const failed = broken.result('squid proxy', PROXY);
    expect(failed.msg).to.match(/validation failed: \/etc\/squid\/squid\.conf/);
    expect(JSON.stringify(failed.failure)).to.match(/no_such_acl/);
    expect(broken.summary.hosts[PROXY]).to.include({ failed: 1, changed: 0 });
    expect(await confHash(), 'squid.conf is the old one').to.equal(good);
    expect(await sh(PROXY, 'ls -A /etc/squid'), 'no temp file left').to.not.match(/tsplay-.*\.tmp/);
    expect(await sh(PROXY, 'systemctl is-active squid')).to.equal('active\n');
    expect(await viaProxy(CLIENT, page())).to.equal('200 proxy verify ok\n');

    const again = await lab.run(playbook());
    expect(statuses(again), 'the good parameters are still in state').to.deep.equal({ proxy: 'ok', service: 'ok' });
  });

  it('reload: false leaves the reload to a handler, notified exactly when squid.conf was written', async () => {
    const withHandler = (denied: string[]) => `
- hosts: ${PROXY}
  gather_facts: false
  tasks:
    - name: squid proxy
      configure-squid-proxy: ${JSON.stringify({ allowed_networks: [network], denied_domains: denied, reload: false })}
      notify: reload squid
  handlers:
    - name: reload squid
      service: {name: squid, state: reloaded}
`;
    const changed = await lab.run(withHandler(['blocked.e2e.test', 'web.e2e.test']));
    expect(failures(changed)).to.deep.equal([]);
    expect(changed.result('squid proxy', PROXY).changes).to.deep.equal(['update /etc/squid/squid.conf']);
    expect(changed.status('reload squid')).to.deep.equal({ [PROXY]: 'changed' });
    expect(await answers(CLIENT, `http://web.e2e.test:${WEB_PORT}/`, '403'), 'the handler reloaded squid').to.equal('403');

    const same = await lab.run(withHandler(['blocked.e2e.test', 'web.e2e.test']));
    expect(same.status('squid proxy')).to.deep.equal({ [PROXY]: 'ok' });
    expect(same.events.some((e) => e.type === 'task:start' && e.name === 'reload squid'), 'no handler run').to.equal(false);

    expect(failures(await lab.run(playbook()))).to.deep.equal([]);
    expect(await answers(CLIENT, `http://web.e2e.test:${WEB_PORT}/`, '200 proxy verify ok\n')).to.equal('200 proxy verify ok\n');
  });
});
