/**
 * End to end: the reverse-proxy role (roles/reverse-proxy) on the shared lab, through the engine
 * and real SSH. e2e1 runs nginx in front of two throw-away upstreams bound to 127.0.0.1 (a perl
 * server that echoes the request); e2e2 is the outside client.
 *
 * - check mode on a fresh host lists the work and changes nothing;
 * - converged: HTTPS answers from e2e2 with the upstream's page and the forwarding headers, port
 *   80 answers 301 to https, the upstream ports and any other port are closed from outside (the
 *   upstreams listen on 127.0.0.1, ufw admits only 22, 80 and 443); second run changed=0, check
 *   mode nothing pending;
 * - a bad directive is refused by nginx -t before the file is replaced: the task fails naming
 *   nginx's error, the live file is unchanged and nginx still serves the old configuration;
 * - an upstream listening on every address, and an incomplete site list, fail before anything
 *   changes;
 * - a given certificate and key (the key as !secret) are served, the key is 0600 and appears in
 *   no output, not even with --diff; a key that is not a key is refused without being printed;
 * - certbot (no internet here) is checked as a plan: check mode on the other host lists certbot's
 *   install, the certonly request and the renewal timer, and changes nothing.
 * The suite removes what it installed (nginx, ufw, the units) so the lab's other suites find
 * the hosts as they were.
 */
import { expect } from 'chai';
import { LAB_UP_TIMEOUT_MS, roleFiles, sharedLab, type LabRun, type LabRunOptions, type SharedLab } from '../helpers/lab.js';

const FILES = roleFiles('reverse-proxy');
const HOST = 'e2e1';
const CLIENT = 'e2e2';

/** `host: task (item)` of every result with this status. */
function withStatus(r: LabRun, status: string): string[] {
  const names = new Map<number, string>();
  const out: string[] = [];
  for (const e of r.events) {
    if (e.type === 'task:start') names.set(e.id, e.name);
    else if (e.type === 'task:host' && e.result.status === status) out.push(`${e.result.host}: ${names.get(e.id)}${e.result.item ? ` (${e.result.item})` : ''}`);
  }
  return out;
}

/** The perl upstream: "upstream ok NAME" and the request it got. */
const UPSTREAM = String.raw`use strict; use warnings; use IO::Socket::INET;
my ($addr, $port, $name) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port, Listen => 16, ReuseAddr => 1) or die "listen: $!\n";
while (my $c = $s->accept) {
  my $req = ''; while (my $l = <$c>) { last if $l =~ /^\r?\n$/; $req .= $l; }
  my $body = "upstream ok $name\n$req";
  print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body"; close $c;
}
`;

const SITES = [
  { server_name: 'app.lab.test', upstream: '127.0.0.1:18081' },
  { server_name: 'api.lab.test', upstream: '127.0.0.1:18082', locations: [{ path: '/v1/', upstream: '127.0.0.1:18081' }] },
];

/** The role on e2e1 with these sites (JSON is YAML) and the firewall. */
const playbook = (sites: unknown, hosts = HOST, extra = '') => `
- hosts: ${hosts}
  become: true
  roles:
    - role: reverse-proxy
      reverse_proxy_manage_firewall: true
      reverse_proxy_sites: ${JSON.stringify(sites)}
${extra}`;

describe('role reverse-proxy on lab hosts (end to end)', function () {
  this.timeout(10 * 60_000);
  let lab: SharedLab;
  let t0 = 0;

  const run = (yaml: string, opts: LabRunOptions = {}) => lab.run(yaml, { ...opts, files: { ...FILES, ...(opts.files ?? {}) } });

  async function sh(host: string, cmd: string): Promise<string> {
    const r = await lab.sh(host, cmd);
    if (r.code !== 0) throw new Error(`${host}: ${cmd}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  /** An HTTP(S) request from e2e2 to e2e1 for NAME (curl -k -i), or curl's error. */
  const fetch = async (url: string, name = 'app.lab.test', curlOpts = '-k -i') => {
    const port = url.startsWith('https') ? 443 : 80;
    const r = await lab.sh(CLIENT, `curl -sS ${curlOpts} --max-time 10 --resolve ${name}:${port}:${lab.ip(HOST)} '${url.replace('NAME', name)}'`);
    return `${r.stdout}${r.stderr}`;
  };

  /** Starts a throw-away upstream on e2e1 and waits until it accepts. */
  const upstream = (name: string, addr: string, port: number) =>
    sh(
      HOST,
      `systemctl stop tsplay-e2e-rp-${name} 2>/dev/null; systemd-run --quiet --collect --unit tsplay-e2e-rp-${name} /usr/bin/perl /root/tsplay-e2e-upstream.pl ${addr} ${port} ${name} && ` +
        `for i in $(seq 50); do nc -z ${addr === '0.0.0.0' ? '127.0.0.1' : addr} ${port} && exit 0; sleep 0.1; done; exit 1`,
    );

  const reset = async () => {
    await lab.sh(HOST, 'systemctl stop tsplay-e2e-rp-app tsplay-e2e-rp-api tsplay-e2e-rp-wide 2>/dev/null; true');
    for (const h of [HOST, CLIENT]) {
      await lab.sh(
        h,
        'if command -v ufw >/dev/null; then ufw --force disable; fi; systemctl stop nginx 2>/dev/null; ' +
          'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ufw nginx nginx-common certbot >/dev/null 2>&1; ' +
          'rm -rf /etc/ufw /etc/nginx /etc/ssl/reverse-proxy /var/www/acme /usr/local/sbin/tsplay-reverse-proxy-certbot-deploy /root/given; true',
      );
    }
  };

  before(async function () {
    this.timeout(LAB_UP_TIMEOUT_MS);
    t0 = Date.now();
    lab = await sharedLab();
    await reset();
    await lab.sh(HOST, 'cat > /root/tsplay-e2e-upstream.pl', { input: UPSTREAM });
    await upstream('app', '127.0.0.1', 18081);
    await upstream('api', '127.0.0.1', 18082);
  });

  after(async function () {
    await reset();
    await lab.sh(HOST, 'rm -f /root/tsplay-e2e-upstream.pl');
    console.log(`      [reverse-proxy: ${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  });

  it('check mode on a fresh host lists the work and changes nothing', async () => {
    const t = Date.now();
    const r = await run(playbook(SITES), { check: true });
    console.log(`      [check mode, fresh host: ${((Date.now() - t) / 1000).toFixed(1)} s]`);
    expect(withStatus(r, 'failed')).to.deep.equal([]);
    const changed = withStatus(r, 'changed');
    for (const task of [
      'Install nginx and openssl (and certbot when a site uses it)',
      'Self-signed certificates (made once) (app.lab.test)',
      'HTTP redirects to HTTPS',
      'Sites (app.lab.test)',
      'Sites (api.lab.test)',
      'Firewall - SSH first, then 80 and 443 only',
    ])
      expect(changed, 'pending in check mode').to.include(`${HOST}: ${task}`);
    expect((await lab.sh(HOST, 'command -v nginx')).code, 'nginx is not installed').to.not.equal(0);
    expect((await lab.sh(HOST, 'ls /etc/ssl/reverse-proxy')).code, 'no certificate folder').to.not.equal(0);
    expect((await lab.sh(HOST, 'command -v ufw')).code, 'ufw is not installed').to.not.equal(0);
  });

  it('converges: HTTPS from the other host through nginx, 80 -> 301, nothing else open from outside', async () => {
    const t = Date.now();
    const r = await run(playbook(SITES));
    console.log(`      [first run: ${((Date.now() - t) / 1000).toFixed(1)} s]`);
    expect(withStatus(r, 'failed')).to.deep.equal([]);

    const page = await fetch('https://NAME/hello?x=1');
    expect(page).to.match(/^HTTP\/1\.1 200/);
    expect(page).to.include('upstream ok app');
    expect(page).to.include('GET /hello?x=1 HTTP/1.1');
    expect(page).to.match(/^Host: app\.lab\.test\r?$/m);
    expect(page).to.match(/^X-Forwarded-Proto: https\r?$/m);
    expect(page).to.match(new RegExp(`^X-Forwarded-For: ${lab.ip(CLIENT).replace(/\./g, '\\.')}\\r?$`, 'm'));
    expect(page).to.match(/^strict-transport-security: max-age=31536000/im);
    expect(page).to.match(/^x-frame-options: SAMEORIGIN/im);
    expect(page).to.not.match(/^server: nginx\//im);
    // The second site: / to its own upstream, /v1/ to the first one.
    expect(await fetch('https://NAME/', 'api.lab.test')).to.include('upstream ok api');
    expect(await fetch('https://NAME/v1/users', 'api.lab.test')).to.include('upstream ok app\nGET /v1/users HTTP/1.1');

    expect(await fetch('http://NAME/a/b?c=d', 'app.lab.test', "-o /dev/null -w '%{http_code} %{redirect_url}'")).to.equal('301 https://app.lab.test/a/b?c=d');
    // TLS 1.2 and 1.3 only: Debian's nginx.conf allows TLSv1 and TLSv1.1 at http level, each
    // site overrides it; a TLS 1.1 handshake (the client at security level 0, so only the
    // server can refuse) fails.
    expect(await fetch('https://NAME/', 'app.lab.test', "-k -o /dev/null -w '%{http_code}' --tlsv1.2 --tls-max 1.2")).to.equal('200');
    expect(await fetch('https://NAME/', 'app.lab.test', "-k -o /dev/null -w '%{http_code}' --tlsv1.3")).to.equal('200');
    const serverLevel = await sh(HOST, 'grep -h ssl_protocols /etc/nginx/conf.d/reverse-proxy-*.conf | sort -u');
    expect(serverLevel.trim()).to.equal('ssl_protocols TLSv1.2 TLSv1.3;');
    const tls11 = await lab.sh(CLIENT, `echo | openssl s_client -connect ${lab.ip(HOST)}:443 -servername app.lab.test -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' 2>&1`);
    expect(tls11.code, tls11.stdout).to.not.equal(0);

    // From outside only 22, 80 and 443: the upstreams listen on 127.0.0.1, and a service on every
    // address is behind ufw's default deny.
    await upstream('wide', '0.0.0.0', 18099);
    const open = async (port: number) => (await lab.sh(CLIENT, `nc -z -w 3 ${lab.ip(HOST)} ${port}`)).code === 0;
    expect(await open(443)).to.equal(true);
    expect(await open(80)).to.equal(true);
    expect(await open(22)).to.equal(true);
    expect(await open(18081), 'upstream on 127.0.0.1').to.equal(false);
    expect(await open(18099), 'a service on every address, denied by ufw').to.equal(false);
    expect((await lab.sh(HOST, 'nc -z -w 3 127.0.0.1 18099')).code, 'it does listen').to.equal(0);
    await lab.sh(HOST, 'systemctl stop tsplay-e2e-rp-wide');
    const ufw = await sh(HOST, 'ufw status');
    expect(ufw.split('\n').filter((l) => /ALLOW/.test(l) && !/\(v6\)/.test(l)).map((l) => l.split(/\s+/)[0])).to.deep.equal(['22/tcp', '80/tcp', '443/tcp']);
  });

  it('second run changes nothing and check mode has nothing pending', async () => {
    const t = Date.now();
    const again = await run(playbook(SITES));
    console.log(`      [converged run: ${((Date.now() - t) / 1000).toFixed(1)} s]`);
    expect(withStatus(again, 'failed')).to.deep.equal([]);
    expect(withStatus(again, 'changed')).to.deep.equal([]);
    const t2 = Date.now();
    const check = await run(playbook(SITES), { check: true });
    console.log(`      [check mode, converged: ${((Date.now() - t2) / 1000).toFixed(1)} s]`);
    expect(withStatus(check, 'failed')).to.deep.equal([]);
    expect(withStatus(check, 'changed')).to.deep.equal([]);
  });

  it('check mode with a changed upstream shows the change and the diff, and changes nothing', async () => {
    const before = await sh(HOST, 'sha256sum /etc/nginx/conf.d/reverse-proxy-app.lab.test.conf');
    const r = await run(playbook([{ ...SITES[0], upstream: '127.0.0.1:18082' }, SITES[1]]), { check: true, diff: true });
    expect(withStatus(r, 'failed')).to.deep.equal([]);
    expect(withStatus(r, 'changed')).to.include.members([`${HOST}: Sites (app.lab.test)`, `${HOST}: reverse-proxy reload nginx service`]);
    expect(JSON.stringify(r.results('Sites').flatMap((x) => x.diffs ?? []))).to.include('proxy_pass http://127.0.0.1:18082;');
    expect(await sh(HOST, 'sha256sum /etc/nginx/conf.d/reverse-proxy-app.lab.test.conf')).to.equal(before);
    expect(await fetch('https://NAME/')).to.include('upstream ok app');
  });

  it('a bad directive is refused by nginx -t: the task fails, the live file and the served site stay', async () => {
    const before = await sh(HOST, 'sha256sum /etc/nginx/conf.d/reverse-proxy-app.lab.test.conf');
    const pid = (await sh(HOST, 'cat /run/nginx.pid')).trim();
    const r = await run(playbook([{ ...SITES[0], upstream: '127.0.0.1:18082', directives: ['proxy_bogus_directive on'] }, SITES[1]]));
    expect(withStatus(r, 'failed')).to.deep.equal([`${HOST}: Sites (app.lab.test)`]);
    const failed = r.results('Sites').find((x) => x.status === 'failed')!;
    expect(`${failed.msg} ${(failed.failure?.stderrTail ?? []).join('\n')}`).to.include('unknown directive "proxy_bogus_directive"');
    // Nothing of it reached nginx: same file, nginx -t clean, no reload, the old upstream served.
    expect(await sh(HOST, 'sha256sum /etc/nginx/conf.d/reverse-proxy-app.lab.test.conf')).to.equal(before);
    expect(await sh(HOST, 'grep -c proxy_bogus_directive /etc/nginx/conf.d/*.conf || true')).to.not.match(/:[1-9]/);
    await sh(HOST, 'nginx -t');
    expect(r.events.some((e) => e.type === 'task:start' && e.handler), 'no handler ran: the play stopped for the host').to.equal(false);
    expect((await sh(HOST, 'cat /run/nginx.pid')).trim()).to.equal(pid);
    expect(await fetch('https://NAME/')).to.include('upstream ok app');
    // And the next good run is converged again.
    const again = await run(playbook(SITES));
    expect(withStatus(again, 'changed')).to.deep.equal([]);
  });

  it('refuses an upstream listening on every address, and an incomplete site list, before changing anything', async () => {
    await upstream('wide', '0.0.0.0', 18099);
    try {
      const r = await run(playbook([...SITES, { server_name: 'wide.lab.test', upstream: '127.0.0.1:18099' }]));
      expect(withStatus(r, 'failed')).to.deep.equal([`${HOST}: No upstream port listens on every address`]);
      expect(r.result('No upstream port listens on every address', HOST).msg).to.match(/0\.0\.0\.0:18099 listened on every address: bind the service to 127\.0\.0\.1/);
      expect(withStatus(r, 'changed')).to.deep.equal([]);
      expect((await lab.sh(HOST, 'ls /etc/nginx/conf.d/reverse-proxy-wide.lab.test.conf')).code).to.not.equal(0);
    } finally {
      await lab.sh(HOST, 'systemctl stop tsplay-e2e-rp-wide');
    }
    const bad = await run(playbook([{ server_name: 'x.lab.test' }, { server_name: 'y.lab.test', upstream: '0.0.0.0:80' }], HOST, '      reverse_proxy_conf_dir: /srv/nginx\n'));
    expect(withStatus(bad, 'failed')).to.deep.equal([`${HOST}: The site list is usable`]);
    const msg = bad.result('The site list is usable', HOST).msg ?? '';
    expect(msg).to.include('reverse_proxy_sites[0]: upstream is required');
    expect(msg).to.include('reverse_proxy_sites[1]: upstream 0.0.0.0:80 is an all-address binding');
    expect(msg).to.include('reverse_proxy_conf_dir /srv/nginx is not under /etc/nginx/');
    expect(withStatus(bad, 'changed')).to.deep.equal([]);
  });

  it('a given certificate and key: served, the key 0600 and never printed (even with --diff); a broken key refused unprinted', async () => {
    await sh(
      HOST,
      'mkdir -p /root/given && cd /root/given && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=given-by-test ' +
        '-addext subjectAltName=DNS:given.lab.test -keyout key.pem -out cert.pem 2>/dev/null',
    );
    const cert = await sh(HOST, 'cat /root/given/cert.pem');
    const key = await sh(HOST, 'cat /root/given/key.pem');
    const keyLine = key.split('\n')[5]!;
    const indent = (s: string) => s.trimEnd().split('\n').map((l) => `            ${l}`).join('\n');
    const given = (keyText: string) => `
- hosts: ${HOST}
  become: true
  roles:
    - role: reverse-proxy
      reverse_proxy_manage_firewall: true
      reverse_proxy_sites:
        - ${JSON.stringify(SITES[0])}
        - ${JSON.stringify(SITES[1])}
        - server_name: given.lab.test
          upstream: 127.0.0.1:18082
          tls_cert: |
${indent(cert)}
          tls_key: !secret |
${indent(keyText)}
`;
    const r = await run(given(key), { diff: true });
    expect(withStatus(r, 'failed')).to.deep.equal([]);
    expect(withStatus(r, 'changed')).to.include.members([`${HOST}: Given certificates (given.lab.test)`, `${HOST}: Given private keys ((hidden))`]);
    expect(JSON.stringify(r.events), 'the key is in no event').to.not.include(keyLine);
    expect(await sh(HOST, 'stat -c "%a %U" /etc/ssl/reverse-proxy/given.lab.test.key')).to.equal('600 root\n');
    const served = await fetch('https://NAME/', 'given.lab.test', '-k -v -o /dev/null');
    expect(served).to.match(/subject: CN=given-by-test/);
    const again = await run(given(key), { diff: true });
    expect(withStatus(again, 'changed')).to.deep.equal([]);

    const broken = '-----BEGIN PRIVATE KEY-----\nbm90LWEta2V5LXNlY3JldC1tYXJrZXI=\n-----END PRIVATE KEY-----\n';
    const b = await run(given(broken), { diff: true });
    expect(withStatus(b, 'failed')).to.deep.equal([`${HOST}: Given private keys ((hidden))`]);
    expect(JSON.stringify(b.events)).to.not.include('bm90LWEta2V5LXNlY3JldC1tYXJrZXI');
    expect(await sh(HOST, 'cmp /root/given/key.pem /etc/ssl/reverse-proxy/given.lab.test.key && echo same')).to.equal('same\n');
  });

  it('certbot as a plan (no internet here): check mode lists certbot, the certonly request and the renewal timer, changes nothing', async () => {
    const sites = [{ server_name: 'www.tsplay-lab.net', upstream: '127.0.0.1:18081' }];
    const r = await run(playbook(sites, CLIENT, '      reverse_proxy_certbot_email: admin@tsplay-lab.net\n'), { check: true, diff: true });
    expect(withStatus(r, 'failed')).to.deep.equal([]);
    expect(r.result('Install nginx and openssl (and certbot when a site uses it)', CLIENT).changes?.join(' ')).to.match(/install .*certbot/);
    const request = r.result("Certificates from Let's Encrypt (requested once; certbot.timer renews them)", CLIENT);
    expect(request.status).to.equal('changed');
    expect(request.changes?.join(' ')).to.include("certbot certonly --non-interactive --agree-tos --no-eff-email --email 'admin@tsplay-lab.net' --webroot -w '/var/www/acme' --cert-name 'www.tsplay-lab.net'");
    expect(r.status('certbot.timer renews the certificates')).to.deep.equal({ [CLIENT]: 'changed' });
    expect(JSON.stringify(r.results('HTTP redirects to HTTPS').flatMap((x) => x.diffs ?? []))).to.include('location /.well-known/acme-challenge/');
    expect(r.status('Self-signed certificates (made once)')).to.deep.equal({ [CLIENT]: 'changed' });
    // Renewals copy the certificate where nginx reads it, then nginx -t, then the reload.
    const hook = r.result("certbot's deploy hook (certificate to nginx, nginx -t, reload)", CLIENT).diffs?.[0]?.after ?? '';
    expect(hook).to.include('install -m 0600 -o root -g root "$RENEWED_LINEAGE/privkey.pem"');
    expect(hook).to.include('nginx -t -q\nsystemctl reload nginx\n');
    expect((await lab.sh(CLIENT, 'command -v certbot || command -v nginx')).code, 'nothing installed').to.not.equal(0);
  });
});
