/**
 * Batching facts: several read-only fact commands run as ONE exec, their outputs separated by
 * markers that carry a random nonce (so a host's output cannot forge a marker). The facts that
 * have a bulk form (core/module.ts) are read together by facts/bulk.ts (one `stat` for all their
 * paths, one `sha256sum` for all contents, no subshell each) and their parsers get the output
 * their own command would have printed; the others run each in its own subshell.
 */
import { randomBytes } from 'node:crypto';
import type { BulkPath, ExecResult, Fact } from '../core/module.js';
import { BulkFailed, planBulk } from '../facts/bulk.js';

export interface FactBatch {
  script: string;
  split(out: ExecResult): ExecResult[];
}

export function batchFacts(facts: Fact[]): FactBatch {
  const nonce = randomBytes(8).toString('hex');
  const marker = `@@tsplay-fact-${nonce}@@`;
  const bulkFacts = facts.filter((f) => f.bulk);
  const bulk = bulkFacts.length ? planBulk(bulkFacts.flatMap((f) => f.bulk!.reads)) : undefined;
  const own = facts.filter((f) => !f.bulk);
  const pieces = [...(bulk?.sections ?? []), ...own.map((f) => `( ${f.command}\n) </dev/null`)];
  const script = pieces.map((p, i) => `${p}; printf '\\n${marker} %d %d\\n' ${i} $?`).join('\n');
  return {
    script,
    split(out: ExecResult): ExecResult[] {
      const outs = splitOutput(out, marker, pieces.length);
      const sections = outs.slice(0, bulk?.sections.length ?? 0);
      const rest = outs.slice(sections.length);
      let get: ((path: string) => BulkPath) | undefined;
      let failed: ExecResult | undefined;
      if (bulk) {
        try {
          get = bulk.decode(sections);
        } catch (err) {
          if (!(err instanceof BulkFailed)) throw err;
          failed = { stdout: '', stderr: err.out.stderr, code: err.out.code };
        }
      }
      return facts.map((f) => (f.bulk ? (failed ?? f.bulk.render(get!)) : rest.shift()!));
    },
  };
}

/** The outputs of the batch's `n` pieces; those after the batch died get its exit and stderr. */
function splitOutput(out: ExecResult, marker: string, n: number): ExecResult[] {
  const results: ExecResult[] = [];
  const text = out.stdout;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const end = endOfPiece(text, `\n${marker} ${i} `, at);
    if (!end) {
      // The batch died before this piece: report the batch's own exit and stderr.
      results.push({ stdout: text.slice(at), stderr: out.stderr, code: out.code || 255 });
      at = text.length;
      continue;
    }
    results.push({ stdout: text.slice(at, end.index), stderr: out.stderr, code: end.code });
    at = end.next;
  }
  return results;
}

/**
 * The first `<head><digits>\n` in `text` from `from` (a piece's end line: newline, marker, piece
 * number, exit code): where it starts, the exit code and where the next piece starts. Found with
 * indexOf: a regular expression per piece and host was a hot spot of the controller (issue 12).
 */
function endOfPiece(text: string, head: string, from: number): { index: number; code: number; next: number } | undefined {
  for (let index = text.indexOf(head, from); index >= 0; index = text.indexOf(head, index + 1)) {
    let j = index + head.length;
    while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    if (j > index + head.length && text[j] === '\n') return { index, code: Number(text.slice(index + head.length, j)), next: j + 1 };
  }
  return undefined;
}
