/**
 * `tsplay migrate` (issue 13): every folder in test/fixtures/migrate has an Ansible project of
 * our own in input/, what migrate must write in expected/ (byte for byte: comments and layout
 * kept) and the notes it must print in notes.txt (`file:line message`, one a line). Then the
 * output is validated: every error `tsplay validate` reports must be inside a task migrate
 * announced (no error it did not announce).
 */
import { expect } from 'chai';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { migratePath } from '../../src/migrate/migrate.js';
import { diagnosticsOf } from '../helpers/diagnostics.js';

const root = join(import.meta.dirname, '..', 'fixtures', 'migrate');

function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), base) : [join(dir, e.name).slice(base.length + 1)])).sort();
}

/** Line ranges of the tasks (and blocks) of a playbook or task file. */
function taskRanges(text: string): Array<[number, number]> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const out: Array<[number, number]> = [];
  const list = (n: unknown) => {
    if (!isSeq(n)) return;
    for (const t of n.items) {
      if (!isMap(t)) continue;
      out.push([lc.linePos(t.range![0]).line, lc.linePos(t.range![1] - 1).line]);
      for (const k of ['tasks', 'pre_tasks', 'post_tasks', 'handlers', 'block', 'rescue', 'always']) list(t.get(k, true) as Node);
    }
  };
  list(doc.contents);
  return out;
}

describe('tsplay migrate (test/fixtures/migrate)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tsplay-migrate-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const wantNotes = readFileSync(join(dir, 'notes.txt'), 'utf8').split('\n').filter(Boolean);

    it(`${name}: writes expected/ and announces notes.txt`, () => {
      const out = join(tmp, `${name}-out`);
      const r = migratePath(join(dir, 'input'), { out });
      expect(files(out)).to.deep.equal(files(join(dir, 'expected')));
      for (const f of files(out)) expect(readFileSync(join(out, f), 'utf8'), f).to.equal(readFileSync(join(dir, 'expected', f), 'utf8'));
      expect(r.notes.map((n) => `${n.file}:${n.line}: ${n.message}`)).to.deep.equal(wantNotes);
    });

    it(`${name}: in place gives the same; a second run changes nothing`, () => {
      const work = join(tmp, `${name}-inplace`);
      cpSync(join(dir, 'input'), work, { recursive: true });
      migratePath(work);
      for (const f of files(work)) expect(readFileSync(join(work, f), 'utf8'), f).to.equal(readFileSync(join(dir, 'expected', f), 'utf8'));
      const again = migratePath(work);
      expect(again.files.filter((f) => f.changed).map((f) => f.file)).to.deep.equal([]);
    });

    it(`${name}: validate reports no error migrate did not announce`, async () => {
      const got = await diagnosticsOf(join(dir, 'expected'));
      for (const line of got) {
        const m = /^(.+?):(\d+):\d+: error: /.exec(line);
        if (!m) continue;
        const [file, at] = [m[1]!, Number(m[2])];
        const text = readFileSync(join(dir, 'expected', file), 'utf8');
        const task = taskRanges(text).filter(([s, e]) => at >= s && at <= e).at(-1);
        const announced = wantNotes.some((n) => {
          const [f, l] = n.split(':');
          return f === file && (task ? Number(l) >= task[0] && Number(l) <= task[1] : Number(l) === at);
        });
        expect(announced, `not announced by migrate: ${line}`).to.equal(true);
      }
    });
  }

  it('--dry-run writes nothing', () => {
    const work = join(tmp, 'dry');
    cpSync(join(root, 'yaml11', 'input'), work, { recursive: true });
    const before = readFileSync(join(work, 'playbook.yml'), 'utf8');
    const r = migratePath(work, { dryRun: true, out: join(tmp, 'dry-out') });
    expect(r.summary.filesChanged).to.equal(1);
    expect(readFileSync(join(work, 'playbook.yml'), 'utf8')).to.equal(before);
    expect(existsSync(join(tmp, 'dry-out'))).to.equal(false);
  });
});
