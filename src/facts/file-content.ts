/**
 * `fileContent(path)`: whether a regular file exists, its size and sha256, and its content
 * (sent as base64, so any byte survives) when it is smaller than 1 MiB. Follows links.
 * `content` holds the text when it is valid UTF-8; otherwise `binary` is set.
 */
import { createHash } from 'node:crypto';
import { BULK_CONTENT_LIMIT, fact, type BulkPath, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { isRegular, printed } from './bulk.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

/** Files at least this large are hashed but not fetched. */
export const CONTENT_LIMIT = BULK_CONTENT_LIMIT;

export type FileContentFact =
  | { exists: false }
  | { exists: true; type: 'directory' | 'other' }
  | {
      exists: true;
      type: 'file';
      size: number;
      sha256: string;
      /** UTF-8 text, when the file is smaller than CONTENT_LIMIT and is valid UTF-8. */
      content?: string;
      /** Set when the file was fetched but is not valid UTF-8. */
      binary?: true;
    };

export function fileContent(path: string): Fact<FileContentFact> {
  const command =
    sh`if [ -f ${path} ]; then ( n=$(wc -c < ${path}) && echo "file $n" && sha256sum < ${path} && ` +
    sh`if [ "$n" -lt ${CONTENT_LIMIT} ]; then base64 < ${path}; fi ); ` +
    sh`elif [ -d ${path} ]; then echo directory; elif [ -e ${path} ]; then echo other; else echo absent; fi`;
  return fact(keys.content(path), command, (out) => parseFileContent(path, out), {
    reads: [{ path, ops: ['content'] }],
    render: (get) => renderContent(path, get(path)),
  });
}

/** What the command prints, from a bulk read: `file SIZE`, `SHA  -`, base64 in lines of 76. */
function renderContent(path: string, r: BulkPath): ExecResult {
  const s = r.stat;
  if (!s) return printed('absent\n');
  if (!isRegular(s.type)) return printed(s.type === 'directory' ? 'directory\n' : 'other\n');
  const c = r.content;
  if (!c || 'error' in c) return { stdout: '', stderr: c?.error ?? `cannot read ${path}`, code: 2 };
  const size = c.bytes?.length ?? Number(s.size);
  const b64 = c.bytes?.toString('base64').replace(/.{76}/g, '$&\n').replace(/([^\n])$/, '$1\n') ?? '';
  return printed(`file ${size}\n${c.sha256}  -\n${b64}`);
}

function parseFileContent(path: string, out: ExecResult): FileContentFact {
  const lines = outputLines(out);
  const head = lines[0] ?? '';
  if (head === 'absent') return { exists: false };
  if (head === 'directory' || head === 'other') return { exists: true, type: head };
  const m = /^file (\d+)$/.exec(head);
  const sha = /^([0-9a-f]{64})\b/.exec(lines[1] ?? '');
  if (!m || !sha || out.code !== 0) throw factFailed(`the content of ${path}`, out);
  const size = Number(m[1]);
  const result: FileContentFact = { exists: true, type: 'file', size, sha256: sha[1]! };
  if (size < CONTENT_LIMIT) {
    const bytes = Buffer.from(lines.slice(2).join(''), 'base64');
    const text = decodeUtf8(bytes);
    if (text === undefined) result.binary = true;
    else result.content = text;
  }
  return result;
}

/** The text of a buffer, or undefined when it is not valid UTF-8. */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
