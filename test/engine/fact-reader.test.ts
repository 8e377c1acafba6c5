/**
 * The one fact reader (src/engine/fact-reader.ts) against the real local shell: the facts not
 * cached yet run as one exec per become user, a cached fact costs no exec, invalidate() makes
 * the next read run again (what a step on the host and a refused write rely on), only for the
 * facts the step touches (touches.ts), and the section's dropped facts are read again together.
 */
import { expect } from 'chai';
import { LocalConnection } from '../../src/connection/local.js';
import type { RunOptions } from '../../src/connection/types.js';
import { fact } from '../../src/core/module.js';
import { FactReader } from '../../src/engine/fact-reader.js';
import { overlaps, stepTouches } from '../../src/engine/touches.js';
import { fileContent } from '../../src/facts/file-content.js';
import { debPackage } from '../../src/facts/deb.js';
import { keys } from '../../src/facts/keys.js';
import fileModule from '../../src/modules/files/file.js';
import { joinExecs } from '../../src/modules/lib/steps.js';

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

  it('invalidate(touches) drops only the facts a step can have changed; without touches, all', async () => {
    const conn = new Recording('localhost');
    const reader = new FactReader();
    const e = env();
    const conf = fileContent('/etc/app.conf');
    const other = fileContent('/etc/other.conf');
    const pkg = debPackage('nginx');
    await reader.read(conn, [{ fact: conf }, { fact: other }, { fact: pkg }], e);
    reader.invalidate(stepTouches({ kind: 'put', path: '/etc/app.conf', content: 'x' }));
    expect(reader.get(conf), 'the written file').to.equal(undefined);
    expect(reader.get(other), 'another file').to.not.equal(undefined);
    expect(reader.get(pkg), 'a package').to.not.equal(undefined);
    reader.invalidate([]);
    expect(reader.get(other), 'a step that touches nothing').to.not.equal(undefined);
    // apt's steps say nothing about what they touch (a package writes files, units, users):
    // every fact is read again after them.
    reader.invalidate(stepTouches({ kind: 'exec', cmd: 'apt-get install -y nginx' }));
    expect(reader.get(other)).to.equal(undefined);
    expect(reader.get(pkg)).to.equal(undefined);
  });

  it('the expected facts a step dropped are read again with the next read, in the same exec', async () => {
    const conn = new Recording('localhost');
    const reader = new FactReader();
    const e = env();
    reader.expect([{ fact: echo('a') }, { fact: echo('b') }, { fact: echo('c') }]);
    await reader.read(conn, [{ fact: echo('a') }, { fact: echo('b') }, { fact: echo('c') }], e);
    reader.get(echo('a')); // the task that wanted a has run
    reader.invalidate(undefined);
    await reader.read(conn, [{ fact: echo('b') }], e);
    expect(conn.runs).to.have.length(2);
    expect(reader.get(echo('c'))!.stdout.trim(), 'read again with b').to.equal('c');
    expect(reader.get(echo('a')), 'no task wants a any more').to.equal(undefined);
  });

  it('touches overlap by path (the path, below it, its folders), by name, and conservatively for the rest', () => {
    const yes: Array<[string, string]> = [
      ['file:/etc/app.conf', keys.content('/etc/app.conf')],
      ['file:/etc/app', keys.stat('/etc/app/conf.d/x.conf')],
      ['file:/etc/app/x.conf', keys.stat('/etc/app')],
      ['file:/etc/app.conf', 'pathinfo:follow:sha1:/etc/app.conf'],
      ['file:/srv/x', 'tree:/srv:{"owner":"x"}'],
      ['file:/etc/app.conf', 'ufw:state'],
      ['file:/etc/passwd', keys.user('deploy')],
      ['file:/etc/systemd/system/app.service', keys.unit('app')],
      ['file:relative/path', keys.stat('/etc/hosts')],
      ['pkg:nginx', keys.pkg('nginx')],
      ['pkg:*', keys.aptCandidate('squid')],
      ['unit:nginx.service', keys.unit('nginx')],
      ['unit:nginx.service', 'docker:ports'],
      ['weird:thing', keys.content('/etc/hosts')],
    ];
    const no: Array<[string, string]> = [
      ['file:/etc/app.conf', keys.content('/etc/app.conf.bak')],
      ['file:/etc/app.conf', keys.stat('/etc/other')],
      ['file:/etc/app.conf', keys.pkg('nginx')],
      ['file:/etc/app.conf', keys.user('deploy')],
      ['pkg:nginx', keys.pkg('squid')],
      ['pkg:nginx', keys.content('/etc/hosts')],
      ['unit:nginx.service', keys.user('deploy')],
    ];
    for (const [t, k] of yes) expect(overlaps(t, k), `${t} ~ ${k}`).to.equal(true);
    for (const [t, k] of no) expect(overlaps(t, k), `${t} !~ ${k}`).to.equal(false);
  });

  it('the file module says its commands touch only its path; joined commands keep what both touch', () => {
    const st = { exists: true as const, type: 'directory' as const, mode: '0755', owner: 'root', group: 'root', uid: 0, gid: 0, size: 0 };
    const plan = fileModule.plan(fileModule.params.parse({ path: '/srv/app/', state: 'directory', mode: '0700' }), { stat: st } as never, {} as never);
    expect('steps' in plan && plan.steps?.map(stepTouches)).to.deep.equal([['file:/srv/app']]);
    const joined = joinExecs([
      { kind: 'exec', cmd: 'a', touches: ['file:/a'] },
      { kind: 'exec', cmd: 'b', touches: ['file:/b'] },
      { kind: 'exec', cmd: 'c' },
    ]);
    expect(joined.map(stepTouches)).to.deep.equal([undefined]);
    expect(joinExecs([{ kind: 'exec', cmd: 'a', touches: ['file:/a'] }, { kind: 'exec', cmd: 'b', touches: ['file:/b'] }]).map(stepTouches)).to.deep.equal([['file:/a', 'file:/b']]);
  });
});
