/**
 * Batching facts: several read-only fact commands run as ONE exec, their outputs separated by
 * markers that carry a random nonce (so a host's output cannot forge a marker).
 */
import { randomBytes } from 'node:crypto';
import type { ExecResult, Fact } from '../core/module.js';

export interface FactBatch {
  script: string;
  split(out: ExecResult): ExecResult[];
}

export function batchFacts(facts: Fact[]): FactBatch {
  const nonce = randomBytes(8).toString('hex');
  const marker = `@@tsplay-fact-${nonce}@@`;
  const script = facts
    .map((f, i) => `( ${f.command}\n) </dev/null; printf '\\n${marker} %d %d\\n' ${i} $?`)
    .join('\n');
  return {
    script,
    split(out: ExecResult): ExecResult[] {
      const results: ExecResult[] = [];
      let rest = out.stdout;
      for (let i = 0; i < facts.length; i++) {
        const re = new RegExp(`\\n${marker} ${i} (\\d+)\\n`);
        const m = re.exec(rest);
        if (!m) {
          // The batch died before this fact: report the batch's own exit and stderr.
          results.push({ stdout: rest, stderr: out.stderr, code: out.code || 255 });
          rest = '';
          continue;
        }
        results.push({ stdout: rest.slice(0, m.index), stderr: out.stderr, code: Number(m[1]) });
        rest = rest.slice(m.index + m[0].length);
      }
      return results;
    },
  };
}
