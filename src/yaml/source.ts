/**
 * YAML 1.2 loading that keeps positions: every loaded file remembers its Document so that a
 * path into the data (e.g. a zod issue path) maps back to file:line:column.
 */
import { readFileSync } from 'node:fs';
import { isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type YAMLError } from 'yaml';
import { Diagnostics, UserError, type SourcePos } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { decryptVault, isVaultText, openVaultFile, VaultError } from './vault.js';

export type YamlPath = ReadonlyArray<string | number>;

const secretTag = {
  tag: '!secret',
  resolve: (str: string) => new Secret(String(str)),
  identify: (v: unknown) => v instanceof Secret,
  stringify: () => '********',
};

/** Marks the message of a `!vault` value that could not be decrypted (see parseYaml). */
const VAULT_FAILED = '\u0000vault:';

/** An Ansible `!vault |` value: decrypted with the vault passwords (vault.ts), a secret. */
const vaultTag = {
  tag: '!vault',
  resolve: (str: string, onError: (message: string) => void) => {
    try {
      return new Secret(decryptVault(String(str)));
    } catch (e) {
      if (!(e instanceof VaultError)) throw e;
      onError(VAULT_FAILED + JSON.stringify([e.describe('this !vault value'), e.hint ?? '']));
      return '';
    }
  },
  identify: () => false,
  stringify: () => '********',
};

export const YAML_OPTIONS = { version: '1.2' as const, uniqueKeys: true, customTags: [secretTag, vaultTag], merge: true };

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

/**
 * An unclosed quoted string or flow collection is only noticed where the parser gives up (often
 * the end of the file). Like PyYAML, point at where it started: the innermost quoted scalar (for
 * a missing quote) or flow collection (for a missing } or ]) that runs up to the error.
 */
function unclosedStart(doc: Document, e: YAMLError): { offset: number; what: string } | undefined {
  const off = e.pos[0];
  const quote = e.code === 'MISSING_CHAR' && /quote/.test(e.message);
  const flow = /^Flow (map|sequence)/.exec(e.message)?.[1];
  if (!quote && !flow) return undefined;
  let found: { offset: number; what: string } | undefined;
  visit(doc, {
    Node(_key, n) {
      const r = n.range;
      if (!r || r[0] >= off || r[1] < off || (found && found.offset > r[0])) return;
      if (quote && isScalar(n) && (n.type === 'QUOTE_DOUBLE' || n.type === 'QUOTE_SINGLE')) {
        found = { offset: r[0], what: `${n.type === 'QUOTE_DOUBLE' ? 'double' : 'single'}-quoted string` };
      } else if (flow && isCollection(n) && n.flow && (flow === 'map') === isMap(n)) {
        found = { offset: r[0], what: `flow ${flow} (${flow === 'map' ? '{' : '['})` };
      }
    },
  });
  return found;
}

/** The strings of a vault-encrypted file's data, each a Secret (keys and other scalars stay as they are). */
function secretStrings(v: unknown): unknown {
  if (typeof v === 'string') return new Secret(v);
  if (Array.isArray(v)) return v.map(secretStrings);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secretStrings(x)]));
  }
  return v;
}

export function parseYaml(text: string, file: string, diags?: Diagnostics): YamlFile {
  const d = diags ?? new Diagnostics();
  // A file encrypted whole: its plaintext is parsed instead (positions are in the plaintext).
  const vaulted = isVaultText(text);
  if (vaulted) {
    const plain = openVaultFile(text, file, d);
    if (plain === undefined) {
      if (!diags) d.throwIfErrors();
      return new YamlFile(file, parseDocument(''), undefined, new LineCounter());
    }
    text = plain;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lines, prettyErrors: false });
  const unclosedQuoteAt = new Set<number>();
  for (const e of doc.errors) {
    const off = e.pos?.[0] ?? 0;
    const { line, col } = lines.linePos(off);
    const vaultAt = e.message.indexOf(VAULT_FAILED);
    if (vaultAt >= 0) {
      const [msg, hint] = JSON.parse(e.message.slice(vaultAt + VAULT_FAILED.length).split('\n')[0]!) as [string, string];
      d.error(msg, { file, line, col }, hint || undefined);
      continue;
    }
    const start = unclosedStart(doc, e);
    if (start) {
      // An unclosed quote swallows the brackets after it: their errors at the same place are noise.
      if (start.what.startsWith('flow') && unclosedQuoteAt.has(off)) continue;
      if (!start.what.startsWith('flow')) unclosedQuoteAt.add(off);
      const at = off >= text.length ? 'the end of the file' : `line ${line}, column ${col}`;
      d.error(`YAML syntax: a ${start.what} starts here and is never closed (the parser gave up at ${at})`, { file, ...lines.linePos(start.offset) });
      continue;
    }
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
  let data = doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 1000 });
  // A vars file is encrypted because its values are secret: every string in it is one.
  if (vaulted && data && typeof data === 'object' && !Array.isArray(data)) data = secretStrings(data);
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
