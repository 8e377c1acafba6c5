/**
 * `iptablesChain(chain)`: the rules of one chain of the IPv4 filter table as `iptables -S
 * CHAIN` prints them (the `-A ...` lines, in order), whether the chain exists, whether the
 * FORWARD chain jumps to it (for DOCKER-USER: whether dockerd has wired it up), and which
 * iptables variant is installed (nf_tables or legacy). Key `iptables:filter:CHAIN`.
 *
 * A missing chain is told apart from other errors by listing the whole table: iptables-nft
 * reports a missing chain with varying messages.
 */
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { factFailed, outputLines } from './util.js';

export type IptablesChainFact =
  | { available: false }
  | {
      available: true;
      /** `iptables -V`, e.g. "iptables v1.8.9 (nf_tables)". */
      version: string;
      exists: boolean;
      /** The chain's rules as printed by `iptables -S CHAIN`, without the `-N CHAIN` line. */
      rules: string[];
      /** The FORWARD chain has a rule jumping to this chain. */
      referencedFromForward: boolean;
    };

export const iptablesChainKey = (chain: string): string => `iptables:filter:${chain}`;

export function iptablesChain(chain: string): Fact<IptablesChainFact> {
  const command =
    'PATH="$PATH:/usr/sbin:/sbin"; ' +
    "if ! command -v iptables >/dev/null 2>&1; then echo 'iptables:missing'; else " +
    'echo "version:$(iptables -V 2>/dev/null)"; ' +
    sh`if out=$(iptables -w -S ${chain} 2>&1); then echo chain:present; printf '%s\n' "$out"; ` +
    sh`elif all=$(iptables -w -S 2>&1); then if printf '%s\n' "$all" | grep -qx -- ${`-N ${chain}`}; then echo chain:error; printf '%s\n' "$out" >&2; else echo chain:absent; fi; ` +
    `else echo chain:error; printf '%s\\n' "$all" >&2; fi; ` +
    sh`if iptables -w -S FORWARD 2>/dev/null | grep -q -- ${`-j ${chain}`}; then echo jump:yes; else echo jump:no; fi; fi`;
  return fact(iptablesChainKey(chain), command, (out) => parseIptablesChain(chain, out));
}

export function parseIptablesChain(chain: string, out: ExecResult): IptablesChainFact {
  const lines = outputLines(out);
  if (lines[0] === 'iptables:missing') return { available: false };
  const version = lines.find((l) => l.startsWith('version:'))?.slice(8) ?? '';
  const state = lines.find((l) => l.startsWith('chain:'))?.slice(6);
  if (state !== 'present' && state !== 'absent') throw factFailed(`iptables chain ${chain}`, out);
  const rules = state === 'present' ? lines.filter((l) => l.startsWith(`-A ${chain} `)).map((l) => l.trim().replace(/\s+/g, ' ')) : [];
  return { available: true, version, exists: state === 'present', rules, referencedFromForward: lines.includes('jump:yes') };
}
