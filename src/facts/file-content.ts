/**
 * `fileContent(path)`: whether a regular file exists, its size and sha256, and its content
 * (sent as base64, so any byte survives) when it is smaller than 1 MiB. Follows links.
 * `content` holds the text when it is valid UTF-8; otherwise `binary` is set.
 */
import { createHash } from 'node:crypto';
import { fact, type ExecResult, type Fact } from '../core/module.js';
import { sh } from '../core/quote.js';
import { keys } from './keys.js';
import { factFailed, outputLines } from './util.js';

/** Files at least this large are hashed but not fetched. */
export const CONTENT_LIMIT = 1024 * 1024;

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
  return fact(keys.content(path), command, (out) => parseFileContent(path, out));
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
