/**
 * Renders /etc/squid/squid.conf from configure-squid-proxy's parameters: a pure function, run
 * on the controller. The rule order follows Debian's shipped squid.conf: unsafe ports and
 * non-SSL CONNECT are refused first, then the cache manager, then denied domains, then the
 * allowed networks, and `http_access deny all` is always the last access rule.
 *
 * `CONNECT`, `localhost`, `manager`, `to_localhost` and `all` are ACLs squid predefines.
 */
import { PORT_NAMES, domainPattern, type SquidParams } from './squid-params.js';

export const SQUID_CONF = '/etc/squid/squid.conf';
export const SQUID_USER = 'proxy';

/** Debian's refresh patterns (how long objects without expiry headers stay fresh). */
const REFRESH_PATTERNS = [
  'refresh_pattern ^ftp:\t\t1440\t20%\t10080',
  'refresh_pattern -i (/cgi-bin/|\\?) 0\t0%\t0',
  'refresh_pattern .\t\t0\t20%\t4320',
];

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

function portAcl(name: string, ports: Array<number | string>): string[] {
  return unique(ports.map(String)).map((p) => `acl ${name} port ${p}${PORT_NAMES[p] ? `\t# ${PORT_NAMES[p]}` : ''}`);
}

function listenSpec(p: SquidParams): string {
  if (!p.listen_address) return String(p.http_port);
  return p.listen_address.includes(':') ? `[${p.listen_address}]:${p.http_port}` : `${p.listen_address}:${p.http_port}`;
}

export function renderSquidConf(p: SquidParams): string {
  const lines: string[] = [
    '# Managed by tsplay (configure-squid-proxy): local changes are overwritten.',
    '',
    `http_port ${listenSpec(p)}`,
  ];
  if (p.visible_hostname) lines.push(`visible_hostname ${p.visible_hostname}`);

  lines.push('', '# Networks allowed to use the proxy');
  for (const net of unique(p.allowed_networks)) lines.push(`acl localnet src ${net}`);
  lines.push('', '# Ports clients may reach, and ports they may tunnel to (CONNECT)');
  lines.push(...portAcl('SSL_ports', p.ssl_ports), ...portAcl('Safe_ports', p.safe_ports));
  if (p.denied_domains.length) {
    lines.push('', '# Destinations refused for everyone (a leading dot includes subdomains)');
    lines.push(`acl denied_domains dstdomain ${p.denied_domains.map(domainPattern).join(' ')}`);
  }

  lines.push('', '# Access rules: the first match wins');
  lines.push('http_access deny !Safe_ports', 'http_access deny CONNECT !SSL_ports');
  lines.push('http_access allow localhost manager', 'http_access deny manager');
  if (p.deny_to_localhost) lines.push('http_access deny to_localhost');
  if (p.denied_domains.length) lines.push('http_access deny denied_domains');
  if (p.include_conf_d) lines.push('include /etc/squid/conf.d/*.conf');
  if (p.extra_config.length) lines.push('', '# Extra configuration', ...p.extra_config, '');
  lines.push('http_access allow localnet');
  if (p.allow_localhost) lines.push('http_access allow localhost');
  lines.push('http_access deny all');

  lines.push('', '# Cache');
  if (p.cache_size_mb > 0) lines.push(`cache_dir ufs ${p.cache_dir} ${p.cache_size_mb} 16 256`);
  else lines.push('# no disk cache: objects are cached in memory only');
  if (p.cache_mem_mb !== undefined) lines.push(`cache_mem ${p.cache_mem_mb} MB`);
  lines.push('coredump_dir /var/spool/squid', ...REFRESH_PATTERNS);

  lines.push('', '# Logs (rotated by logrotate on Debian, so squid itself keeps no numbered copies)');
  lines.push(p.access_log === 'none' ? 'access_log none' : `access_log daemon:${p.access_log} squid`);
  lines.push('logfile_rotate 0');
  return lines.join('\n') + '\n';
}
