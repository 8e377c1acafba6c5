/**
 * Parameters of configure-squid-proxy. Everything that ends up in squid.conf is checked here,
 * at validation time: networks are CIDRs without host bits, ports are 1-65535, denied domains
 * are DNS names (a name also denies its subdomains, so a name covered by another is an error),
 * paths are absolute and free of blanks, extra lines are single lines.
 */
import { z } from 'zod';
import { cidr, cidrContains, cidrError, ipAddress, isDomainName, plainAbsPath, port, portOrRange } from '../../lib/validators.js';

/** Debian's squid.conf defaults (and what the ports are for, kept as comments). */
export const DEFAULT_SAFE_PORTS: Array<number | string> = [80, 21, 443, 70, 210, '1025-65535', 280, 488, 591, 777];
export const DEFAULT_SSL_PORTS: Array<number | string> = [443];
export const PORT_NAMES: Record<string, string> = {
  '80': 'http',
  '21': 'ftp',
  '443': 'https',
  '70': 'gopher',
  '210': 'wais',
  '1025-65535': 'unregistered ports',
  '280': 'http-mgmt',
  '488': 'gss-http',
  '591': 'filemaker',
  '777': 'multiling http',
};

/** "Facebook.com" and ".facebook.com" both mean the domain and its subdomains: ".facebook.com". */
export function domainPattern(name: string): string {
  return `.${name.replace(/^\./, '').toLowerCase()}`;
}

const deniedDomain = z.string().refine((v) => isDomainName(v.replace(/^\./, '')), {
  error: (iss) => `"${String(iss.input)}" is not a domain name (letters, digits and inner dashes per label, e.g. example.com)`,
});

/** Rejects names covered by an earlier (or later) entry: squid only warns, and the list reads wrong. */
function checkDomainOverlap(names: string[], ctx: z.RefinementCtx): void {
  const patterns = names.map(domainPattern);
  patterns.forEach((p, i) => {
    const cover = patterns.findIndex((q, j) => j !== i && (p === q ? j < i : p.endsWith(q)));
    if (cover >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['denied_domains', i],
        message:
          p === patterns[cover]
            ? `"${names[i]}" is listed twice (see item ${cover + 1})`
            : `"${names[i]}" is already denied by "${names[cover]}" (a domain denies its subdomains too): remove it`,
      });
    }
  });
}

/** squid ignores (with a warning) a network inside another one of the same ACL: say so up front. */
function checkNetworkOverlap(nets: string[], ctx: z.RefinementCtx): void {
  if (nets.some((n) => cidrError(n) !== undefined)) return;
  nets.forEach((n, i) => {
    const cover = nets.findIndex((m, j) => j !== i && (n === m ? j < i : cidrContains(m, n)));
    if (cover >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowed_networks', i],
        message: n === nets[cover] ? `"${n}" is listed twice` : `"${n}" is inside "${nets[cover]}", which already allows it: remove it`,
      });
    }
  });
}

const configLine = z.string().refine((v) => !/[\r\n]/.test(v), { message: 'one squid.conf line per item (no line breaks)' });

const logPath = z.union([z.literal('none'), plainAbsPath]);

export const squidParams = z
  .object({
    http_port: port.default(3128).describe('TCP port squid listens on for proxy clients'),
    listen_address: ipAddress
      .optional()
      .describe('Listen on this address only (e.g. the LAN address 192.168.165.1); default: all addresses'),
    allowed_networks: z
      .array(cidr)
      .min(1, { message: 'give at least one network allowed to use the proxy, e.g. [192.168.165.0/24]' })
      .describe('Client networks allowed to use the proxy (acl localnet src ...), as CIDRs or single addresses'),
    allow_localhost: z.boolean().default(true).describe('Also allow clients on the proxy host itself'),
    safe_ports: z
      .array(portOrRange)
      .min(1)
      .default(DEFAULT_SAFE_PORTS)
      .describe('Destination ports clients may reach (Safe_ports); numbers or ranges like "1025-65535". Default: Debian\'s list'),
    ssl_ports: z
      .array(portOrRange)
      .min(1)
      .default(DEFAULT_SSL_PORTS)
      .describe('Ports clients may open CONNECT tunnels (HTTPS) to (SSL_ports)'),
    denied_domains: z
      .array(deniedDomain)
      .default([])
      .describe('Destination domains refused for everyone; "example.com" also refuses its subdomains (rendered .example.com)'),
    deny_to_localhost: z
      .boolean()
      .default(true)
      .describe('Refuse requests to the proxy host\'s own loopback addresses (protects local-only web services)'),
    cache_size_mb: z
      .number()
      .int()
      .min(0)
      .max(10_000_000)
      .default(0)
      .describe('Disk cache size in MB (cache_dir ufs); 0: no disk cache, objects are kept in memory only'),
    cache_dir: plainAbsPath.default('/var/spool/squid').describe('Folder of the disk cache (created owned by proxy when missing)'),
    cache_mem_mb: z.number().int().min(0).optional().describe('Memory cache size in MB (cache_mem); default: squid\'s (256 MB)'),
    access_log: logPath
      .default('/var/log/squid/access.log')
      .describe('Access log file (its folder must exist and be writable by the proxy user), or "none" to log nothing'),
    visible_hostname: z
      .string()
      .refine(isDomainName, { message: 'visible_hostname must be a host name' })
      .optional()
      .describe('Host name squid shows in error pages and Via headers'),
    include_conf_d: z
      .boolean()
      .default(false)
      .describe('Also read /etc/squid/conf.d/*.conf (Debian\'s drop-in folder) before the allow rules'),
    extra_config: z
      .array(configLine)
      .default([])
      .describe('Extra squid.conf lines, placed after the deny rules and before "http_access allow localnet" (checked by squid -k parse)'),
    reload: z
      .boolean()
      .default(true)
      .describe('Reload squid (restart when a new disk cache needs its folders) after squid.conf changed, if it is running; false: leave that to a handler'),
  })
  .superRefine((p, ctx) => {
    checkNetworkOverlap(p.allowed_networks, ctx);
    checkDomainOverlap(p.denied_domains, ctx);
  });

export type SquidParams = z.output<typeof squidParams>;
