/**
 * The atomic, conditional `put` (src/engine/apply.ts) against the real local shell: a put
 * carries the state its plan was made from (sha256 or absent) and refuses to replace a file
 * that changed since, leaving it and its folder as they were.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../src/connection/local.js';
import { runStep, StepFailed, WriteConflict } from '../../src/engine/apply.js';
import type { PutStep } from '../../src/core/module.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('engine/apply: conditional put', () => {
  let dir: string;
  const conn = new LocalConnection('localhost');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsplay-apply-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = (path: string, content: string, expect: PutStep['expect']): PutStep => ({ kind: 'put', path, content, expect });

  it('writes when the file is still what the plan was made from', async () => {
    const f = join(dir, 'conf');
    writeFileSync(f, 'a\n');
    await runStep(put(f, 'a\nb\n', { sha256: sha('a\n') }), { conn });
    expect(readFileSync(f, 'utf8')).to.equal('a\nb\n');
  });

  it('creates a file expected absent', async () => {
    const f = join(dir, 'new');
    await runStep(put(f, 'x\n', 'absent'), { conn });
    expect(readFileSync(f, 'utf8')).to.equal('x\n');
  });

  it('refuses to replace a file that changed since the plan, and leaves no temp file', async () => {
    const f = join(dir, 'conf');
    writeFileSync(f, 'a\nadded by someone else\n');
    const err = await runStep(put(f, 'a\nb\n', { sha256: sha('a\n') }), { conn }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(WriteConflict);
    expect(err).to.be.instanceOf(StepFailed);
    expect((err as Error).message).to.include(`${f} changed on the host`);
    expect(readFileSync(f, 'utf8')).to.equal('a\nadded by someone else\n');
    expect(readdirSync(dir)).to.deep.equal(['conf']);
  });

  it('refuses to replace a file that appeared since the plan said absent', async () => {
    const f = join(dir, 'new');
    writeFileSync(f, 'theirs\n');
    const err = await runStep(put(f, 'mine\n', 'absent'), { conn }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(WriteConflict);
    expect(readFileSync(f, 'utf8')).to.equal('theirs\n');
  });

  it('refuses when the file was removed since the plan read it', async () => {
    const f = join(dir, 'gone');
    const err = await runStep(put(f, 'mine\n', { sha256: sha('old\n') }), { conn }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(WriteConflict);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('a backup is only kept when the file is replaced', async () => {
    const f = join(dir, 'conf');
    writeFileSync(f, 'changed\n');
    const err = await runStep({ ...put(f, 'new\n', { sha256: sha('old\n') }), backup: true }, { conn }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(WriteConflict);
    expect(readdirSync(dir)).to.deep.equal(['conf']);
  });

  it('of concurrent puts planned from the same content, exactly one lands', async () => {
    const f = join(dir, 'conf');
    for (let round = 0; round < 15; round++) {
      writeFileSync(f, 'base\n');
      const outcomes = await Promise.all(
        ['one', 'two', 'three'].map((w) =>
          runStep(put(f, `base\n${w}\n`, { sha256: sha('base\n') }), { conn }).then(
            () => 'written',
            (e: unknown) => (e instanceof WriteConflict ? 'conflict' : String(e)),
          ),
        ),
      );
      expect(outcomes.filter((o) => o === 'written'), `round ${round}: ${outcomes.join(', ')}`).to.have.length(1);
      expect(outcomes.filter((o) => o === 'conflict')).to.have.length(2);
    }
  });
});
