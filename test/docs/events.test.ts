/**
 * docs/events.md describes every event the engine sends (`--json`), every field of each, and the
 * current schema version: this fails when an event or a field is added without its description.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENTS_SCHEMA_VERSION } from '../../src/engine/events.js';

const root = join(import.meta.dirname, '..', '..');

/** The event types and their top-level fields, read from the EngineEvent union in events.ts. */
function eventsInSource(): Map<string, string[]> {
  const src = readFileSync(join(root, 'src', 'engine', 'events.ts'), 'utf8');
  const union = src.slice(src.indexOf('export type EngineEvent ='), src.indexOf(';\n\n', src.indexOf('export type EngineEvent =')));
  const out = new Map<string, string[]>();
  for (const m of union.matchAll(/\|\s*\{\s*type: '([^']+)';([^}]*(?:\{[^}]*\}[^}]*)*)\}/g)) {
    const fields = [...m[2]!.matchAll(/(?:^|;)\s*(\w+)\??:/g)].map((f) => f[1]!);
    out.set(m[1]!, fields);
  }
  return out;
}

describe('docs/events.md', () => {
  const doc = readFileSync(join(root, 'docs', 'events.md'), 'utf8');
  const events = eventsInSource();

  it('the source has the events this test reads (the reader works)', () => {
    expect([...events.keys()]).to.include.members(['run:start', 'task:host', 'recap', 'trace']);
    expect(events.get('run:start')).to.deep.equal(['playbook', 'check', 'diff']);
  });

  it('describes every event and each of its fields', () => {
    for (const [type, fields] of events) {
      const start = doc.indexOf(`### \`${type}\``);
      expect(start, `a section for ${type}`).to.be.above(-1);
      const end = doc.indexOf('\n### ', start + 1);
      const section = doc.slice(start, end === -1 ? undefined : end);
      for (const f of fields) expect(section, `${type}.${f}`).to.include(`| \`${f}\` |`);
    }
  });

  it('names the current schema version', () => {
    expect(doc).to.include(`**${EVENTS_SCHEMA_VERSION}**`);
  });

  it('documents every field of a task result', () => {
    const src = readFileSync(join(root, 'src', 'engine', 'events.ts'), 'utf8');
    const body = src.slice(src.indexOf('export interface TaskHostResult {'), src.indexOf('\n}', src.indexOf('export interface TaskHostResult {')));
    const fields = [...body.matchAll(/^\s+(\w+)\??:/gm)].map((m) => m[1]!);
    expect(fields).to.include('durationMs');
    for (const f of fields) expect(doc, f).to.include(`| \`${f}\` |`);
  });
});
