/**
 * The one fact reader (src/engine/fact-reader.ts) against the real local shell: the facts not
 * cached yet run as one exec per become user, a cached fact costs no exec, invalidate() makes
 * the next read run again (what a step on the host and a refused write rely on).
 */
import { expect } from 'chai';
import { LocalConnection } from '../../src/connection/local.js';
import type { RunOptions } from '../../src/connection/types.js';
import { fact } from '../../src/core/module.js';
import { FactReader } from '../../src/engine/fact-reader.js';

/** A local connection that records each exec's become user instead of running it under sudo. */
class Recording extends LocalConnection {
  readonly runs: Array<string | undefined> = [];
  override run(script: string, opts: RunOptions = {}) {
    this.runs.push(opts.become?.user);
    return super.run(script, { ...opts, become: undefined });
  }
}

const echo = (word: string) => fact(`echo:${word}`, `echo ${word}`, (o) => o.stdout.trim());

describe('engine/fact-reader', () => {
  const env = () => ({ stats: { probeExecs: 0 } });

  it('reads what is not cached in one exec per become user; a cached fact costs nothing', async () => {
    const conn = new Recording('localhost');
    const reader = new FactReader();
    const e = env();
    const root = { user: 'root' };
    await reader.read(conn, [{ fact: echo('a') }, { fact: echo('b') }, { fact: echo('a'), become: root }], e);
    expect(conn.runs).to.deep.equal([undefined, 'root']);
    expect(e.stats.probeExecs).to.equal(2);
    expect(reader.get(echo('a'))!.stdout.trim()).to.equal('a');
    expect(reader.get(echo('b'))!.stdout.trim()).to.equal('b');
    expect(reader.get(echo('b'), root), 'cached per user').to.equal(undefined);
    await reader.read(conn, [{ fact: echo('a') }, { fact: echo('b') }, { fact: echo('a'), become: root }], e);
    expect(conn.runs, 'all cached').to.have.length(2);
    await reader.read(conn, [{ fact: echo('a') }, { fact: echo('c') }], e);
    expect(conn.runs, 'only c is read').to.have.length(3);
    expect(reader.get(echo('c'))!.stdout.trim()).to.equal('c');
  });

  it('after invalidate() the next read runs again', async () => {
    const conn = new Recording('localhost');
    const reader = new FactReader();
    const e = env();
    await reader.read(conn, [{ fact: echo('a') }], e);
    reader.invalidate();
    expect(reader.get(echo('a'))).to.equal(undefined);
    await reader.read(conn, [{ fact: echo('a') }], e);
    expect(conn.runs).to.have.length(2);
    expect(e.stats.probeExecs).to.equal(2);
  });
});
