/**
 * YAML 1.2 loading that keeps positions: every loaded file remembers its Document so that a
 * path into the data (e.g. a zod issue path) maps back to file:line:column.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { Diagnostics, UserError, type SourcePos } from '../errors.js';
import { Secret } from '../vars/secret.js';

export type YamlPath = ReadonlyArray<string | number>;

const secretTag = {
  tag: '!secret',
  resolve: (str: string) => new Secret(String(str)),
  identify: (v: unknown) => v instanceof Secret,
  stringify: () => '********',
};

export const YAML_OPTIONS = { version: '1.2' as const, uniqueKeys: true, customTags: [secretTag], merge: true };

/** A loaded YAML file: its data and a way to find where any part of it came from. */
export class YamlFile {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly data: unknown,
    private readonly lines: LineCounter,
  ) {}

  private posOfOffset(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Position of the value at `path` (or of the nearest existing parent). */
  pos(path: YamlPath = []): SourcePos {
    return this.find(path, false);
  }

  /** Position of the key at the end of `path` (falls back to the value). */
  keyPos(path: YamlPath): SourcePos {
    return this.find(path, true);
  }

  private find(path: YamlPath, wantKey: boolean): SourcePos {
    let node: unknown = this.doc.contents;
    let best: SourcePos = { file: this.file, line: 1, col: 1 };
    const set = (n: unknown) => {
      const r = (n as Node | null)?.range;
      if (r) best = this.posOfOffset(r[0]);
    };
    set(node);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return best;
        if (last && wantKey) {
          set(pair.key);
          return best;
        }
        set(pair.key);
        node = pair.value;
        if (node) set(node);
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) return best;
        node = item;
        set(node);
      } else {
        return best;
      }
    }
    return best;
  }
}

export function parseYaml(text: string, file: string, diags?: Diagnostics): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lines, prettyErrors: false });
  const d = diags ?? new Diagnostics();
  for (const e of doc.errors) {
    const off = e.pos?.[0] ?? 0;
    const { line, col } = lines.linePos(off);
    let msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    if (e.code === 'DUPLICATE_KEY') msg = `duplicate key: ${msg.replace(/^Map keys must be unique;?\s*/, '') || 'map keys must be unique'}`;
    d.error(`YAML syntax: ${msg}`, { file, line, col });
  }
  for (const w of doc.warnings) {
    const off = w.pos?.[0] ?? 0;
    const { line, col } = lines.linePos(off);
    d.warning(`YAML: ${w.message.split('\n')[0]}`, { file, line, col });
  }
  if (!diags) d.throwIfErrors();
  const data = doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 1000 });
  return new YamlFile(file, doc, data, lines);
}

/** Reads and parses a YAML file. Syntax errors are thrown as a UserError (or collected). */
export function loadYamlFile(file: string, diags?: Diagnostics): YamlFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = err.code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${err.message}`;
    if (diags) {
      diags.error(msg);
      return new YamlFile(file, parseDocument(''), undefined, new LineCounter());
    }
    throw new UserError(msg);
  }
  return parseYaml(text, file, diags);
}
