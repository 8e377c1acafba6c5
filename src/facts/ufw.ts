/**
 * `ufwState()`: ufw's configuration as ufw itself stores it, key `ufw:state`.
 *
 * Why files and not `ufw status verbose`: the status output only lists rules while the
 * firewall is active (an installed but inactive ufw says "Status: inactive" and nothing else),
 * it is a human table that truncates and merges columns, and it is translated (gettext).
 * ufw keeps every rule as a machine-readable line in /etc/ufw/user.rules and user6.rules:
 *
 *   ### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368
 *                 action proto dport dst sport src [dapp sapp] direction[_iface]
 *
 * which ufw parses back itself on every start, so they are exact and stable across versions.
 * Policies come from /etc/default/ufw (DEFAULT_*_POLICY, IPV6) and the enabled flag and log
 * level from /etc/ufw/ufw.conf. Whether the rules are loaded in the kernel right now is
 * checked the way `ufw status` does it: the chain `ufw-user-input` exists.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { outputLines } from './util.js';

export type UfwAction = 'allow' | 'deny' | 'reject' | 'limit';
export type UfwPolicy = 'allow' | 'deny' | 'reject';

/** One ufw rule for one IP family, exactly as a `### tuple ###` line describes it. */
export interface UfwRule {
  action: UfwAction;
  /** '' (no logging), 'log' or 'log-all'. */
  log: '' | 'log' | 'log-all';
  /** A `ufw route` rule (FORWARD chain). */
  route: boolean;
  direction: 'in' | 'out';
  interfaceIn: string;
  interfaceOut: string;
  /** tcp, udp, any (or another protocol ufw knows, e.g. esp). */
  proto: string;
  /** `any`, `22`, `6000:6007`, `80,443`. */
  dport: string;
  /** Normalized address; `0.0.0.0/0` or `::/0` mean anywhere. */
  dst: string;
  sport: string;
  src: string;
  /** Application profile names (e.g. `OpenSSH`), '' when none. */
  dapp: string;
  sapp: string;
  /** Decoded comment text, '' when none. */
  comment: string;
  v6: boolean;
}

export interface UfwStateFact {
  /** The ufw program is on PATH. */
  installed: boolean;
  /** /etc/default/ufw or /etc/ufw/ufw.conf exists (false: take ufw's package defaults). */
  configured: boolean;
  /** ENABLED=yes in /etc/ufw/ufw.conf: started at boot. */
  enabled: boolean;
  /** The rules are loaded in the kernel; null when that could not be checked (no iptables, not root). */
  active: boolean | null;
  /** LOGLEVEL: off, low, medium, high, full ('' when missing). */
  logLevel: string;
  /** IPV6=yes in /etc/default/ufw: rules apply to IPv6 too (user6.rules). */
  ipv6: boolean;
  policies: { incoming: UfwPolicy | ''; outgoing: UfwPolicy | ''; routed: UfwPolicy | '' };
  /** IPv4 rules (user.rules) then IPv6 rules (user6.rules), each in file order. */
  rules: UfwRule[];
  /** Tuple lines that could not be read (ufw skips them too). */
  skipped: string[];
}

export const UFW_FILES = {
  conf: '/etc/ufw/ufw.conf',
  defaults: '/etc/default/ufw',
  rules: '/etc/ufw/user.rules',
  rules6: '/etc/ufw/user6.rules',
} as const;

/** The key of ufwState(); a check-mode `assume` under this key replaces the probe. */
export const ufwStateKey = (): string => 'ufw:state';

const COMMAND = [
  // ufw and iptables live in /usr/sbin, which a non-root PATH may lack.
  'PATH="$PATH:/usr/sbin:/sbin"',
  "if command -v ufw >/dev/null 2>&1; then echo 'ufw:installed'; else echo 'ufw:missing'; fi",
  `for f in ${UFW_FILES.conf} ${UFW_FILES.defaults}; do if [ -r "$f" ]; then echo "file:$f"; grep -E '^[A-Z0-9_]+=' "$f"; fi; done`,
  `for f in ${UFW_FILES.rules} ${UFW_FILES.rules6}; do if [ -r "$f" ]; then echo "file:$f"; grep '^### tuple ###' "$f"; fi; done`,
  'if [ "$(id -u)" != 0 ] || ! command -v iptables >/dev/null 2>&1; then echo runtime:unknown; ' +
    "elif iptables -w -n -L ufw-user-input >/dev/null 2>&1; then echo runtime:active; else echo runtime:inactive; fi",
].join('; ');

export function ufwState(): Fact<UfwStateFact> {
  return fact(ufwStateKey(), COMMAND, parseUfwState);
}

const POLICIES: Record<string, UfwPolicy> = { ACCEPT: 'allow', DROP: 'deny', REJECT: 'reject' };

export function parseUfwState(out: ExecResult): UfwStateFact {
  const state: UfwStateFact = {
    installed: false,
    configured: false,
    enabled: false,
    active: null,
    logLevel: '',
    ipv6: false,
    policies: { incoming: '', outgoing: '', routed: '' },
    rules: [],
    skipped: [],
  };
  const vars: Record<string, string> = {};
  let file = '';
  for (const line of outputLines(out)) {
    if (line === 'ufw:installed' || line === 'ufw:missing') state.installed = line === 'ufw:installed';
    else if (line.startsWith('file:')) {
      file = line.slice(5);
      if (file === UFW_FILES.conf || file === UFW_FILES.defaults) state.configured = true;
    } else if (line.startsWith('runtime:')) {
      const v = line.slice(8);
      state.active = v === 'active' ? true : v === 'inactive' ? false : null;
    } else if (line.startsWith('### tuple ###')) {
      const r = parseTuple(line, file === UFW_FILES.rules6);
      if (typeof r === 'string') state.skipped.push(line);
      else state.rules.push(r);
    } else {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) vars[m[1]!] = m[2]!.trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
    }
  }
  state.enabled = (vars.ENABLED ?? '').toLowerCase() === 'yes';
  state.logLevel = (vars.LOGLEVEL ?? '').toLowerCase();
  state.ipv6 = (vars.IPV6 ?? '').toLowerCase() === 'yes';
  state.policies = {
    incoming: POLICIES[vars.DEFAULT_INPUT_POLICY ?? ''] ?? '',
    outgoing: POLICIES[vars.DEFAULT_OUTPUT_POLICY ?? ''] ?? '',
    routed: POLICIES[vars.DEFAULT_FORWARD_POLICY ?? ''] ?? '',
  };
  // user.rules first, then user6.rules, whatever order the files came in (ufw ignores user6.rules when IPv6 is off).
  state.rules = [...state.rules.filter((r) => !r.v6), ...state.rules.filter((r) => r.v6)];
  return state;
}

const ACTIONS = ['allow', 'deny', 'reject', 'limit'];

/**
 * Parses one `### tuple ###` line the way ufw's backend reads it back (6 fields from very old
 * versions, 7 with the direction, 9 with application names); an error message for a line ufw
 * would skip too.
 */
export function parseTuple(line: string, v6: boolean): UfwRule | string {
  let body = line.replace(/^### tuple ###\s*/, '');
  let comment = '';
  const c = body.indexOf(' comment=');
  if (c >= 0) {
    comment = decodeHex(body.slice(c + 9).trim());
    body = body.slice(0, c);
  }
  const f = body.trim().split(/\s+/);
  if (f.length < 6 || f.length > 9 || f.length === 8) return `bad length: ${body}`;
  let action = f[0]!;
  let route = false;
  if (action.includes(':')) {
    route = action.startsWith('route:');
    action = action.slice(action.indexOf(':') + 1);
  }
  let log: UfwRule['log'] = '';
  const u = action.indexOf('_');
  if (u >= 0) {
    const lt = action.slice(u + 1);
    if (lt !== 'log' && lt !== 'log-all') return `bad log type: ${body}`;
    log = lt;
    action = action.slice(0, u);
  }
  if (!ACTIONS.includes(action)) return `bad action: ${body}`;
  let direction: 'in' | 'out' = 'in';
  let interfaceIn = '';
  let interfaceOut = '';
  if (f.length === 7 || f.length === 9) {
    const d = f[f.length - 1]!;
    const both = /^in_([^!]+)!out_(.+)$/.exec(d);
    if (both) {
      interfaceIn = both[1]!;
      interfaceOut = both[2]!;
    } else {
      const m = /^(in|out)(?:_(.+))?$/.exec(d);
      if (!m) return `bad direction: ${body}`;
      direction = m[1] as 'in' | 'out';
      if (m[2]) {
        if (direction === 'in') interfaceIn = m[2];
        else interfaceOut = m[2];
      }
    }
  }
  const app = (s: string | undefined) => (s === undefined || s === '-' ? '' : s.replace(/%20/g, ' '));
  const anywhere = v6 ? '::/0' : '0.0.0.0/0';
  const addr = (s: string) => (s === 'any' ? anywhere : s);
  return {
    action: action as UfwAction,
    log,
    route,
    direction,
    interfaceIn,
    interfaceOut,
    proto: f[1]!,
    dport: f[2]!,
    dst: addr(f[3]!),
    sport: f[4]!,
    src: addr(f[5]!),
    dapp: f.length >= 8 ? app(f[6]) : '',
    sapp: f.length >= 8 ? app(f[7]) : '',
    comment,
    v6,
  };
}

function decodeHex(hex: string): string {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) return hex;
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** Encodes a comment as ufw stores it in a tuple line. */
export function encodeComment(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/**
 * `sshPeers()`: the addresses this host sees SSH connections coming from (key `ssh:peers`):
 * established TCP connections to a port sshd listens on (all established connections when the
 * listener's process cannot be named, e.g. socket activation). install-ufw uses it to confirm
 * the controller's address: behind NAT or a jump host, the host sees another address than the
 * controller's own socket, and a rule `from` that address would not match.
 */
export interface SshPeersFact {
  /** `ss` ran (iproute2 present). */
  known: boolean;
  /** Ports sshd listens on ([] when unknown). */
  sshdPorts: number[];
  peers: Array<{ localPort: number; address: string }>;
}

export const sshPeersKey = (): string => 'ssh:peers';

const PEERS_COMMAND = [
  'PATH="$PATH:/usr/sbin:/sbin"',
  'if command -v ss >/dev/null 2>&1; then ' +
    `ports=$(ss -Htlnp 2>/dev/null | awk '/"sshd"/ { n = split($4, a, ":"); print a[n] }' | sort -u | tr '\\n' ' '); ` +
    'echo "sshd-ports:$ports"; ' +
    `ss -Htn state established 2>/dev/null | awk -v ports=" $ports " '{ n = split($3, l, ":"); if (ports == "  " || index(ports, " " l[n] " ")) print "peer:" l[n] " " $4 }' | head -n 2000; ` +
    'else echo ss:missing; fi',
].join('; ');

export function sshPeers(): Fact<SshPeersFact> {
  return fact(sshPeersKey(), PEERS_COMMAND, parseSshPeers);
}

export function parseSshPeers(out: ExecResult): SshPeersFact {
  const lines = outputLines(out);
  if (lines.includes('ss:missing')) return { known: false, sshdPorts: [], peers: [] };
  const portsLine = lines.find((l) => l.startsWith('sshd-ports:'));
  const sshdPorts = (portsLine?.slice(11).trim().split(/\s+/) ?? []).filter((p) => /^\d+$/.test(p)).map(Number);
  const peers = lines.flatMap((l) => {
    // "peer:22 172.18.0.1:54022", "peer:22 [::ffff:172.18.0.1]:54022", "peer:22 [2001:db8::1]:50000"
    const m = /^peer:(\d+) (?:\[([^\]]+)\]|([^:\s]+)):\d+$/.exec(l);
    if (!m) return [];
    const address = (m[2] ?? m[3]!).replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').replace(/%.*$/, '');
    return [{ localPort: Number(m[1]), address }];
  });
  return { known: portsLine !== undefined, sshdPorts, peers };
}
